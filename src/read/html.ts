import { compile } from 'html-to-text';

/**
 * The HTML version of a message (multipart/alternative) as text, converted as mailparser converts
 * the body of an HTML-only message: html-to-text with its default formatters, walking elements no
 * deeper than mailparser lets it. The converter is compiled once, as html-to-text recommends for
 * many conversions: converting through mailparser again (which compiles its options on every call)
 * cost about 450 µs for a short HTML ballot, the compiled converter about 50 µs (same output).
 */
export const MAX_HTML_NESTING = 1000;
const convert = compile({ limits: { maxDepth: MAX_HTML_NESTING } });

export function htmlAsText(html: string, maxChars: number): { text: string } | { error: string } {
  return converted(html, maxChars, convert);
}

function converted(html: string, maxChars: number, using: (html: string) => string): { text: string } | { error: string } {
  if (html.length > maxChars) return { error: `HTML too long for parsing ${html.length} characters` };
  // The HTML parser under html-to-text (htmlparser2) costs the square of the nesting depth, and
  // html-to-text's walk is recursive: deep nesting is refused before either runs.
  if (nestsDeeperThan(html, MAX_HTML_NESTING)) return { error: `HTML nested deeper than ${MAX_HTML_NESTING} levels` };
  try {
    return { text: using(html) };
  } catch (e) {
    return { error: `the HTML cannot be converted to text: ${(e as Error).message.slice(0, 200)}` };
  }
}

/**
 * Markup that hides what it holds from a reader (an inline style of display:none, visibility:hidden
 * or Outlook's mso-hide:all, the hidden attribute, a <template>), looked for before converting the
 * HTML again without it. The word "hidden" in prose only costs that second conversion.
 */
const MAY_HIDE = /display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all|\shidden[\s=/>]|<template[\s>]/i;
/** The same conversion, skipping what MAY_HIDE looks for (white space squeezed out of style attributes first). */
const convertShown = compile({
  limits: { maxDepth: MAX_HTML_NESTING },
  selectors: [
    { selector: '[style*="display:none"i]', format: 'skip' },
    { selector: '[style*="visibility:hidden"i]', format: 'skip' },
    { selector: '[style*="mso-hide:all"i]', format: 'skip' },
    { selector: '[hidden]', format: 'skip' },
    // A template's content is never shown (HTML's inert <template>).
    { selector: 'template', format: 'skip' },
  ],
});
const STYLE_ATTRIBUTE = /(\sstyle\s*=\s*)(?:"([^"]*)"|'([^']*)')/gi;

/**
 * The HTML as text the way a mail client shows it, leaving out what inline styles, the hidden
 * attribute and templates hide; null when the HTML has no such markup (it shows all it holds, as htmlAsText reads
 * it). Styles set by a stylesheet or a class are not seen: only a browser engine could tell those.
 */
export function htmlAsShownText(html: string, maxChars: number): { text: string } | { error: string } | null {
  if (!MAY_HIDE.test(html)) return null;
  const squeezed = html.replace(STYLE_ATTRIBUTE, (_m, lead: string, dq: string | undefined, sq: string | undefined) =>
    dq !== undefined ? `${lead}"${dq.replace(/\s+/g, '')}"` : `${lead}'${(sq ?? '').replace(/\s+/g, '')}'`,
  );
  return converted(squeezed, maxChars, convertShown);
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
