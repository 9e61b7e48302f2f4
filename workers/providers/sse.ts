/**
 * A small Server-Sent Events parser (the WHATWG `text/event-stream` rules, minus reconnection).
 *
 * Bytes arrive in arbitrary pieces: a piece may end mid-line, between `\r` and `\n`, or in the middle of a
 * multi-byte UTF-8 character. Decoding goes through one streaming TextDecoder so a split character is joined
 * before it is seen; lines end at `\r\n`, `\n` or `\r`; lines starting with `:` are comments (keep-alives) and
 * are counted, not returned; several `data:` lines in one event are joined with `\n`; an empty line
 * dispatches the event. The parser never parses JSON: what a malformed payload means is the provider's call.
 */

/** One dispatched event. `event` is `message` when the server sent no `event:` field. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  readonly #decoder = new TextDecoder('utf-8');
  #buffer = '';
  /** The previous piece ended with `\r`: a `\n` opening the next piece belongs to that line ending. */
  #afterCr = false;
  #bomChecked = false;
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  #comments = 0;

  /** Comment lines seen so far (`: keep-alive` and the like). */
  get comments(): number {
    return this.#comments;
  }

  /** Feeds one piece of the body; returns the events it completed, in order. */
  push(chunk: Uint8Array): SseEvent[] {
    return this.#consume(this.#decoder.decode(chunk, { stream: true }), false);
  }

  /**
   * Ends the stream. A last line without its line ending is taken as complete, and an event left without its
   * blank line is dispatched (the spec drops it; servers that forget the final blank line are common and the
   * provider decides from the payload whether the stream really finished).
   */
  end(): SseEvent[] {
    const events = this.#consume(this.#decoder.decode(), true);
    const last = this.#dispatch();
    if (last) events.push(last);
    return events;
  }

  #consume(text: string, final: boolean): SseEvent[] {
    let input = text;
    if (!this.#bomChecked && input.length > 0) {
      this.#bomChecked = true;
      if (input.charCodeAt(0) === 0xfeff) input = input.slice(1);
    }
    if (this.#afterCr && input.startsWith('\n')) input = input.slice(1);
    if (input.length > 0) this.#afterCr = false;
    const events: SseEvent[] = [];
    const all = this.#buffer + input;
    let start = 0;
    for (let i = 0; i < all.length; i++) {
      const c = all.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const event = this.#line(all.slice(start, i));
      if (event) events.push(event);
      if (c === 13) {
        if (i + 1 === all.length) this.#afterCr = true;
        else if (all.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#buffer = all.slice(start);
    if (final && this.#buffer.length > 0) {
      const event = this.#line(this.#buffer);
      if (event) events.push(event);
      this.#buffer = '';
    }
    return events;
  }

  /** Handles one complete line; returns an event when the line is blank and one is pending. */
  #line(line: string): SseEvent | undefined {
    if (line.length === 0) return this.#dispatch();
    if (line.charCodeAt(0) === 58 /* ':' */) {
      this.#comments++;
      return undefined;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    // `retry` and unknown fields are ignored: we never reconnect a model stream.
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const pending = this.#data.length > 0;
    const event: SseEvent = { event: this.#event || 'message', data: this.#data.join('\n') };
    if (this.#id !== undefined) event.id = this.#id;
    this.#event = '';
    this.#data = [];
    return pending ? event : undefined;
  }
}
