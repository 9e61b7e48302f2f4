/** Lists the workspace files the research worker indexes: text, markdown and source files, within limits. */
import { opendir, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';

/** Extensions indexed (lower case). */
export const INDEXED_EXTENSIONS: ReadonlySet<string> = new Set(
  '.md .markdown .mdx .txt .rst .adoc .org .csv .json .yaml .yml .toml .ini .ts .tsx .js .jsx .mjs .cjs .py .rb .go .rs .java .kt .swift .c .h .cc .cpp .hpp .cs .php .sh .sql .html .css'.split(' '),
);

/** Folders never entered (besides hidden ones). */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', 'dist', 'build', 'target', 'vendor', '__pycache__']);

export interface WorkspaceFile {
  /** Workspace-relative path with `/` separators. */
  path: string;
  absolute: string;
  size: number;
  mtimeMs: number;
}

export interface ScanLimits {
  maxFiles: number;
  maxFileBytes: number;
}

/** Breadth-first, sorted per folder (a stable order, so `maxFiles` always keeps the same files). */
export async function scanWorkspace(root: string, limits: ScanLimits, signal: AbortSignal): Promise<{ files: WorkspaceFile[]; skipped: number }> {
  const files: WorkspaceFile[] = [];
  let skipped = 0;
  const folders = [root];
  while (folders.length > 0 && files.length < limits.maxFiles) {
    signal.throwIfAborted();
    const folder = folders.shift() as string;
    let names: { name: string; dir: boolean; file: boolean }[];
    try {
      names = [];
      for await (const entry of await opendir(folder)) names.push({ name: entry.name, dir: entry.isDirectory(), file: entry.isFile() });
    } catch {
      continue; // a folder that went away or cannot be read is left out
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of names) {
      if (entry.name.startsWith('.')) continue;
      const absolute = join(folder, entry.name);
      if (entry.dir) {
        if (!SKIPPED_DIRS.has(entry.name)) folders.push(absolute);
        continue;
      }
      if (!entry.file || !INDEXED_EXTENSIONS.has(extname(entry.name).toLowerCase())) continue;
      const info = await stat(absolute).catch(() => undefined);
      if (info === undefined) continue;
      if (info.size > limits.maxFileBytes || files.length >= limits.maxFiles) {
        skipped += 1;
        continue;
      }
      files.push({ path: relative(root, absolute).split(sep).join('/'), absolute, size: info.size, mtimeMs: info.mtimeMs });
    }
  }
  return { files, skipped };
}
