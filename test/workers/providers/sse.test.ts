import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../../workers/providers/sse.js';

const encoder = new TextEncoder();

/** Feeds `bytes` to a fresh parser in pieces of `size` bytes and returns every event, ended. */
function parseInPieces(bytes: Uint8Array, size: number): { events: SseEvent[]; parser: SseParser } {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) events.push(...parser.push(bytes.subarray(i, i + size)));
  events.push(...parser.end());
  return { events, parser };
}

describe('SseParser', () => {
  it('dispatches one event per blank line, with the default name `message`', () => {
    const { events } = parseInPieces(encoder.encode('data: a\n\ndata: b\n\n'), 1000);
    expect(events).toEqual([
      { event: 'message', data: 'a' },
      { event: 'message', data: 'b' },
    ]);
  });

  it('gives the same events whatever the piece size (mid-line, mid-CRLF, mid-UTF-8 splits)', () => {
    const text = 'event: delta\r\ndata: {"t":"héllo wörld ✓ 😀"}\r\n\r\n: keep-alive\n\ndata: 二\rdata: 三\r\r';
    const bytes = encoder.encode(text);
    const whole = parseInPieces(bytes, bytes.length).events;
    expect(whole).toEqual([
      { event: 'delta', data: '{"t":"héllo wörld ✓ 😀"}' },
      { event: 'message', data: '二\n三' },
    ]);
    for (let size = 1; size <= 7; size++) expect(parseInPieces(bytes, size).events).toEqual(whole);
  });

  it('never shows a broken character when a 4-byte character is split across pieces', () => {
    const bytes = encoder.encode('data: 😀\n\n');
    const parser = new SseParser();
    // '😀' is bytes 6..9; split after its second byte.
    expect(parser.push(bytes.subarray(0, 8))).toEqual([]);
    expect(parser.push(bytes.subarray(8))).toEqual([{ event: 'message', data: '😀' }]);
  });

  it('counts comment lines and never returns them as events', () => {
    const { events, parser } = parseInPieces(encoder.encode(': keep-alive\n\n:ping\ndata: x\n\n'), 3);
    expect(events).toEqual([{ event: 'message', data: 'x' }]);
    expect(parser.comments).toBe(2);
  });

  it('joins multi-line data with newlines and keeps a value without the optional space', () => {
    const { events } = parseInPieces(encoder.encode('data:one\ndata:  two\ndata\n\n'), 1000);
    expect(events).toEqual([{ event: 'message', data: 'one\n two\n' }]);
  });

  it('does not dispatch an event with no data lines, and resets the name after each event', () => {
    const { events } = parseInPieces(encoder.encode('event: ping\n\nevent: x\ndata: 1\n\ndata: 2\n\n'), 1000);
    expect(events).toEqual([
      { event: 'x', data: '1' },
      { event: 'message', data: '2' },
    ]);
  });

  it('keeps the id and ignores retry and unknown fields', () => {
    const { events } = parseInPieces(encoder.encode('id: 7\nretry: 10\nfoo: bar\ndata: z\n\n'), 1000);
    expect(events).toEqual([{ event: 'message', data: 'z', id: '7' }]);
  });

  it('strips a leading byte order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode('data: a\n\n')]);
    expect(parseInPieces(bytes, 1).events).toEqual([{ event: 'message', data: 'a' }]);
  });

  it('on end, takes an unterminated last line and dispatches a pending event', () => {
    const parser = new SseParser();
    expect(parser.push(encoder.encode('data: [DONE]'))).toEqual([]);
    expect(parser.end()).toEqual([{ event: 'message', data: '[DONE]' }]);
  });

  it('treats a lone CR at the end of a piece as a line end, and swallows the LF that follows', () => {
    const parser = new SseParser();
    expect(parser.push(encoder.encode('data: a\r'))).toEqual([]);
    expect(parser.push(encoder.encode('\n\r'))).toEqual([{ event: 'message', data: 'a' }]);
    expect(parser.push(encoder.encode('\ndata: b\n\n'))).toEqual([{ event: 'message', data: 'b' }]);
  });
});
