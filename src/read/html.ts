import { compile, type FormatCallback } from 'html-to-text';
import { type HtmlReadings, htmlReadings } from './html-shown.js';

/**
 * A message's HTML as text: the HTML version of a multipart/alternative message, and the body of a
 * message with no text part. html-to-text with its default formatters (as mailparser converts an
 * HTML-only body), walking elements no deeper than mailparser lets it, but for tables: html-to-text
 * runs a table's cells and rows together ("☒Cllr Jacky Alty☐Cllr Jason Williams"), so that a paper
 * laid out as a table (a form pasted from Word, a mail-merge template) read as one line naming two
 * candidates, and was void. Here each row is a line and a cell is set apart from the one before by a
 * space ("☒ Cllr Jacky Alty"), as a mail client shows them. Not a data-table layout: html-to-text's
 * columns wrap a cell's text at a width, and pad a layout table holding the whole letter.
 *
 * The converter is compiled once, as html-to-text recommends for many conversions: converting
 * through mailparser again (which compiles its options on every call) cost about 450 µs for a short
 * HTML ballot, the compiled converter about 50 µs.
 */
export const MAX_HTML_NESTING = 1000;
const cell: FormatCallback = (elem, walk, builder) => {
  builder.addInline(' ');
  walk(elem.children, builder);
  builder.addInline(' ');
};
const convert = compile({
  limits: { maxDepth: MAX_HTML_NESTING },
  formatters: { cell },
  selectors: [
    { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'cell' },
    { selector: 'th', format: 'cell' },
  ],
});

export function htmlAsText(html: string, maxChars: number): { text: string } | { error: string } {
  const why = refused(html, maxChars);
  if (why !== null) return { error: why };
  try {
    return { text: convert(html) };
  } catch (e) {
    return { error: `the HTML cannot be converted to text: ${(e as Error).message.slice(0, 200)}` };
  }
}

/** Why HTML is not parsed at all, or null: over the length limit, or nested too deep. */
function refused(html: string, maxChars: number): string | null {
  if (html.length > maxChars) return `HTML too long for parsing ${html.length} characters`;
  // The HTML parser under html-to-text (htmlparser2) costs the square of the nesting depth, and
  // html-to-text's walk is recursive: deep nesting is refused before either runs.
  if (nestsDeeperThan(html, MAX_HTML_NESTING)) return `HTML nested deeper than ${MAX_HTML_NESTING} levels`;
  return null;
}

/**
 * What the HTML shows a reader, set against what it holds (html-shown.ts): null when it has no
 * markup by which it could show otherwise (MAY_HIDE there).
 */
export function htmlAsShown(html: string, maxChars: number): HtmlReadings | { error: string } | null {
  const why = refused(html, maxChars);
  if (why !== null) return { error: why };
  try {
    // The same limits for what Outlook shows, which conditional comments (not counted as nesting) may deepen.
    return htmlReadings(html, convert, (shown) => refused(shown, maxChars));
  } catch (e) {
    return { error: `the HTML cannot be read as it is shown: ${(e as Error).message.slice(0, 200)}` };
  }
}

/** Elements that hold nothing, so that their start tag opens no level. */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
/**
 * Elements an HTML parser closes by itself when a sibling starts (a run of unclosed <td> or <p> is
 * sloppy but common, and does not nest): never counted as a level.
 */
const SELF_CLOSING_SIBLINGS = new Set(['p', 'li', 'dt', 'dd', 'option', 'optgroup', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot', 'rt', 'rp']);

const isNameChar = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x3a || c === 0x5f;

/**
 * Whether the elements of `html` nest deeper than `limit`, as an HTML parser builds them: a start
 * tag opens an element, an end tag closes every element down to the nearest open one of its name
 * (and is ignored when none is open), comments are skipped. One pass, stopping at the limit.
 */
export function nestsDeeperThan(html: string, limit: number): boolean {
  const open: string[] = [];
  const openByName = new Map<string, number>();
  for (let lt = html.indexOf('<'); lt >= 0; ) {
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      if (end < 0) return false;
      lt = html.indexOf('<', end + 3);
      continue;
    }
    const closing = html.charCodeAt(lt + 1) === 0x2f;
    const start = lt + (closing ? 2 : 1);
    let stop = start;
    while (stop < html.length && isNameChar(html.charCodeAt(stop))) stop++;
    if (stop === start) {
      lt = html.indexOf('<', lt + 1);
      continue;
    }
    const gt = html.indexOf('>', stop);
    if (gt < 0) return false;
    const name = html.slice(start, stop).toLowerCase();
    if (!VOID.has(name) && !SELF_CLOSING_SIBLINGS.has(name)) {
      if (!closing) {
        open.push(name);
        openByName.set(name, (openByName.get(name) ?? 0) + 1);
        if (open.length > limit) return true;
      } else if ((openByName.get(name) ?? 0) > 0) {
        for (;;) {
          const top = open.pop()!;
          openByName.set(top, openByName.get(top)! - 1);
          if (top === name) break;
        }
      }
    }
    lt = html.indexOf('<', gt + 1);
  }
  return false;
}
