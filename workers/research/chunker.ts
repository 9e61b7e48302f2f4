/**
 * Splitting a document into chunks for the index, with a content hash per chunk. It runs in a worker thread
 * (workers/pool/thread-pool.ts), so it must stay self-contained: no imports, no outer variables, no inner
 * named helpers; `require` comes in as an argument.
 */

/**
 * Documents up to this many characters are chunked on the event loop: hashing a few chunks takes well under a
 * millisecond, while a worker thread takes tens of milliseconds and ~10 MB to start (a new workspace's four
 * example files would otherwise start one at every boot).
 */
export const CHUNK_ON_LOOP_MAX_CHARS = 16 * 1024;

export interface ChunkInput {
  text: string;
  /** Most characters per chunk. */
  maxChars: number;
}

export interface TextChunk {
  /** Position in the document, from 0. */
  chunk: number;
  text: string;
  /** sha256 of the chunk's text, hex. */
  hash: string;
}

/**
 * Paragraphs (split at blank lines) are packed into chunks of at most `maxChars`; a longer paragraph is cut at
 * the last whitespace before the limit (or at the limit). Chunks are trimmed; empty ones are left out.
 */
export function chunkDocument(input: ChunkInput, require: (id: string) => unknown): TextChunk[] {
  const crypto = require('node:crypto') as typeof import('node:crypto');
  const max = Math.max(1, Math.floor(input.maxChars));
  const pieces: string[] = [];
  for (const paragraph of input.text.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    let rest = paragraph.trim();
    while (rest.length > max) {
      const space = rest.lastIndexOf(' ', max);
      const cut = space > max / 2 ? space : max;
      pieces.push(rest.slice(0, cut).trim());
      rest = rest.slice(cut).trim();
    }
    if (rest !== '') pieces.push(rest);
  }
  const chunks: TextChunk[] = [];
  let current = '';
  for (const piece of pieces) {
    if (current !== '' && current.length + 2 + piece.length > max) {
      chunks.push({ chunk: chunks.length, text: current, hash: crypto.createHash('sha256').update(current).digest('hex') });
      current = '';
    }
    current = current === '' ? piece : `${current}\n\n${piece}`;
  }
  if (current !== '') chunks.push({ chunk: chunks.length, text: current, hash: crypto.createHash('sha256').update(current).digest('hex') });
  return chunks;
}
