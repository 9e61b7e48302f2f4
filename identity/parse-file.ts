/** One identity file from bytes to keys, preamble and sections, with a notice for everything that went wrong. */
import type { IdentityNotice } from './types.js';
import { fileRank, roleOf, type IdentityFileName, type IdentityRole } from './files.js';
import { splitFrontMatter, type FrontMatterKey } from './front-matter.js';
import { extractIdentityLines } from './identity-lines.js';
import type { RawFile } from './read-files.js';
import { splitSections, type Section } from './sections.js';
import { decodeUtf8, stripHtmlComments, trimBlankLines } from './text.js';

export interface ParsedFile {
  name: IdentityFileName;
  role: IdentityRole;
  /** Precedence: lower wins. */
  rank: number;
  keys: FrontMatterKey[];
  preamble: string;
  /** Sections with a non-empty body; an empty section neither shows nor wins a conflict. */
  sections: Section[];
}

/** A file's text as it counts against the limits: decoded, HTML comments removed, blank ends trimmed. */
export type FileContent =
  | { name: IdentityFileName; ok: true; content: string; bytes: Uint8Array; notices: IdentityNotice[] }
  | { name: IdentityFileName; ok: false; notices: IdentityNotice[] };

function notice(file: string, kind: IdentityNotice['kind'], message: string): IdentityNotice {
  return { file, kind, message };
}

/** Decodes and cleans one raw file; a file that cannot be used gives `ok: false` and its notices. */
export function fileContent(raw: RawFile, maxFileBytes: number): FileContent {
  const { name } = raw;
  if (raw.kind === 'error') return { name, ok: false, notices: [notice(name, 'unreadable', `${name} ${raw.message}`)] };
  const notices: IdentityNotice[] = [];
  const cutShort = raw.bytes.length < raw.sizeOnDisk;
  if (cutShort) {
    const msg = `${name} is ${raw.sizeOnDisk} bytes; only the first ${maxFileBytes} bytes are read`;
    notices.push(notice(name, 'truncated', msg));
  }
  const decoded = decodeUtf8(raw.bytes, cutShort);
  if (!decoded.ok) {
    return { name, ok: false, notices: [...notices, notice(name, 'invalid-utf8', `${name} ${decoded.message}`)] };
  }
  const { text, unclosed } = stripHtmlComments(decoded.text);
  if (unclosed) {
    const msg = `${name} has an \`<!--\` without \`-->\`; the text after it is ignored`;
    notices.push(notice(name, 'unclosed-comment', msg));
  }
  return { name, ok: true, content: trimBlankLines(text), bytes: raw.bytes, notices };
}

/** Splits (possibly truncated) content into keys, preamble and sections. */
export function parseContent(name: IdentityFileName, content: string): { file: ParsedFile; notices: IdentityNotice[] } {
  const front = splitFrontMatter(content);
  const notices = front.problems.map((p) => notice(name, 'bad-front-matter', `${name}: ${p}`));
  const split = splitSections(front.body);
  const role = roleOf(name);
  let { preamble } = split;
  const keys = [...front.keys];
  if (role === 'IDENTITY') {
    const lines = extractIdentityLines(preamble);
    preamble = lines.preamble;
    // Front matter wins over field lines of the same file.
    keys.push(...lines.keys.filter((k) => !keys.some((f) => f.norm === k.norm)));
  }
  const sections = split.sections.filter((s) => s.body !== '');
  return { file: { name, role, rank: fileRank(name), keys, preamble: trimBlankLines(preamble), sections }, notices };
}
