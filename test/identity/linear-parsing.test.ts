/**
 * Identity files are read up to 1 MB: headings and HTML comments are taken apart in linear time, with the same
 * results as the regular expressions they replace (kept here as references; they backtrack quadratically).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headingOf } from '../../identity/sections.js';
import { stripHtmlComments } from '../../identity/text.js';

const QUADRATIC_HEADING = /^ {0,3}##[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;

function referenceHeading(line: string): string | undefined {
  const text = QUADRATIC_HEADING.exec(line)?.[1]?.trim();
  return text === undefined || text === '' ? undefined : text;
}

const COMMENT = String.raw`<!--(?:(?!-->)[\s\S])*-->`;
const WHOLE_LINE_COMMENT = new RegExp(String.raw`^[ \t]*${COMMENT}[ \t]*(?:\n|$)`, 'gm');
const INLINE_COMMENT = new RegExp(COMMENT, 'g');

function referenceStrip(text: string): { text: string; unclosed: boolean } {
  const stripped = text.replace(WHOLE_LINE_COMMENT, '').replace(INLINE_COMMENT, '');
  const open = stripped.indexOf('<!--');
  return open === -1 ? { text: stripped, unclosed: false } : { text: stripped.slice(0, open), unclosed: true };
}

/** Some `<!--` comes before the end of the comment an earlier `<!--` opened. */
function hasNestedOpener(text: string): boolean {
  for (let open = text.indexOf('<!--'); open !== -1; ) {
    const close = text.indexOf('-->', open + 4);
    const next = text.indexOf('<!--', open + 1);
    if (close === -1 || next === -1) return false;
    if (next < close + 3) return true;
    open = next;
  }
  return false;
}

/**
 * Runs `fn` and checks it took less than 2 s. On the inputs below the quadratic versions take 20–40 s (they
 * cannot be interrupted: a test timeout would not fire until they return), the linear ones well under 100 ms.
 */
function inLinearTime(fn: () => void): void {
  const started = performance.now();
  fn();
  expect(performance.now() - started).toBeLessThan(2_000);
}

const textOf = (parts: readonly string[]): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...parts), { maxLength: 24 }).map((chosen) => chosen.join(''));

describe('## headings', () => {
  it('are read as the pattern before read them', () => {
    // `.` in that pattern stops at line breaks other than \n (U+2028, U+2029, \r), which headingOf keeps as text:
    // files reach it with \r\n and \r turned into \n, so lines here have none.
    fc.assert(
      fc.property(textOf(['#', '##', ' ', '   ', '\t', 'a', 'b c', '\u00a0', '`', '-']), (line) => {
        expect(headingOf(line)).toBe(referenceHeading(line));
      }),
      { numRuns: 3_000 },
    );
  });

  it('take linear time over a long run of spaces', () => {
    inLinearTime(() => expect(headingOf(`## x${' '.repeat(100_000)}y ##`)).toBe(`x${' '.repeat(100_000)}y`));
    inLinearTime(() => expect(headingOf(`## ${'# '.repeat(250_000)}`)).toBe('#'.concat(' #'.repeat(249_998))));
  });
});

describe('HTML comments', () => {
  it('are removed as the patterns before removed them', () => {
    fc.assert(
      fc.property(textOf(['<!--', '-->', '<!-->', '<!', '--', '-', '>', ' ', '\t', '\n', 'a', '\r', '\u2028']), (text) => {
        // Where an `<!--` sits inside a comment the patterns could take the inner one first (next test).
        fc.pre(!hasNestedOpener(text));
        expect(stripHtmlComments(text)).toEqual(referenceStrip(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('end at the first `-->` after their `<!--`, even with an `<!--` inside', () => {
    const text = 'Kept <!-- a note\n<!-- quoted -->\nmore';
    expect(stripHtmlComments(text)).toEqual({ text: 'Kept \nmore', unclosed: false });
    // The patterns removed the inner comment's line first, and the outer `<!--` then hid the rest of the file.
    expect(referenceStrip(text)).toEqual({ text: 'Kept ', unclosed: true });
  });

  it('take linear time in a file of openers', () => {
    // The patterns scanned to the end of the text from every `<!--` left open, and from every line start in a comment.
    inLinearTime(() => expect(stripHtmlComments('<!--'.repeat(65_536))).toEqual({ text: '', unclosed: true }));
    inLinearTime(() => expect(stripHtmlComments(`kept\n${'<!--\n'.repeat(20_000)}-->x`)).toEqual({ text: 'kept\nx', unclosed: false }));
    inLinearTime(() => expect(stripHtmlComments(`${'<!--a-->'.repeat(100_000)}b`)).toEqual({ text: 'b', unclosed: false }));
  });
});
