import { rmSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ThreadPool } from '../../../workers/pool/thread-pool.js';
import { chunkDocument } from '../../../workers/research/chunker.js';
import { ResearchWorker, snippet } from '../../../workers/research/research-worker.js';
import { SqliteDocumentIndex } from '../../../workers/research/sqlite-document-index.js';
import { workspaceWith } from '../../helpers/workspace-files.js';
import { jobDatabase, silent } from '../../helpers/jobs.js';

function worker(workspace: string, now: () => number = Date.now) {
  const threads = new ThreadPool(chunkDocument, 1);
  onTestFinished(() => threads.close());
  const index = new SqliteDocumentIndex(jobDatabase().db, now);
  const research = new ResearchWorker({ workspace, index, threads, limits: { maxFiles: 100, maxFileBytes: 1_000, chunkChars: 500 }, now, logger: silent });
  return { research, index };
}

const signal = () => new AbortController().signal;

describe('ResearchWorker', () => {
  it('indexes markdown, text and source files, and leaves out hidden folders, node_modules, other files and big files', async () => {
    const workspace = workspaceWith({
      'README.md': 'The gateway speaks the OpenClaw protocol.',
      'notes/todo.txt': 'Renew the certificate.',
      'src/app.ts': 'export const port = 18789;',
      '.git/config': 'secret',
      'node_modules/x/readme.md': 'vendored',
      'image.png': 'binary',
      'big.md': 'x'.repeat(2_000),
    });
    const { research } = worker(workspace);
    const report = await research.indexWorkspace(signal());
    expect(report).toMatchObject({ files: 3, chunks: 3, created: 3, skipped: 1 });
    const result = await research.research('certificate', signal());
    expect(result).toMatchObject({ kind: 'research', query: 'certificate', documents: 3 });
    expect(result.hits).toHaveLength(1);
    expect(result.hits[0]).toMatchObject({ path: 'notes/todo.txt', snippet: 'Renew the certificate.' });
    expect(result.hits[0]?.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('keeps a chunk\'s MemoryID when its file changes, and writes nothing for an unchanged file', async () => {
    let now = 1_000_000;
    const workspace = workspaceWith({ 'a.md': 'alpha version one' });
    const { research } = worker(workspace, () => now);
    const before = (await research.research('alpha', signal())).hits[0]?.id;
    now += 10_000;
    const again = await research.indexWorkspace(signal());
    expect(again).toMatchObject({ created: 0, updated: 0 });
    writeFileSync(join(workspace, 'a.md'), 'alpha version two');
    utimesSync(join(workspace, 'a.md'), new Date(now + 5_000), new Date(now + 5_000));
    now += 10_000;
    const changed = await research.research('alpha', signal());
    expect(changed.hits[0]).toMatchObject({ id: before, snippet: 'alpha version two' });
  });

  it('takes deleted files and the tail of shrunk files out of the index, also those deleted while it was down', async () => {
    let now = 1_000_000;
    // Three paragraphs of 260 characters: three chunks of at most 500, in a file under the 1,000-byte limit.
    const long = [`walrus one ${'a '.repeat(125)}`, 'b '.repeat(130), `walrus tail ${'c '.repeat(125)}`].join('\n\n');
    const workspace = workspaceWith({ 'gone.md': 'zebra crossing notes', 'long.md': long, 'later.md': 'yak shaving notes' });
    const { research, index } = worker(workspace, () => now);
    expect((await research.indexWorkspace(signal())).chunks).toBe(5);
    expect((await research.research('tail', signal())).hits.map((h) => h.path)).toEqual(['long.md']);
    rmSync(join(workspace, 'gone.md'));
    writeFileSync(join(workspace, 'long.md'), 'walrus one');
    utimesSync(join(workspace, 'long.md'), new Date(now + 5_000), new Date(now + 5_000));
    now += 10_000;
    const report = await research.indexWorkspace(signal());
    expect(report.removed).toBe(3); // gone.md's chunk and long.md's two chunks past its new end
    expect((await research.research('zebra', signal())).hits).toEqual([]);
    expect((await research.research('tail', signal())).hits).toEqual([]);
    expect(index.paths('global')).toEqual(['later.md', 'long.md']);
    // A new worker over the same index (a restart) has seen nothing yet, and still finds later.md gone.
    rmSync(join(workspace, 'later.md'));
    const threads = new ThreadPool(chunkDocument, 1);
    onTestFinished(() => threads.close());
    const restarted = new ResearchWorker({ workspace, index, threads, limits: { maxFiles: 100, maxFileBytes: 1_000, chunkChars: 500 }, now: () => now, logger: silent });
    expect((await restarted.indexWorkspace(signal())).removed).toBe(1);
    expect(index.paths('global')).toEqual(['long.md']);
  });

  it('shares one indexing pass between research tasks that run together', async () => {
    const workspace = workspaceWith(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`doc${i}.md`, `document number ${i}`])));
    const { research } = worker(workspace);
    const [a, b, c] = await Promise.all([research.indexWorkspace(signal()), research.indexWorkspace(signal()), research.indexWorkspace(signal())]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(a?.created).toBe(20);
  });

  it('answers a search with no match with no hits', async () => {
    const { research } = worker(workspaceWith({ 'a.md': 'alpha' }));
    expect((await research.research('zebra', signal())).hits).toEqual([]);
    expect((await research.research('the and of', signal())).hits).toEqual([]);
  });

  it('shows a snippet around the first matching word', () => {
    const text = `${'lorem ipsum '.repeat(40)}the important needle is here ${'dolor sit '.repeat(40)}`;
    const shown = snippet(text, 'needle');
    expect(shown).toContain('needle');
    expect(shown.length).toBeLessThanOrEqual(242);
    expect(shown.startsWith('…')).toBe(true);
  });
});
