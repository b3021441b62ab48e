import { selectAll } from 'css-select';
import { type Selector, parse } from 'css-what';
import render from 'dom-serializer';
import { type AnyNode, type Document, type Element, type ParentNode, Text, isTag } from 'domhandler';
import { parseDocument } from 'htmlparser2';
import { type CssRule, cssDeclarations, cssRules } from './css.js';

/**
 * What an HTML message shows a reader, set against what it holds: the HTML is parsed once (with
 * htmlparser2, as html-to-text parses it), and read again with what its markup hides taken out and
 * what its stylesheet writes in put in. Everything here is an over-reading on the side of "hidden":
 * a style that may hide a paper's line makes the paper uncertain, never counted as the machine read it.
 *
 * Hidden: an element with the `hidden` attribute, a <template>, and an element whose inline style,
 * or a rule of a <style> element that matches it (css-select, any selector a browser takes), says
 *   - display:none, visibility:hidden or collapse, Outlook's mso-hide:all;
 *   - opacity under 0.1, a font size of 2px or less, a transparent text colour;
 *   - a height or width of 1px or less with overflow hidden, a clip of nothing;
 *   - a place far off the page (left, top, a margin or text-indent of -500px or more), a scale of 0.
 * The cascade is not worked out: a hiding rule hides, whatever else overrides it.
 * Written in: the text a stylesheet's ::before or ::after rule puts beside an element (CSS escapes
 * read, so that "\2713" is a tick); content that is not plain text (a counter, an attribute) is
 * written as U+FFFD, which no paper line reads as certain.
 * Outlook (the Word engine) also shows what conditional comments hold for it (<!--[if mso]>) and
 * leaves out what they hold for others (<!--[if !mso]><!-->); that is read as a second view.
 * Not seen: a linked stylesheet (mail clients do not fetch one), text coloured as its background,
 * anything a script does.
 */
export interface HtmlReadings {
  /** The HTML as text, nothing left out (the same parse and conversion as the views). */
  held: string;
  views: HtmlView[];
}
export type HtmlView = { client: string; text: string } | { client: string; text: null; why: string };

/** Markup by which HTML can show otherwise than it holds: without any, it shows what it holds. */
const MAY_HIDE = /<style|\sstyle\s*=|<template|\shidden|<!--\s*\[if/i;
/** Selectors from hiding rules that are matched, at most (a stylesheet of more is not read). */
const MAX_HIDING_SELECTORS = 500;
const MAX_HIDING_SELECTOR_CHARS = 100_000;
/** Text a stylesheet writes in (::before, ::after), at most, over the whole message. */
const MAX_WRITTEN_CHARS = 1_000_000;

export function htmlReadings(html: string, convert: (html: string) => string): HtmlReadings | null {
  if (!MAY_HIDE.test(html)) return null;
  const doc = parseDocument(html, { decodeEntities: true });
  const outlook = outlookHtml(html);
  // The text held is made before the document is changed; nothing is converted when nothing is hidden or written in.
  let held: string | null = null;
  const heldText = (): string => (held ??= convert(render(doc)));
  const views: HtmlView[] = [];
  const browser = shownText(doc, heldText, convert);
  if (browser !== null) views.push({ client: 'a mail client', ...browser });
  if (outlook !== html) {
    const shown = parseDocument(outlook, { decodeEntities: true });
    views.push({ client: 'Outlook', ...(shownText(shown, () => '', convert) ?? { text: convert(render(shown)) }) });
  }
  return views.length === 0 ? null : { held: heldText(), views };
}

/**
 * The document as text, less what it hides and with what its stylesheet writes (the document is
 * changed; `before` is called first, to read it unchanged), or null when it hides and writes nothing.
 */
function shownText(doc: Document, before: () => string, convert: (html: string) => string): { text: string } | { text: null; why: string } | null {
  const sheet = readStylesheets(doc);
  if ('why' in sheet) return { text: null, why: sheet.why };
  const hidden = new Set<AnyNode>();
  // Each selector parsed alone (so that none can take in the next), then all matched as one list, in one walk of the document.
  const parsed: Selector[][] = [];
  for (const selector of new Set(sheet.hiding)) {
    const one = parseSelector(selector);
    if (one === null) return { text: null, why: `its stylesheet hides what "${selector.slice(0, 100)}" selects, which cannot be matched here` };
    parsed.push(...one);
  }
  const all = parsed.length === 0 ? [] : matchAll(parsed, doc);
  if (all === null) {
    const bad = [...new Set(sheet.hiding)].find((selector) => matchAll(selector, doc) === null) ?? '';
    return { text: null, why: `its stylesheet hides what "${bad.slice(0, 100)}" selects, which cannot be matched here` };
  }
  for (const e of all) hidden.add(e);
  const written: { element: Element; where: 'before' | 'after'; text: string }[] = [];
  let writtenChars = 0;
  for (const g of sheet.generated) {
    const matched = matchAll(g.selector, doc);
    if (matched === null) return { text: null, why: `its stylesheet writes text beside what "${g.selector.slice(0, 100)}" selects, which cannot be matched here` };
    for (const element of matched) written.push({ element, where: g.where, text: g.text });
    if ((writtenChars += matched.length * g.text.length) > MAX_WRITTEN_CHARS) {
      return { text: null, why: `its stylesheet writes over ${MAX_WRITTEN_CHARS} characters of text in` };
    }
  }
  const walk = (nodes: AnyNode[]): void => {
    for (const n of nodes) {
      if (!isTag(n)) continue;
      if (n.name === 'template' || n.attribs.hidden !== undefined || (n.attribs.style !== undefined && hides(cssDeclarations(n.attribs.style)))) hidden.add(n);
      walk(n.children);
    }
  };
  walk(doc.children);
  if (hidden.size === 0 && written.length === 0) return null;
  before();
  for (const w of written) {
    const text = new Text(w.text);
    text.parent = w.element;
    if (w.where === 'before') w.element.children.unshift(text);
    else w.element.children.push(text);
  }
  // Each parent's children filtered once: taking hidden nodes out one by one costs the square of a long run of siblings.
  const parents = new Set<ParentNode>();
  for (const n of hidden) if (n.parent) parents.add(n.parent);
  for (const p of parents) p.children = p.children.filter((c) => !hidden.has(c));
  return { text: convert(render(doc)) };
}

interface Stylesheet {
  /** Selectors of rules that hide what they match. */
  hiding: string[];
  /** Text written before or after what a selector matches. */
  generated: { selector: string; where: 'before' | 'after'; text: string }[];
}

/** A pseudo-element at the end of a selector (where CSS allows one): the four CSS 2 ones with one colon or two, any other with two. */
const PSEUDO_ELEMENT = /(?:::?(before|after|first-line|first-letter)|::([a-z-]+)(?:\([^)]*\))?)\s*$/i;

function readStylesheets(doc: Document): Stylesheet | { why: string } {
  const out: Stylesheet = { hiding: [], generated: [] };
  for (const style of selectAll<AnyNode, Element>('style', doc)) {
    const rules = cssRules(style.children.map((c) => (c.type === 'text' ? (c as Text).data : '')).join(''));
    if (rules === null) return { why: 'its stylesheet nests rules too deep to read' };
    for (const rule of rules) visitRule(rule, out);
  }
  const selectors = [...out.hiding, ...out.generated.map((g) => g.selector)];
  if (selectors.length > MAX_HIDING_SELECTORS || selectors.reduce((sum, s) => sum + s.length, 0) > MAX_HIDING_SELECTOR_CHARS) {
    return { why: `its stylesheet has over ${MAX_HIDING_SELECTORS} selectors, or ${MAX_HIDING_SELECTOR_CHARS} characters of them, in rules that hide or write text` };
  }
  return out;
}

function visitRule(rule: CssRule, out: Stylesheet): void {
  const hiding = hides(rule.declarations);
  const content = rule.declarations.get('content');
  for (const raw of rule.selectors) {
    const selector = raw.trim();
    const pseudo = PSEUDO_ELEMENT.exec(selector);
    if (pseudo === null) {
      if (hiding) out.hiding.push(selector);
      continue;
    }
    const element = bare(selector.slice(0, pseudo.index));
    const which = pseudo[1]?.toLowerCase();
    if (which === 'before' || which === 'after') {
      // A rule for ::before or ::after hides only what it writes itself.
      const text = content === undefined ? '' : generatedText(content);
      if (text !== '') out.generated.push({ selector: element, where: which, text });
    } else if (which !== undefined && hiding) {
      // ::first-line and ::first-letter hide the element's own text (taken as all of it).
      out.hiding.push(element);
    }
    // Other pseudo-elements (::selection, ::marker, ::placeholder) style nothing a paper's text is shown by.
  }
}

/** What a selector matches once its pseudo-element is taken off (css-select matches elements only): `*` where nothing is left. */
function bare(selector: string): string {
  const s = selector.trim();
  return s === '' || /[>+~]$/.test(s) ? `${s}*` : s;
}

/** A selector as css-what parses it for css-select; null when it cannot. */
function parseSelector(selector: string): Selector[][] | null {
  try {
    return parse(selector);
  } catch {
    return null;
  }
}

/** The elements a selector matches; null when css-select cannot read it. */
function matchAll(selector: string | Selector[][], doc: Document): Element[] | null {
  try {
    return selectAll<AnyNode, Element>(selector, doc);
  } catch {
    return null;
  }
}

/** A CSS length in px (em and % taken at a 16px font), or null when it is not one. */
function px(value: string): number | null {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))([a-z%]*)$/.exec(value.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const per: Record<string, number> = { '': n === 0 ? 0 : NaN, px: 1, pt: 4 / 3, pc: 16, in: 96, cm: 96 / 2.54, mm: 96 / 25.4, q: 96 / 101.6, em: 16, rem: 16, ex: 8, ch: 8, '%': 0.16 };
  const f = per[m[2]!];
  return f === undefined || Number.isNaN(f) ? null : n * f;
}

/** A colour that shows nothing: transparent, or an alpha of 0 (#rgba, #rrggbbaa, a fourth argument after commas or one after "/"). */
const TRANSPARENT = /^(?:transparent|#[0-9a-f]{3}0|#[0-9a-f]{6}00|[a-z-]+\((?:[^,/()]*,){3}\s*0*\.?0+%?\s*\)|[a-z-]+\([^/()]*\/\s*0*\.?0+%?\s*\))$/;

/** Whether a set of declarations (property → value, lower case) hides what it applies to. */
export function hides(d: ReadonlyMap<string, string>): boolean {
  const get = (p: string): string => d.get(p) ?? '';
  if (get('display') === 'none' || /^(?:hidden|collapse)$/.test(get('visibility')) || get('mso-hide') === 'all') return true;
  const opacity = /^(\d*\.?\d+)(%?)$/.exec(get('opacity'));
  if (opacity && Number(opacity[1]) / (opacity[2] === '%' ? 100 : 1) < 0.1) return true;
  if (/opacity\(\s*0*\.?0+%?\s*\)/.test(get('filter'))) return true;
  const size = px(get('font-size'));
  if (size !== null && size <= 2) return true;
  if (TRANSPARENT.test(get('color')) || TRANSPARENT.test(get('-webkit-text-fill-color'))) return true;
  const clipped = ['overflow', 'overflow-x', 'overflow-y'].some((p) => /^(?:hidden|clip)\b/.test(get(p)));
  if (clipped && ['height', 'max-height', 'width', 'max-width'].some((p) => (px(get(p)) ?? 2) <= 1)) return true;
  if (/^rect\(\s*0*\.?0+(?:px)?[\s,]+0*\.?0+(?:px)?[\s,]+0*\.?0+(?:px)?[\s,]+0*\.?0+(?:px)?\s*\)$/.test(get('clip'))) return true;
  if (['left', 'top', 'margin-left', 'margin-top', 'text-indent'].some((p) => (px(get(p)) ?? 0) <= -500)) return true;
  if (/scale[xy3d]*\(\s*0*\.?0+\s*[,)]/.test(get('transform')) || /^0*\.?0+(?:\s|$)/.test(get('scale'))) return true;
  return false;
}

/**
 * The text a `content` value writes: its strings, CSS escapes decoded; U+FFFD for anything else
 * it writes (a counter, an attribute's value, a quote mark); '' for none or normal.
 */
export function generatedText(value: string): string {
  if (/^(?:none|normal|""|'')$/.test(value.trim())) return '';
  let out = '';
  for (const m of value.matchAll(/"((?:[^"\\]|\\[\s\S])*)"|'((?:[^'\\]|\\[\s\S])*)'|([^\s"']+)/g)) {
    const s = m[1] ?? m[2];
    if (s !== undefined) out += s.replace(/\\(?:([0-9a-f]{1,6})\s?|(\n)|([\s\S]))/gi, (_x, hex: string | undefined, nl: string | undefined, ch: string | undefined) => {
      if (hex !== undefined) {
        const cp = parseInt(hex, 16);
        return cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? '\ufffd' : String.fromCodePoint(cp);
      }
      return nl !== undefined ? '' : (ch ?? '');
    });
    else out += '\ufffd';
  }
  return out;
}

/**
 * The HTML as Outlook's Word engine shows it: what a downlevel-hidden conditional comment holds
 * (<!--[if mso]>…<![endif]-->) is shown, unless its condition starts with "!"; what a
 * downlevel-revealed one holds for other clients (<!--[if !mso]><!-->…<!--<![endif]-->) is not.
 * Any condition not starting with "!" is taken to hold for Outlook.
 */
export function outlookHtml(html: string): string {
  const opening = /<!--\s*\[if\s+([^\]]{0,200})\]\s*>/gi;
  let out = '';
  let from = 0;
  for (let m = opening.exec(html); m !== null; m = opening.exec(html)) {
    const end = html.indexOf('<![endif]', opening.lastIndex);
    // A conditional comment never ended is left as it is (a comment to everyone), and so is one ended otherwise than "<![endif]-->".
    if (end < 0) break;
    const tail = /^\s{0,8}--\s{0,8}>/.exec(html.slice(end + 9, end + 30));
    if (tail === null) {
      opening.lastIndex = end + 9;
      continue;
    }
    const close = end + 9 + tail[0].length - 1;
    let inner = html.slice(opening.lastIndex, end);
    const negated = m[1]!.trim().startsWith('!');
    // Downlevel-revealed: "<!-->" right after the condition, "<!--" right before its end.
    if (inner.startsWith('<!-->')) inner = inner.slice(5).replace(/<!--\s*$/, '');
    out += html.slice(from, m.index) + (negated ? '' : inner);
    from = close + 1;
    opening.lastIndex = from;
  }
  return from === 0 ? html : out + html.slice(from);
}
