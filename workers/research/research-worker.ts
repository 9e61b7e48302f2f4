/**
 * ResearchWorker (deterministic, no model calls): keeps the workspace's documents indexed as document items
 * with MemoryIDs, and answers a research task by searching them. Reading files is async I/O; chunking and
 * hashing run in worker threads; the index writes are short synchronous transactions.
 *
 * Indexing is incremental (a file is read again only when its size or mtime changed since this process last
 * indexed it; an unchanged chunk is not written) and shared: research tasks that run together wait for the same
 * pass, and a pass younger than RESCAN_MIN_INTERVAL_MS is reused.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { abortable, sleep } from '../abortable.js';
import type { ThreadPool } from '../pool/thread-pool.js';
import type { ChunkInput, TextChunk } from './chunker.js';
import { WORKSPACE_SESSION_KEY, type DocumentIndex } from './document-index.js';
import { searchTerms } from './search-terms.js';
import { scanWorkspace, type ScanLimits } from './workspace-scan.js';

/** A finished indexing pass is reused for this long before the workspace is scanned again, in ms. */
export const RESCAN_MIN_INTERVAL_MS = 2_000;
/** Hits a research task returns at most. */
export const RESEARCH_MAX_HITS = 5;
/** Index writes done in one event-loop turn at most. */
export const UPSERTS_PER_TURN = 32;
/** Characters of a hit's text shown around its first matching word. */
export const SNIPPET_CHARS = 240;

export interface IndexReport {
  files: number;
  chunks: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Files left out: over the size limit or past the file limit. */
  skipped: number;
  /** Chunks taken out of the index: of files gone from the scan, and past the end of files that shrank. */
  removed: number;
  at: number;
}

export interface ResearchHit {
  /** MemoryID of the document chunk. */
  id: string;
  path?: string;
  snippet: string;
  score?: number;
}

/** The structured result a research task hands back to the brain. */
export interface ResearchResult {
  kind: 'research';
  query: string;
  /** Workspace files in the index. */
  documents: number;
  hits: ResearchHit[];
}

export interface ResearchWorkerDeps {
  workspace: string;
  index: DocumentIndex;
  threads: ThreadPool<ChunkInput, TextChunk[]>;
  limits: ScanLimits & { chunkChars: number };
  now: () => number;
  logger: Logger;
}

export class ResearchWorker {
  readonly #deps: ResearchWorkerDeps;
  /** Size and mtime of each file as last indexed (bounded by maxFiles). */
  readonly #seen = new Map<string, string>();
  /** Cancels a shared pass when the worker closes (a single caller's abort only stops its own wait). */
  readonly #closing = new AbortController();
  #pass: Promise<IndexReport> | undefined;
  #last: IndexReport | undefined;

  constructor(deps: ResearchWorkerDeps) {
    this.#deps = deps;
  }

  /** Brings the index up to date with the workspace (or reuses a recent pass). */
  indexWorkspace(signal: AbortSignal): Promise<IndexReport> {
    const last = this.#last;
    if (last !== undefined && this.#deps.now() - last.at < RESCAN_MIN_INTERVAL_MS && this.#pass === undefined) return Promise.resolve(last);
    this.#pass ??= this.#index().finally(() => {
      this.#pass = undefined;
    });
    return abortable(this.#pass, signal);
  }

  /** Answers a research task: index, then search for the query. */
  async research(query: string, signal: AbortSignal): Promise<ResearchResult> {
    const report = await this.indexWorkspace(signal);
    signal.throwIfAborted();
    // The index is asked for the words that matter (no stopwords, no FTS syntax): any DocumentIndex ranks alike.
    const terms = searchTerms(query).join(' ');
    const hits = terms === '' ? [] : this.#deps.index.search(terms, { sessionKey: WORKSPACE_SESSION_KEY, limit: RESEARCH_MAX_HITS });
    return {
      kind: 'research',
      query,
      documents: report.files,
      hits: hits.map((hit) => ({
        id: hit.id,
        ...(hit.path === undefined ? {} : { path: hit.path }),
        snippet: snippet(hit.text, query),
        ...(hit.score === undefined ? {} : { score: Math.round(hit.score * 1000) / 1000 }),
      })),
    };
  }

  /** Stops a pass under way; safe to call twice. */
  close(): void {
    this.#closing.abort(new Error('research worker closed'));
  }

  async #index(): Promise<IndexReport> {
    const signal = this.#closing.signal;
    const { files, skipped } = await scanWorkspace(this.#deps.workspace, this.#deps.limits, signal);
    const report: IndexReport = { files: files.length, chunks: 0, created: 0, updated: 0, unchanged: 0, skipped, removed: 0, at: 0 };
    const present = new Set(files.map((file) => file.path));
    for (const path of [...this.#seen.keys()]) if (!present.has(path)) this.#seen.delete(path);
    // The index holds exactly the files this scan took: a file deleted (also while the gateway was down) or
    // now left out by the limits takes its chunks with it.
    const { index } = this.#deps;
    for (const path of index.paths(WORKSPACE_SESSION_KEY)) if (!present.has(path)) report.removed += index.retire(WORKSPACE_SESSION_KEY, path, 0);
    for (const file of files) {
      const stamp = `${file.size}:${file.mtimeMs}`;
      if (this.#seen.get(file.path) === stamp) continue;
      let text: string;
      try {
        text = await readFile(file.absolute, { encoding: 'utf8', signal });
      } catch (err) {
        signal.throwIfAborted();
        this.#deps.logger.debug({ err, path: file.path }, 'a workspace file could not be read; left out of the index');
        continue;
      }
      const chunks = await this.#deps.threads.run({ text, maxChars: this.#deps.limits.chunkChars }, signal);
      for (const chunk of chunks) {
        const { status } = index.upsert({ sessionKey: WORKSPACE_SESSION_KEY, path: file.path, chunk: chunk.chunk, text: chunk.text, hash: chunk.hash });
        report.chunks += 1;
        report[status] += 1;
        // Each upsert is a short transaction; a big file's hundreds of them must not hold the event loop.
        if (report.chunks % UPSERTS_PER_TURN === 0) await sleep(0, signal);
      }
      report.removed += index.retire(WORKSPACE_SESSION_KEY, file.path, chunks.length);
      this.#seen.set(file.path, stamp);
    }
    report.at = this.#deps.now();
    this.#last = report;
    return report;
  }
}

/** The part of `text` around the first word of the query it contains, on one line. */
export function snippet(text: string, query: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= SNIPPET_CHARS) return flat;
  const lower = flat.toLowerCase();
  const at = searchTerms(query).map((term) => lower.indexOf(term)).filter((i) => i >= 0).sort((a, b) => a - b)[0] ?? 0;
  const start = Math.max(0, Math.min(at - SNIPPET_CHARS / 4, flat.length - SNIPPET_CHARS));
  const body = flat.slice(start, start + SNIPPET_CHARS).trim();
  return `${start > 0 ? '…' : ''}${body}${start + SNIPPET_CHARS < flat.length ? '…' : ''}`;
}
