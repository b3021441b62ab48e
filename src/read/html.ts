import { type AnyNode, Element, isTag, isText } from 'domhandler';
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
 * columns wrap a cell's text at a width, and pad a layout table holding the whole letter. Nor are
 * lines wrapped at 80 characters, as html-to-text wraps them by default: a mail client wraps a line
 * as wide as its window, and a table row wrapped in two left its mark on a line of its own.
 *
 * The converter is compiled once, as html-to-text recommends for many conversions: converting
 * through mailparser again (which compiles its options on every call) cost about 450 µs for a short
 * HTML ballot, the compiled converter about 50 µs.
 */
export const MAX_HTML_NESTING = 1000;
const cell: FormatCallback = (elem, walk, builder) => {
  builder.addInline(' ');
  walk(elem.children ?? [], builder);
  builder.addInline(' ');
};
/** What the converter's tables share in one conversion (html-to-text hands formatters no state of their own). */
let spanState = { budget: 0, spread: new WeakSet<Element>() };
const table: FormatCallback = (elem, walk, builder, options) => {
  spreadRowSpans(elem as unknown as Element, spanState);
  builder.openBlock({ leadingLineBreaks: options.leadingLineBreaks ?? 2 });
  walk(elem.children ?? [], builder);
  builder.closeBlock({ trailingLineBreaks: options.trailingLineBreaks ?? 2 });
};
const convert = compile({
  limits: { maxDepth: MAX_HTML_NESTING },
  wordwrap: false,
  formatters: { cell, table },
  selectors: [
    { selector: 'table', format: 'table', options: { leadingLineBreaks: 2, trailingLineBreaks: 2 } },
    { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'cell' },
    { selector: 'th', format: 'cell' },
  ],
});

/** The HTML as text: html-to-text with the formatters above, its tables' budget fresh for each conversion. */
function convertHtml(html: string): string {
  spanState = { budget: MAX_SPANNED_CELLS, spread: new WeakSet<Element>() };
  return convert(html);
}

/** Copies of cells spanning rows written into the rows below, at most, in one conversion. */
const MAX_SPANNED_CELLS = 10_000;
/** The most characters (white space aside) a cell may hold and be taken for a mark spanning rows: "[X]", "yes", "☒". */
const MAX_MARK_CHARS = 4;

/**
 * A mark in a cell that spans rows (`rowspan`) stands beside each of them: a cross drawn across two
 * candidates' rows is beside both to whoever reads the table. So a cell spanning rows that holds
 * what may be a mark (a few characters) is read in each row it spans, in its column: a paper with one
 * vacancy and such a cross is spoilt (two candidates marked), never counted for the first row's
 * candidate alone. A longer cell (a heading such as "Candidates" beside their rows, a logo's name
 * beside a signature) is read once, in its first row, as html-to-text reads it. Only the table's own
 * rows are changed (a table inside a cell spreads its own, once), before they are written; copies
 * are bounded, as a table of 2 MB could otherwise ask for billions.
 */
function spreadRowSpans(tableElem: Element, state: { budget: number; spread: WeakSet<Element> }): void {
  if (state.spread.has(tableElem)) return;
  state.spread.add(tableElem);
  const rows: Element[] = [];
  for (const c of tableElem.children) {
    if (!isTag(c)) continue;
    if (c.name === 'tr') rows.push(c);
    else if (c.name === 'thead' || c.name === 'tbody' || c.name === 'tfoot') for (const r of c.children) if (isTag(r) && r.name === 'tr') rows.push(r);
  }
  // Marks spanning down from rows above, in column order: the column each stands in, and how many rows more.
  let spans: { column: number; width: number; cell: Element; left: number }[] = [];
  for (const row of rows) {
    if (state.budget <= 0) return;
    if (spans.length === 0 && !row.children.some((c) => isTag(c) && spanOf(c, 'rowspan') > 1)) continue;
    const children: AnyNode[] = [];
    const below: typeof spans = [];
    let column = 0;
    let next = 0;
    // Writes the marks from above that stand at or before `limit` (or the column reached).
    const placeSpansUpTo = (limit: number): void => {
      for (; next < spans.length && spans[next]!.column <= Math.max(limit, column); next++) {
        const s = spans[next]!;
        if (state.budget > 0) {
          state.budget--;
          children.push(new Element(s.cell.name, {}, s.cell.children));
        }
        column = Math.max(column, s.column) + s.width;
        if (s.left > 1) below.push({ ...s, left: s.left - 1 });
      }
    };
    for (const c of row.children) {
      if (!isTag(c) || (c.name !== 'td' && c.name !== 'th')) {
        children.push(c);
        continue;
      }
      placeSpansUpTo(column);
      const width = spanOf(c, 'colspan');
      const down = spanOf(c, 'rowspan');
      if (down > 1 && mayBeMark(c)) below.push({ column, width, cell: c, left: down - 1 });
      children.push(c);
      column += width;
    }
    placeSpansUpTo(Number.MAX_SAFE_INTEGER);
    row.children = children as typeof row.children;
    spans = below;
  }
}

/** Whether a cell holds text, and no more than MAX_MARK_CHARS characters of it (white space aside): looked at only so far. */
function mayBeMark(cell: Element): boolean {
  let chars = 0;
  const stack: AnyNode[] = [...cell.children];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (isText(n)) {
      chars += n.data.replace(/\s+/g, '').length;
      if (chars > MAX_MARK_CHARS) return false;
    } else if (isTag(n)) {
      for (const c of n.children) stack.push(c);
    }
  }
  return chars > 0;
}

/**
 * A cell's rowspan or colspan as a browser takes it: a whole number, at most 65534; `rowspan="0"`
 * spans the rest of the table; anything else is 1.
 */
function spanOf(cell: Element, attribute: 'rowspan' | 'colspan'): number {
  const n = Number.parseInt(cell.attribs[attribute] ?? '', 10);
  if (n === 0 && attribute === 'rowspan') return 65_534;
  return Number.isFinite(n) && n > 1 ? Math.min(n, 65_534) : 1;
}

export function htmlAsText(html: string, maxChars: number): { text: string } | { error: string } {
  const why = refused(html, maxChars);
  if (why !== null) return { error: why };
  try {
    return { text: convertHtml(html) };
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
    return htmlReadings(html, convertHtml, (shown) => refused(shown, maxChars));
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
