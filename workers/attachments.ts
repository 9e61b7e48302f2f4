/**
 * Chat attachments (`chat.send`, `sessions.send`, `agent`), as OpenClaw's clients send them: `{type?, mimeType?,
 * fileName?, content}`, `content` being base64, bare or as a `data:` URL. Every one is checked before anything
 * is stored: base64 that decodes, at most `maxBytes` once decoded, and a PNG, JPEG, GIF or WebP image by its
 * first bytes (the formats both the OpenAI and the Anthropic APIs take; the declared `mimeType` is a hint, the
 * bytes decide). An attachment that fails is refused with INVALID_REQUEST naming it — never dropped in silence,
 * which would have the model answer a question about a picture it was not shown.
 */
import { createHash } from 'node:crypto';
import { GatewayError } from '../protocol/errors.js';
import type { ImageMimeType, ModelImage } from './providers/types.js';

const DATA_URL_MARKER = ';base64,';

/** An attachment that passed: the image, and a SHA-256 of its bytes (the request's idempotency hash takes it). */
export interface CheckedImage extends ModelImage {
  sha256: string;
}

/** The images of a request's attachments, in order; throws INVALID_ATTACHMENT on the first one that is not. */
export function parseAttachments(attachments: readonly unknown[] | undefined, maxBytes: number): CheckedImage[] {
  if (attachments === undefined) return [];
  return attachments.map((attachment, index) => parseAttachment(attachment, index, maxBytes));
}

/**
 * A 5 MB image is 6.7 MB of base64, so every pass over it counts: the bytes are decoded once (in C++, ~4 ms) and
 * the base64 judged by them — any character outside the alphabet, or a `=` before the end, makes the decoded
 * length fall short of what the string's length promises — then hashed (~13 ms). A regex over the string took
 * ~18 ms, and hashing the JSON of the request ~40 ms.
 */
function parseAttachment(attachment: unknown, index: number, maxBytes: number): CheckedImage {
  const fields = typeof attachment === 'object' && attachment !== null ? (attachment as Record<string, unknown>) : {};
  const label = labelOf(fields, index);
  const refuse = (detail: string): GatewayError => new GatewayError('INVALID_ATTACHMENT', { params: { label, detail } });
  if (typeof fields.content !== 'string') throw refuse('content must be a base64 string');
  const data = stripDataUrl(fields.content.trim());
  if (data === '') throw refuse('empty payload');
  // Node also decodes the URL-safe alphabet (`-`, `_`), which the model APIs do not take.
  if (data.length % 4 !== 0 || data.includes('-') || data.includes('_')) throw refuse('invalid base64 content');
  const bytes = base64Bytes(data);
  if (bytes > maxBytes) throw refuse(`exceeds size limit (${bytes} > ${maxBytes} bytes)`);
  const decoded = Buffer.from(data, 'base64');
  if (decoded.length !== bytes) throw refuse('invalid base64 content');
  const mimeType = sniffImage(decoded);
  if (mimeType === undefined) throw refuse('only PNG, JPEG, GIF and WebP images are supported');
  return { mimeType, data, sha256: createHash('sha256').update(decoded).digest('hex') };
}

/** How OpenClaw names an attachment in its errors: file name, else type, else its place in the list. */
function labelOf(fields: Record<string, unknown>, index: number): string {
  for (const name of [fields.fileName, fields.type]) {
    if (typeof name === 'string' && name !== '') return name.slice(0, 200);
  }
  return `attachment-${index + 1}`;
}

/** `data:image/png;base64,AAAA` → `AAAA`; anything else is returned as it is. By index: no regex over megabytes. */
function stripDataUrl(content: string): string {
  if (!content.startsWith('data:')) return content;
  const at = content.indexOf(DATA_URL_MARKER);
  return at < 0 ? content : content.slice(at + DATA_URL_MARKER.length);
}

/** Bytes a padded base64 string decodes to. */
export function base64Bytes(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

/** The image format of a file's first bytes, by its signature. */
export function sniffImage(head: Uint8Array): ImageMimeType | undefined {
  const starts = (signature: readonly number[], at = 0): boolean => signature.every((byte, i) => head[at + i] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x47, 0x49, 0x46, 0x38]) && (head[4] === 0x37 || head[4] === 0x39) && head[5] === 0x61) return 'image/gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return undefined;
}
