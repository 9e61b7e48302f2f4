/**
 * Builds an agent's packet from the raw files: a pure function of the files' names and bytes (any order) and
 * the limits. No clock, no paths: the same files give a byte-identical packet with the same hash.
 */
import type { IdentityNotice, IdentityPacket, IdentitySourceInfo } from './types.js';
import { BUILTIN_SOURCE, builtinPrompt } from './builtin.js';
import { canonicalJson, deepFreeze, sha256Hex } from './canonical-json.js';
import { fieldsFromKeys } from './fields.js';
import { agentFolderLabel, fileRank, isValidAgentId } from './files.js';
import type { IdentityLimits } from './limits.js';
import { limitContents } from './limit-content.js';
import { mergeFiles } from './merge.js';
import { fileContent, parseContent, type FileContent, type ParsedFile } from './parse-file.js';
import type { RawFile } from './read-files.js';
import { renderBlocks, renderSystemPrompt } from './render.js';

export interface BuildPacketInput {
  agentId: string;
  /** The files found, in any order. */
  files: readonly RawFile[];
  limits: IdentityLimits;
}

/** One file per name, precedence order; AGENTS.md only when there is no AGENT.md. */
function selectFiles(files: readonly RawFile[]): { files: RawFile[]; notices: IdentityNotice[] } {
  const byName = new Map<string, RawFile>();
  for (const f of files) if (!byName.has(f.name)) byName.set(f.name, f);
  const notices: IdentityNotice[] = [];
  if (byName.has('AGENT.md') && byName.has('AGENTS.md')) {
    byName.delete('AGENTS.md');
    const message = 'both AGENT.md and AGENTS.md exist; AGENT.md is used and AGENTS.md is ignored';
    notices.push({ file: 'AGENTS.md', kind: 'duplicate-name', message });
  }
  return { files: [...byName.values()].sort((a, b) => fileRank(a.name) - fileRank(b.name)), notices };
}

function missingNotice(agentId: string): IdentityNotice {
  if (!isValidAgentId(agentId)) {
    const message = `agent id ${JSON.stringify(agentId)} is not valid; using the built-in identity`;
    return { file: '', kind: 'missing', message };
  }
  const folder = agentFolderLabel(agentId);
  const message = `no SOUL.md, AGENT.md, AGENTS.md, IDENTITY.md or USER.md in ${folder}; using the built-in identity`;
  return { file: folder, kind: 'missing', message };
}

function sourceOf(content: Extract<FileContent, { ok: true }>): IdentitySourceInfo {
  return { file: content.name, sha256: sha256Hex(content.bytes), bytes: content.bytes.length };
}

/** The sealed (hashed, frozen) packet for these files; never throws on bad file content. */
export function buildPacket({ agentId, files, limits }: BuildPacketInput): IdentityPacket {
  const selected = selectFiles(isValidAgentId(agentId) ? files : []);
  const notices: IdentityNotice[] = [...selected.notices];
  if (selected.files.length === 0) notices.push(missingNotice(agentId));
  const contents = selected.files.map((f) => fileContent(f, limits.maxFileBytes));
  const readable = contents.filter((c): c is Extract<FileContent, { ok: true }> => c.ok);
  const limited = limitContents(readable, limits);
  const parsed: ParsedFile[] = [];
  for (const c of contents) {
    notices.push(...c.notices, ...limited.notices.filter((n) => n.file === c.name));
    if (!c.ok) continue;
    const result = parseContent(c.name, limited.kept.get(c.name) ?? '');
    parsed.push(result.file);
    notices.push(...result.notices);
  }
  const merged = mergeFiles(parsed);
  const { fields, fieldSources, notices: fieldNotices } = fieldsFromKeys(agentId, merged.keys);
  notices.push(...fieldNotices);
  const fallback = builtinPrompt(fields.name ?? '');
  const systemPrompt = renderSystemPrompt(merged.keys, merged.blocks, fallback);
  const sources = readable.map(sourceOf);
  if (renderBlocks(merged.blocks) === '') {
    sources.push({ file: BUILTIN_SOURCE, sha256: sha256Hex(fallback), bytes: Buffer.byteLength(fallback) });
  }
  return seal({ agentId, systemPrompt, fields, fieldSources, sources, conflicts: merged.conflicts, notices });
}

/** Adds the hash over the canonical JSON of everything else, and freezes the packet all the way down. */
export function seal(body: Omit<IdentityPacket, 'hash'>): IdentityPacket {
  const notices = [...body.notices].sort((a, b) => fileRank(a.file) - fileRank(b.file));
  const unhashed = { ...body, notices };
  return deepFreeze({ ...unhashed, hash: sha256Hex(canonicalJson(unhashed)) });
}
