/**
 * BM25 (k1 = 1.2, b = 0.75) computed in JS over a query's candidates. FTS5's own bm25() counts, for every
 * query, all the rows that contain each term (to get its document frequency): over a million items a
 * frequent word costs tens of ms. Here a term's document frequency is exact when it has fewer than
 * `sample` matches, and otherwise estimated from how densely its newest `sample` matches are spread over the
 * rowid range (rows are numbered in insertion order): df ≈ sample × rows / span. Term frequencies and
 * lengths come from the candidates' own text, tokenized like FTS5's unicode61 (lower case, diacritics
 * removed, letters and digits); the average length is the candidates' average.
 */

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;
/** Characters of an item that count (the index holds the same prefix). */
export const INDEXED_CHARS = 65_536;

const WORD = /[\p{L}\p{N}]+/gu;
const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_WORD = /[a-z0-9]+/g;

/** The tokens of a text as the index sees them. */
export function tokenize(text: string): string[] {
  const indexed = text.slice(0, INDEXED_CHARS);
  // Plain ASCII (the common case) takes a regex without Unicode classes, several times faster.
  if (!NON_ASCII.test(indexed)) return indexed.toLowerCase().match(ASCII_WORD) ?? [];
  return indexed.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().match(WORD) ?? [];
}

/** Document frequency of a term from its newest matching rowids (descending) and the newest rowid overall. */
export function estimateDf(newestRowids: readonly number[], sample: number, maxRowid: number): number {
  if (newestRowids.length < sample) return newestRowids.length;
  const oldest = newestRowids.at(-1) as number;
  const span = Math.max(1, maxRowid - oldest + 1);
  return Math.min(maxRowid, Math.round((newestRowids.length * maxRowid) / span));
}

export function idf(df: number, rows: number): number {
  return Math.log(1 + (rows - df + 0.5) / (df + 0.5));
}

/** BM25 score of each document (token lists) for the query terms with their IDFs. */
export function bm25Scores(documents: readonly string[][], termIdf: ReadonlyMap<string, number>): number[] {
  const avgdl = documents.reduce((sum, tokens) => sum + tokens.length, 0) / Math.max(1, documents.length) || 1;
  return documents.map((tokens) => {
    const tf = new Map<string, number>();
    for (const token of tokens) if (termIdf.has(token)) tf.set(token, (tf.get(token) ?? 0) + 1);
    let score = 0;
    for (const [term, count] of tf) {
      const weight = termIdf.get(term) ?? 0;
      score += (weight * count * (BM25_K1 + 1)) / (count + BM25_K1 * (1 - BM25_B + (BM25_B * tokens.length) / avgdl));
    }
    return score;
  });
}
