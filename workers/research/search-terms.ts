/** Free text → an FTS5 query that matches any of its words (quoted, so no FTS5 syntax leaks through). */

/** Words too common to search for. */
const STOPWORDS = new Set(
  'a an and are as at be by do does for from how in into is it its of on or our the their then this that to was what when where which who why will with you your about find look research read search check'.split(' '),
);

/** Most words put in one query. */
export const MAX_QUERY_TERMS = 16;

export function searchTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
  const terms: string[] = [];
  for (const word of words) {
    if (word.length < 2 || STOPWORDS.has(word) || terms.includes(word)) continue;
    terms.push(word);
    if (terms.length >= MAX_QUERY_TERMS) break;
  }
  return terms;
}

/** `"w1" OR "w2" ...`, or undefined when the text has no searchable word. */
export function ftsQuery(text: string): string | undefined {
  const terms = searchTerms(text);
  return terms.length === 0 ? undefined : terms.map((term) => `"${term}"`).join(' OR ');
}
