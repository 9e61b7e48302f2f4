/**
 * The interim DocumentIndex: document chunks in the job database (`worker_documents`, FTS5 over text and
 * path). It exists so the research worker runs and is tested before memory/'s document items are bound in its
 * place (see document-index.ts); its MemoryIDs come from memory/ids.ts all the same.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../memory/db.js';
import { newMemoryId } from '../../memory/ids.js';
import type { DocumentChunk, DocumentHit, DocumentIndex, DocumentUpsert } from './document-index.js';
import { ftsQuery } from './search-terms.js';

interface HitRow {
  id: string;
  path: string;
  text: string;
  rank: number;
}

export class SqliteDocumentIndex implements DocumentIndex {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #s;

  constructor(db: Db, now: () => number) {
    this.#db = db;
    this.#now = now;
    this.#s = {
      find: db.prepare<[string, string, number], { id: string; hash: string }>(
        'SELECT id, hash FROM worker_documents WHERE session_key = ? AND path = ? AND chunk = ?',
      ),
      insert: db.prepare(
        'INSERT INTO worker_documents (id, session_key, path, chunk, hash, text, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      update: db.prepare('UPDATE worker_documents SET text = ?, hash = ?, updated_at = ? WHERE id = ?'),
      paths: db.prepare<[string], { path: string }>('SELECT DISTINCT path FROM worker_documents WHERE session_key = ? ORDER BY path'),
      retire: db.prepare<[string, string, number]>('DELETE FROM worker_documents WHERE session_key = ? AND path = ? AND chunk >= ?'),
      search: db.prepare<[string, number], HitRow>(
        `SELECT d.id, d.path, d.text, bm25(worker_documents_fts) AS rank FROM worker_documents_fts
         JOIN worker_documents d ON d.n = worker_documents_fts.rowid
         WHERE worker_documents_fts MATCH ? ORDER BY rank LIMIT ?`,
      ),
      searchIn: db.prepare<[string, string, number], HitRow>(
        `SELECT d.id, d.path, d.text, bm25(worker_documents_fts) AS rank FROM worker_documents_fts
         JOIN worker_documents d ON d.n = worker_documents_fts.rowid
         WHERE worker_documents_fts MATCH ? AND d.session_key = ? ORDER BY rank LIMIT ?`,
      ),
    };
  }

  upsert(chunk: DocumentChunk): DocumentUpsert {
    const hash = chunk.hash ?? createHash('sha256').update(chunk.text).digest('hex');
    const now = this.#now();
    return this.#db.transaction((): DocumentUpsert => {
      const existing = this.#s.find.get(chunk.sessionKey, chunk.path, chunk.chunk);
      if (existing !== undefined && existing.hash === hash) return { id: existing.id, status: 'unchanged' };
      if (existing !== undefined) {
        this.#s.update.run(chunk.text, hash, now, existing.id);
        return { id: existing.id, status: 'updated' };
      }
      const id = newMemoryId(now);
      this.#s.insert.run(id, chunk.sessionKey, chunk.path, chunk.chunk, hash, chunk.text, now, now);
      return { id, status: 'created' };
    })();
  }

  paths(sessionKey: string): string[] {
    return this.#s.paths.all(sessionKey).map((row) => row.path);
  }

  /** Deletes the chunks (the full-text index follows by trigger). */
  retire(sessionKey: string, path: string, fromChunk: number): number {
    return this.#s.retire.run(sessionKey, path, fromChunk).changes;
  }

  search(text: string, options: { sessionKey?: string; limit: number }): DocumentHit[] {
    const query = ftsQuery(text);
    if (query === undefined) return [];
    const rows =
      options.sessionKey === undefined ? this.#s.search.all(query, options.limit) : this.#s.searchIn.all(query, options.sessionKey, options.limit);
    // bm25 is lower for better matches; the score is made "higher is better".
    return rows.map((row) => ({ id: row.id, path: row.path, text: row.text, score: -row.rank }));
  }
}
