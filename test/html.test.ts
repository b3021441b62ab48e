/**
 * The HTML version of a message as text (src/read/html.ts): what mailparser makes of the same HTML
 * as the body of an HTML-only message, and refused where mailparser refuses it.
 */
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { DEFAULT_READ_LIMITS } from '../src/read/message.js';
import { MAX_HTML_NESTING, htmlAsText, nestsDeeperThan } from '../src/read/html.js';

/** mailparser's reading of an HTML-only message holding `html`. */
async function byMailparser(html: string): Promise<{ text: string } | { error: string }> {
  const mail = await simpleParser(Buffer.concat([Buffer.from('Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), Buffer.from(html, 'utf8')]), {
    maxHtmlLengthToParse: DEFAULT_READ_LIMITS.maxHtmlChars,
  });
  return mail.textConversionError ? { error: mail.textConversionError.message } : { text: typeof mail.text === 'string' ? mail.text : '' };
}
const ours = (html: string) => htmlAsText(html, DEFAULT_READ_LIMITS.maxHtmlChars);
const kind = (r: { text: string } | { error: string }): string => ('text' in r ? `text:${r.text}` : 'error');

describe('the HTML version as text', () => {
  it('is mailparser’s text of the same HTML, on generated markup', async () => {
    const pieces = ['<p>', '</p>', '<div>', '</div>', '<br>', '<b>', '</b>', '<table>', '<tr>', '<td>', '</td>', '</table>', '<!--', '-->', '<', '>', '&amp;', '&#91;', '[X] ', '[ ] ', 'Cllr Jason Williams', 'Name: ', '\n', ' ', 'é', '<blockquote>', '</blockquote>', '<ul><li>', '</li></ul>', '<pre>', '</pre>', '<img src="x">', '<a href="https://x.example">', '</a>'];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...pieces), { maxLength: 60 }), async (parts) => {
        const html = parts.join('');
        expect(kind(ours(html))).toBe(kind(await byMailparser(html)));
      }),
      { seed: 11, numRuns: 400 },
    );
  });

  it('refuses nesting deeper than mailparser lets html-to-text walk, as mailparser does, and reads what is just within it', async () => {
    const cases = [
      '<b>'.repeat(MAX_HTML_NESTING) + 'x',
      '<b>'.repeat(MAX_HTML_NESTING + 1) + 'x',
      // Unclosed cells and paragraphs do not nest; void elements open nothing; comments hide tags.
      '<table>' + '<tr><td>x'.repeat(5000) + '</table>',
      '<p>x'.repeat(5000),
      '<br>'.repeat(5000),
      `<!--${'<b>'.repeat(5000)}-->x`,
      // An end tag closes down to its element; one with no open element is ignored.
      `${'<i><b>'.repeat(400)}${'</i>'.repeat(400)}${'<u>'.repeat(700)}x`,
      `${'</b>'.repeat(3000)}${'<b>'.repeat(900)}x`,
      `${'<div>'.repeat(600)}<span>${'</div>'.repeat(600)}${'<div>'.repeat(600)}x`,
    ];
    for (const html of cases) expect(kind(ours(html)), html.slice(0, 40)).toBe(kind(await byMailparser(html)));
    expect(nestsDeeperThan('<b>'.repeat(MAX_HTML_NESTING + 1), MAX_HTML_NESTING)).toBe(true);
    expect(nestsDeeperThan('<b>'.repeat(MAX_HTML_NESTING), MAX_HTML_NESTING)).toBe(false);
  });

  it('refuses HTML over the length limit before reading it, and deep nesting of 2 MB before parsing it', () => {
    expect(htmlAsText('x'.repeat(11), 10)).toEqual({ error: 'HTML too long for parsing 11 characters' });
    const deep = '<b>'.repeat(650_000);
    expect(htmlAsText(deep, DEFAULT_READ_LIMITS.maxHtmlChars)).toEqual({ error: `HTML nested deeper than ${MAX_HTML_NESTING} levels` });
    expect(nestsDeeperThan(`${'<b></b>'.repeat(280_000)}`, MAX_HTML_NESTING)).toBe(false);
  });
});
