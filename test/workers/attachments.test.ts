import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../protocol/errors.js';
import { parseAttachments, sniffImage } from '../../workers/attachments.js';
import { gifBytes, jpegBytes, pdfBytes, PNG_1PX, webpBytes } from '../helpers/images.js';

const refusal = (attachments: unknown[], maxBytes = 1_000): string => {
  try {
    parseAttachments(attachments, maxBytes);
  } catch (err) {
    if (err instanceof GatewayError) return err.message;
    throw err;
  }
  throw new Error('not refused');
};

describe('parseAttachments', () => {
  it('tells PNG, JPEG, GIF and WebP by their first bytes, whatever mimeType says', () => {
    const images = parseAttachments([{ content: PNG_1PX, mimeType: 'text/plain' }, { content: jpegBytes() }, { content: gifBytes() }, { content: webpBytes() }], 1_000);
    expect(images.map((i) => i.mimeType)).toEqual(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
    expect(parseAttachments(undefined, 1_000)).toEqual([]);
  });

  it('refuses other files, including ones that only start like an image', () => {
    expect(refusal([{ content: pdfBytes() }])).toBe('attachment attachment-1: only PNG, JPEG, GIF and WebP images are supported');
    // RIFF without WEBP at byte 8 is a WAV or an AVI; GIF8 must go on with 7a or 9a.
    const riff = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), Buffer.alloc(20)]).toString('base64');
    expect(refusal([{ content: riff }])).toContain('only PNG, JPEG, GIF');
    expect(sniffImage(Buffer.from('GIF85a', 'latin1'))).toBeUndefined();
    expect(sniffImage(Buffer.from([0xff, 0xd8]))).toBeUndefined();
  });

  it('counts the decoded size, padding included, against the limit', () => {
    for (const size of [998, 999, 1_000]) expect(parseAttachments([{ content: jpegBytes(size) }], 1_000)).toHaveLength(1);
    expect(refusal([{ content: jpegBytes(1_001) }])).toBe('attachment attachment-1: exceeds size limit (1001 > 1000 bytes)');
  });

  it('takes a data URL or surrounding whitespace, not base64 that is cut, padded wrong or URL-safe', () => {
    expect(parseAttachments([{ content: `data:image/png;base64,${PNG_1PX}` }, { content: `\n${PNG_1PX}  ` }], 1_000)).toHaveLength(2);
    const cut = (at: number, put: string): string => `${PNG_1PX.slice(0, at)}${put}${PNG_1PX.slice(at + put.length)}`;
    const wrong = [PNG_1PX.slice(0, -1), `${PNG_1PX}=`, PNG_1PX.replace('+', '-'), cut(20, '_'), `=${PNG_1PX.slice(1)}`, cut(20, '    '), cut(20, '@'), cut(20, '=')];
    for (const content of wrong) {
      expect(refusal([{ content }]), content.slice(0, 12)).toBe('attachment attachment-1: invalid base64 content');
    }
  });

  it('names an attachment by fileName, then type, then its place, as OpenClaw does', () => {
    expect(refusal([{ content: PNG_1PX }, { fileName: 'a.pdf', type: 'file', content: pdfBytes() }])).toMatch(/^attachment a\.pdf:/);
    expect(refusal([{ type: 'file', content: pdfBytes() }])).toMatch(/^attachment file:/);
    expect(refusal(['just a string'])).toBe('attachment attachment-1: content must be a base64 string');
  });
});
