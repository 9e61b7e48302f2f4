/** Small files in the formats attachments are checked against, as base64 (what clients put in `content`). */

/** A 1×1 PNG (a real one: decoders accept it). */
export const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const withPadding = (head: Buffer, size: number): string => Buffer.concat([head, Buffer.alloc(Math.max(0, size - head.length))]).toString('base64');

/** A file of `size` bytes starting with the JPEG signature. */
export const jpegBytes = (size = 64): string => withPadding(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), size);
export const gifBytes = (size = 64): string => withPadding(Buffer.from('GIF89a', 'latin1'), size);
export const webpBytes = (size = 64): string => withPadding(Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.alloc(4), Buffer.from('WEBPVP8 ', 'latin1')]), size);
export const pdfBytes = (size = 64): string => withPadding(Buffer.from('%PDF-1.7\n', 'latin1'), size);

/** Bytes a base64 string decodes to. */
export const decodedSize = (base64: string): number => Buffer.from(base64, 'base64').length;
