import { selectAll } from 'css-select';
import { type Selector, parse } from 'css-what';
import render from 'dom-serializer';
import { type AnyNode, type Document, type Element, type ParentNode, Text, isTag } from 'domhandler';
import { parseDocument } from 'htmlparser2';
import { struckText } from '../model/marks.js';
import { type CssRule, cssDeclarations, cssRules } from './css.js';

/**
 * What an HTML message shows a reader, set against what it holds: the HTML is parsed once (with
 * htmlparser2, as html-to-text parses it), and read again with what its markup hides taken out and
 * what its stylesheet writes in put in. Where it cannot be told, the reading errs towards "hidden":
 * a style that may hide a paper's line makes the paper uncertain, never counted as the machine read it.
 *
 * Each element's own values are the cascade's: the rules of <style> elements that match it
 * (matched by css-select; rules for any screen size or medium all count; a hiding rule whose
 * selector css-select cannot read leaves the reading unknown) and its style attribute, by
 * importance, specificity and order. Hidden, with all it holds: an element with
 * the `hidden` attribute, a <template>, and an element whose own values say
 *   - display:none, Outlook's mso-hide:all, an opacity under 0.1;
 *   - a height or width of 1px or less with overflow hidden, a clip of nothing;
 *   - a place far off the page (left, top, a margin or text-indent of -500px or more), a scale of 0;
 *   - a blur of 3px or more, a contrast of 0, content-visibility:hidden, a zoom under 0.15.
 * Hidden too: what a browser does not render (a <canvas>, <video>, <audio>, <iframe>, <noframes>,
 * <noembed>, <meter> or <progress> holds as a fallback; a <dialog> not open; a closed <details> but
 * its <summary>).
 * Hidden text: text whose inherited font size is 2px or less, whose colour (or fill) is
 * transparent or the colour behind it (the nearest background set, by a style or bgcolor; white for
 * the page; not judged behind a picture or gradient), or whose visibility is hidden or collapse; a
 * child that sets its own shows its text.
 * Written in: the text a stylesheet's ::before or ::after rule puts beside an element (CSS escapes
 * read, so that "\2713" is a tick); content that is not plain text (a counter, an attribute) is
 * written as U+FFFD, which no paper line reads as certain.
 * Reordered: the text of a <bdo>, of an element whose dir is rtl, or whose direction is rtl or
 * unicode-bidi overrides, embeds or isolates, is put between U+202E and U+202C, the controls that do
 * the same in plain text, so that a paper's line in it is unsure (paper.ts), as with those controls;
 * text forced right to left (a <bdo dir="rtl">, an rtl bidi-override) is also read reversed, its
 * brackets mirrored, as it is shown ("]X[" is shown "[X]"). So is the text of an element a style
 * may show elsewhere than its place in the text (movesText(): positioned, shifted, transformed, a
 * negative vertical margin, flex or grid order): a mark drawn beside another candidate's line
 * than the one it is read on makes that line unsure, not counted as read.
 * Glyphs not known: text in a font the message supplies itself (an @font-face rule with a src: a
 * font embedded, fetched or aliased to another, which may draw any character as any other; Word's
 * @font-face rules name fonts and supply none) is read as U+FFFD, a character that cannot be told.
 * Outlook (the Word engine) also shows what conditional comments hold for it (<!--[if mso]>) and
 * leaves out what they hold for others (<!--[if !mso]><!-->); that is read as a second view.
 * Not seen: a linked or imported stylesheet (most mail clients fetch none; nothing is fetched
 * here), text on a picture of its own colour, a colour not written as #hex, rgb() or a common
 * name, anything a script does, a float (which may draw a mark at the far end of its own line or the
 * next), lines drawn over each other by a small line-height, a negative horizontal margin of a few
 * characters.
 */
export interface HtmlReadings {
  /** The HTML as text as the machine reads it: html-to-text of the HTML as parsed (the same parse and conversion as the rest). */
  read: string;
  /** The HTML as text as every mail client shows it, whatever it makes of styles: less a title and a script, with form controls as they show. */
  held: string;
  /** As particular clients show it, where that is not `held`: its styles (a mail client), and its conditional comments (Outlook). */
  views: HtmlView[];
}
export type HtmlView = { client: string; text: string } | { client: string; text: null; why: string };

/** Markup by which HTML can show otherwise than it holds (a style, a template, hidden, a conditional comment, right to left, a form control, struck text): without any, it shows what it holds. */
const MAY_HIDE = /<style|\sstyle\s*=|<(?:svg|object|embed)[\s/>]|<template|\shidden|<!--\s*\[if|<bdo|\sdir\s*=\s*["']?\s*rtl|\scolor\s*=|\sbgcolor\s*=|<title|<script|<input|<select|<(?:s|strike|del)[\s/>]|<(?:canvas|video|audio|iframe|noframes|noembed|meter|progress|dialog|details)[\s/>]/i;
/** Selectors of rules that size, colour, hide or write text, at most (a stylesheet of more is not read). */
const MAX_STYLE_SELECTORS = 500;
const MAX_STYLE_SELECTOR_CHARS = 100_000;
/** Elements matched by those rules, counted once for each rule, at most (the cascade is worked out over each). */
const MAX_RULE_MATCHES = 1_000_000;
/** Text a stylesheet writes in (::before, ::after), at most, over the whole message. */
const MAX_WRITTEN_CHARS = 1_000_000;

/** The client every reading of an HTML message shares (what `held` is): a view's `client` is never this. */
export const EVERY_CLIENT = 'every mail client';

/**
 * The readings of an HTML message; `refused` says why an HTML text (Outlook's, with its conditional
 * comments opened) is not parsed at all, as the caller's limits on length and nesting say.
 */
export function htmlReadings(html: string, convert: (html: string) => string, refused: (html: string) => string | null): HtmlReadings | null {
  if (!MAY_HIDE.test(html)) return null;
  const doc = parseDocument(html, { decodeEntities: true });
  // What the machine reads is made before the document is changed, and only when it is.
  let raw: string | null = null;
  const universal = shownByAll(doc);
  if (universal.size > 0) {
    raw = convert(render(doc));
    applyShownByAll(universal);
  }
  let held: string | null = null;
  const heldText = (): string => (held ??= convert(render(doc)));
  const views: HtmlView[] = [];
  const browser = shownText(doc, heldText, convert);
  if (browser !== null) views.push({ client: 'a mail client', ...browser });
  const outlook = outlookHtml(html);
  if (outlook !== html) {
    const why = refused(outlook);
    if (why !== null) views.push({ client: 'Outlook', text: null, why });
    else {
      const shown = parseDocument(outlook, { decodeEntities: true });
      applyShownByAll(shownByAll(shown));
      views.push({ client: 'Outlook', ...(shownText(shown, () => '', convert) ?? { text: convert(render(shown)) }) });
    }
  }
  if (views.length === 0 && raw === null) return null;
  const shownToAll = heldText();
  return { read: raw ?? shownToAll, held: shownToAll, views };
}

/**
 * What every mail client does to HTML, whatever it makes of styles and newer markup: a title and a
 * script are not shown (html-to-text writes their text); a form control is shown as what it shows
 * (a checkbox as a box, ticked when checked; a text field as its value; a list as its chosen
 * option); the text of an <s>, <strike> or <del> is shown struck through (struckText()). The nodes
 * to take out (null) or write as text.
 */
function shownByAll(doc: Document): Map<AnyNode, string | null> {
  const out = new Map<AnyNode, string | null>();
  const stack: { node: AnyNode; struck: boolean }[] = [...doc.children].map((node) => ({ node, struck: false }));
  while (stack.length > 0) {
    const { node, struck } = stack.pop()!;
    if (node.type === 'text') {
      if (struck && (node as Text).data.trim() !== '') out.set(node, struckText((node as Text).data));
      continue;
    }
    if (!isTag(node)) continue;
    if (NEVER_SHOWN.has(node.name) && textOf(node).trim() !== '') {
      out.set(node, null);
      continue;
    }
    if (PICTURES.has(node.name)) {
      // A drawing (an SVG, an embedded object) is shown as whatever it draws, which no reading of text
      // can say: a tick drawn in a box is a mark that cannot be read.
      out.set(node, PICTURE);
      continue;
    }
    const control = controlShows(node);
    if (control !== null) {
      out.set(node, struck ? struckText(control) : control);
      continue;
    }
    for (const child of node.children) stack.push({ node: child, struck: struck || STRUCK.has(node.name) });
  }
  return out;
}

/** Elements every mail client draws as a picture: SVG drawings and embedded objects. */
const PICTURES = new Set(['svg', 'object', 'embed']);
/** A picture in the text (U+FFFC, the object replacement character): shown, but as what cannot be told. */
const PICTURE = '\uFFFC';

/** A CSS value that paints a picture (an image or a gradient), which may show anything. */
const PICTURE_VALUE = /url\(|gradient|image-set|element\(/i;

/** Whether an element's own background paints a picture. */
function paintsPicture(own: ReadonlyMap<string, string>): boolean {
  return PICTURE_VALUE.test(own.get('background-image') ?? own.get('background') ?? '');
}

/** Elements every mail client shows struck through. */
const STRUCK = new Set(['s', 'strike', 'del']);

/** Takes out, or writes as text, the nodes shownByAll names, each parent's children once. */
function applyShownByAll(changes: ReadonlyMap<AnyNode, string | null>): void {
  const parents = new Set<ParentNode>();
  for (const n of changes.keys()) if (n.parent) parents.add(n.parent);
  for (const p of parents) {
    const children: AnyNode[] = [];
    for (const c of p.children) {
      const change = changes.get(c);
      if (change === undefined) children.push(c);
      else if (change !== null) children.push(textIn(p, change));
    }
    p.children = children as typeof p.children;
  }
}

/**
 * The document as text, less what it hides and with what its stylesheet writes (the document is
 * changed; `before` is called first, to read it unchanged), or null when it hides and writes nothing.
 *
 * Each element's own value of the properties that can hide is the cascade's: the declarations of
 * the rules that match it and of its style attribute, by importance, then specificity, then order
 * (inline above any rule but an !important one). What an element's own values hide goes with all
 * it holds (display:none, a zero box, an off-page place, an opacity under 0.1); what is inherited
 * (font size, text colour, visibility) is followed down the tree, so that a child that sets its own
 * size, colour or visibility shows its text again, as in a browser.
 */
function shownText(doc: Document, before: () => string, convert: (html: string) => string): { text: string } | { text: null; why: string } | null {
  const sheet = readStylesheets(doc);
  if ('why' in sheet) return { text: null, why: sheet.why };
  const matches = new Map<Element, Match[]>();
  // A selector met again (in another rule) is matched once.
  const bySelector = new Map<string, { parsed: Selector[][]; elements: Element[] } | null>();
  let matched = 0;
  for (const [order, m] of sheet.matching.entries()) {
    let found = bySelector.get(m.selector);
    if (found === undefined) {
      const parsed = parseSelector(m.selector);
      const elements = parsed === null ? null : matchAll(parsed, doc);
      bySelector.set(m.selector, (found = parsed === null || elements === null ? null : { parsed, elements }));
    }
    if (found === null) {
      // A rule that only shows may be dropped (as a browser drops a selector it cannot read): the reading errs towards hidden.
      if (!m.hides) continue;
      return { text: null, why: `its stylesheet ${hides(m.rule.declarations) ? 'hides' : strikesText(m.rule.declarations) ? 'strikes through' : inWebFont(m.rule.declarations, sheet.webFonts) === true ? 'sets a font of its own for' : 'moves'} what "${m.selector.slice(0, 100)}" selects, which cannot be matched here` };
    }
    if ((matched += found.elements.length) > MAX_RULE_MATCHES) return { text: null, why: `its stylesheet's rules match elements over ${MAX_RULE_MATCHES} times in all` };
    const specificity = Math.max(0, ...found.parsed.map(specificityOf));
    for (const e of found.elements) {
      let list = matches.get(e);
      if (list === undefined) matches.set(e, (list = []));
      list.push({ rule: m.rule, specificity, order });
    }
  }
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
  // A list marker set by a style attribute, for the item or the list's items.
  for (const e of selectAll<AnyNode, Element>('[style*="list-style" i]', doc)) {
    const marker = listMarker(cssDeclarations(e.attribs.style ?? '').declarations);
    if (marker === null) continue;
    const items = e.name === 'li' ? [e] : selectAll<AnyNode, Element>('li', e);
    for (const element of items) written.push({ element, where: 'before', text: marker });
    if ((writtenChars += items.length * marker.length) > MAX_WRITTEN_CHARS) return { text: null, why: `its stylesheet writes over ${MAX_WRITTEN_CHARS} characters of text in` };
  }
  // The text held is read before what the stylesheet writes is put in (as text, it is then read as its element's text).
  if (written.length > 0) before();
  for (const w of written) {
    if (w.where === 'before') w.element.children.unshift(textIn(w.element, w.text));
    else w.element.children.push(textIn(w.element, w.text));
  }
  const hidden = new Set<AnyNode>();
  const reordered: Element[] = [];
  const overridden: Element[] = [];
  const struck: Element[] = [];
  const unknownGlyphs: Text[] = [];
  // Elements shown as a picture where they stand: holding no text, with a background picture; or
  // drawing something of their own instead of their text (a video, a frame).
  const pictured: Element[] = [];
  const measure = { budget: MAX_MEASURED_CHARS };
  // The walk is a loop over a stack (a document may nest as deep as html.ts lets it).
  // `reordering`, `reversing`: inside text that may be shown in another order, or is forced right to
  // left; only the outermost such element is marked, or reversed (as a whole, once).
  // `striking`: inside text a style strikes through (a child cannot take a line-through off).
  const stack: { node: AnyNode; inherited: Inherited; reordering: boolean; reversing: boolean; striking: boolean }[] = [...doc.children]
    .reverse()
    .map((node) => ({ node, inherited: ROOT_STYLE, reordering: false, reversing: false, striking: false }));
  while (stack.length > 0) {
    const { node, inherited, reordering, reversing, striking } = stack.pop()!;
    if (node.type === 'text') {
      if ((node as Text).data.trim() !== '' && textHidden(inherited)) hidden.add(node);
      else if ((node as Text).data.trim() !== '' && inherited.webFont) unknownGlyphs.push(node as Text);
      continue;
    }
    if (!isTag(node)) continue;
    if (node.name === 'template' || node.attribs.hidden !== undefined || (node.name === 'dialog' && node.attribs.open === undefined)) {
      hidden.add(node);
      continue;
    }
    if (NOT_RENDERED.has(node.name)) {
      // Its fallback text is not shown; what it draws instead (a video's poster, a frame's page, a
      // player, a bar) is a picture where it stands, unless it draws nothing (a canvas, with no script).
      if (node.name === 'canvas' || node.name === 'noframes' || node.name === 'noembed') hidden.add(node);
      else {
        for (const c of node.children) hidden.add(c);
        pictured.push(node);
      }
      continue;
    }
    if (node.name === 'details' && node.attribs.open === undefined) {
      // Closed: only its first <summary> shows until the reader opens it.
      const summary = node.children.find((c) => isTag(c) && c.name === 'summary');
      for (const c of node.children) if (c !== summary && (isTag(c) || (c.type === 'text' && (c as Text).data.trim() !== ''))) hidden.add(c);
    }
    const own = cascade(matches.get(node) ?? [], node);
    if (own.size > 0 && hidesBox(own)) {
      hidden.add(node);
      continue;
    }
    if (own.size > 0 && paintsPicture(own) && textOf(node).trim() === '') pictured.push(node);
    const rtl = /^\s*rtl\s*$/i.test(node.attribs.dir ?? '') || own.get('direction') === 'rtl';
    const override = (node.name === 'bdo' && rtl) || (rtl && /override/.test(own.get('unicode-bidi') ?? ''));
    const style = own.size > 0 ? inherit(inherited, own, sheet.webFonts) : inherited;
    const reorders =
      override || rtl || node.name === 'bdo' || /override|plaintext|embed|isolate/.test(own.get('unicode-bidi') ?? '') || (own.size > 0 && (movesText(own) || (!reordering && mayClip(node, own, style.fontPx, measure))));
    if (override && !reversing) overridden.push(node);
    if (reorders && !reordering) reordered.push(node);
    const strikes = strikesText(own);
    if (strikes && !striking) struck.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) {
      stack.push({ node: node.children[i]!, inherited: style, reordering: reordering || reorders, reversing: reversing || override, striking: striking || strikes });
    }
  }
  if (hidden.size === 0 && written.length === 0 && reordered.length === 0 && struck.length === 0 && unknownGlyphs.length === 0 && pictured.length === 0) return null;
  if (written.length === 0) before();
  // Text forced right to left is shown reversed, its brackets mirrored ("]X[" is shown "[X]"): so it is read.
  for (const e of overridden) showReversed(e);
  // Text in a font the message supplies may be shown as anything: each character is one that cannot be told.
  for (const t of unknownGlyphs) t.data = t.data.replace(/\S/gu, '\uFFFD');
  // A picture (a background, a video, a frame) is shown where its element stands.
  for (const e of pictured) e.children.push(textIn(e, PICTURE));
  // Text a style strikes through is shown struck, as <s> is by every client.
  for (const e of struck) for (const t of textNodes(e)) if (t.data.trim() !== '') t.data = struckText(t.data);
  // Text a browser may show in another order than it is stored (right to left, or by a bidi override)
  // or in another place is put between the controls that do the same in plain text, which make a
  // paper's line unsure; each line of its text too, so that an element of many lines (a block, a
  // flex box) has its controls on every one.
  for (const e of reordered) {
    for (const t of textNodes(e)) if (t.data.trim() !== '') t.data = t.data.replace(/[^\r\n]+/g, (line) => `\u202E${line}\u202C`);
    e.children.unshift(textIn(e, '\u202E'));
    e.children.push(textIn(e, '\u202C'));
  }
  // Each parent's children filtered once: taking hidden nodes out one by one costs the square of a long run of siblings.
  const parents = new Set<ParentNode>();
  for (const n of hidden) if (n.parent) parents.add(n.parent);
  for (const p of parents) p.children = p.children.filter((c) => !hidden.has(c));
  return { text: convert(render(doc)) };
}

/**
 * Elements a browser does not render, whose text is only a fallback for readers without the feature
 * (a canvas, a video, an audio player, a frame, noframes, noembed, a meter, a progress bar): a mail
 * client built on a browser engine shows none of it, but draws the element itself (a picture).
 */
const NOT_RENDERED = new Set(['canvas', 'video', 'audio', 'iframe', 'noframes', 'noembed', 'meter', 'progress']);

/** Elements whose text a mail client never shows, and html-to-text writes. */
const NEVER_SHOWN = new Set(['title', 'script']);

/**
 * What a form control shows as text, which html-to-text leaves out: a checkbox or radio button as a
 * box (ticked when checked), a text field as its value, a list as its chosen option (the first when
 * none is chosen); null for any other element.
 */
function controlShows(e: Element): string | null {
  if (e.name === 'input') {
    const type = (e.attribs.type ?? 'text').trim().toLowerCase();
    if (type === 'checkbox' || type === 'radio') return e.attribs.checked === undefined ? '☐' : '☑';
    // An image button draws its picture (a tick, say), which no reading of text can say.
    if (type === 'image') return PICTURE;
    if (type === 'hidden' || type === 'file') return null;
    return e.attribs.value ?? '';
  }
  if (e.name === 'select') {
    const options = selectAll<AnyNode, Element>('option', e);
    const chosen = options.find((o) => o.attribs.selected !== undefined) ?? options[0];
    return chosen === undefined ? '' : textOf(chosen);
  }
  return null;
}

/** The text nodes an element holds, in document order. */
function textNodes(e: Element): Text[] {
  const out: Text[] = [];
  const stack: AnyNode[] = [...e.children].reverse();
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n instanceof Text) out.push(n);
    else if (isTag(n)) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}

const textOf = (e: Element): string => textNodes(e).map((t) => t.data).join('');

/** A text node to put among a parent's children. */
function textIn(parent: ParentNode, data: string): Text {
  const text = new Text(data);
  text.parent = parent;
  return text;
}

const MIRRORED: Record<string, string> = { '(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<', '«': '»', '»': '«', '‹': '›', '›': '‹' };

/** The text an element holds, as a right-to-left override shows it: all of it reversed, brackets mirrored, put in its first text node. */
function showReversed(e: Element): void {
  const texts = textNodes(e);
  const first = texts[0];
  if (first === undefined) return;
  first.data = [...texts.map((t) => t.data).join('')].reverse().map((c) => MIRRORED[c] ?? c).join('');
  for (const t of texts.slice(1)) t.data = '';
}

interface Match {
  rule: CssRule;
  specificity: number;
  order: number;
}

/** What an element passes to what it holds: its font size in px, its text colour's and fill's transparency, its visibility. */
interface Inherited {
  fontPx: number;
  colorClear: boolean;
  fillClear: boolean | null;
  invisible: boolean;
  /** The text colour, and the colour behind it (the nearest background set); null where not known (a picture, a gradient, a colour not read here). */
  ink: Rgb | null;
  paper: Rgb | null;
  /** Shown in a font the message supplies (Stylesheet.webFonts). */
  webFont: boolean;
}
type Rgb = readonly [number, number, number];
/** A mail client's page: black text on white. */
const ROOT_STYLE: Inherited = { fontPx: 16, colorClear: false, fillClear: null, invisible: false, ink: [0, 0, 0], paper: [255, 255, 255], webFont: false };

const textHidden = (s: Inherited): boolean => s.fontPx <= 2 || (s.fillClear ?? s.colorClear) || s.invisible || (s.ink !== null && s.paper !== null && sameColour(s.ink, s.paper));

/** Colours a reader cannot tell apart: no channel differs by more than 16 of 255 (white on #f5f5f5 is unreadable). */
const sameColour = (a: Rgb, b: Rgb): boolean => Math.abs(a[0] - b[0]) <= 16 && Math.abs(a[1] - b[1]) <= 16 && Math.abs(a[2] - b[2]) <= 16;

const NAMED_COLOURS: Record<string, Rgb> = {
  white: [255, 255, 255], black: [0, 0, 0], red: [255, 0, 0], green: [0, 128, 0], blue: [0, 0, 255], yellow: [255, 255, 0], gray: [128, 128, 128], grey: [128, 128, 128],
  silver: [192, 192, 192], navy: [0, 0, 128], maroon: [128, 0, 0], purple: [128, 0, 128], teal: [0, 128, 128], olive: [128, 128, 0], lime: [0, 255, 0], aqua: [0, 255, 255],
  fuchsia: [255, 0, 255], orange: [255, 165, 0], whitesmoke: [245, 245, 245], snow: [255, 250, 250], ivory: [255, 255, 240], ghostwhite: [248, 248, 255], floralwhite: [255, 250, 240],
  linen: [250, 240, 230], azure: [240, 255, 255], mintcream: [245, 255, 250], honeydew: [240, 255, 240], aliceblue: [240, 248, 255], seashell: [255, 245, 238], lightgray: [211, 211, 211], lightgrey: [211, 211, 211],
};

/** A colour as CSS (or a legacy colour attribute) writes it: #rgb, #rrggbb (with or without #, alpha ignored), rgb(), a name; null otherwise. */
export function parseColour(value: string): Rgb | null {
  if (value.length > MAX_VALUE_CHARS) return null;
  const v = value.trim().toLowerCase();
  const named = NAMED_COLOURS[v];
  if (named !== undefined) return named;
  let m = /^#?([0-9a-f]{6})(?:[0-9a-f]{2})?$/.exec(v);
  if (m && (v.startsWith('#') || v.length === 6)) return [parseInt(m[1]!.slice(0, 2), 16), parseInt(m[1]!.slice(2, 4), 16), parseInt(m[1]!.slice(4, 6), 16)];
  m = /^#([0-9a-f])([0-9a-f])([0-9a-f])[0-9a-f]?$/.exec(v);
  if (m) return [parseInt(m[1]! + m[1]!, 16), parseInt(m[2]! + m[2]!, 16), parseInt(m[3]! + m[3]!, 16)];
  m = /^rgba?\(\s*(\d*\.?\d+)(%?)[\s,]+(\d*\.?\d+)(%?)[\s,]+(\d*\.?\d+)(%?)/.exec(v);
  if (m) {
    const channel = (n: string, pct: string): number => Math.min(255, Math.round(pct === '%' ? (Number(n) * 255) / 100 : Number(n)));
    return [channel(m[1]!, m[2]!), channel(m[3]!, m[4]!), channel(m[5]!, m[6]!)];
  }
  return null;
}

/** The colour a background declaration paints: a colour; 'none' when it paints none; null when not known (a picture, a gradient). */
function backgroundColour(value: string): Rgb | 'none' | null {
  if (PICTURE_VALUE.test(value)) return null;
  if (/^(?:none|transparent|initial|unset|inherit)$/.test(value.trim())) return 'none';
  for (const token of value.match(/#[0-9a-f]{3,8}\b|rgba?\([^)]*\)|[a-z]+/g) ?? []) {
    if (TRANSPARENT.test(token)) return 'none';
    const c = parseColour(token);
    if (c !== null) return c;
  }
  return /^[a-z\s-]*$/.test(value) ? 'none' : null;
}

/**
 * The properties movesText() reads: those that show an element's text elsewhere than its place in
 * the text (out of the flow, shifted, turned) or its children in another order (flex and grid).
 */
const MOVE_PROPERTIES = [
  'position', 'top', 'left', 'right', 'bottom', 'inset', 'inset-block', 'inset-inline', 'inset-block-start', 'inset-block-end', 'inset-inline-start', 'inset-inline-end',
  'transform', 'translate', 'rotate', 'scale', 'margin', 'margin-top', 'margin-bottom', 'margin-block', 'margin-block-start', 'margin-block-end',
  'order', 'flex-direction', 'flex-flow', 'flex-wrap', 'grid-row', 'grid-column', 'grid-area', 'grid-row-start', 'grid-row-end', 'grid-column-start',
  'grid-column-end', 'writing-mode', 'clip-path', 'mask', 'mask-image', '-webkit-mask', '-webkit-mask-image', 'letter-spacing',
] as const;
/** The value an over-long value of a MOVE_PROPERTIES property is read as: not known, so the text may be moved. */
const UNREAD = '\u0000unread';

/** The properties hides() reads, which a rule must set for its matches to be worked out. */
const HIDE_PROPERTIES = new Set([
  'text-decoration', 'text-decoration-line', 'white-space', 'line-height', 'content-visibility', 'zoom',
  'display', 'visibility', 'mso-hide', 'opacity', 'filter', 'font-size', 'color', '-webkit-text-fill-color', 'overflow', 'overflow-x', 'overflow-y',
  'height', 'max-height', 'width', 'max-width', 'clip', 'left', 'top', 'margin-left', 'margin-top', 'text-indent', 'transform', 'scale', 'font',
  'direction', 'unicode-bidi', 'background', 'background-color', 'background-image',
]);
/** The properties an element's own values are worked out for: those hides() and movesText() read, and the font. */
const READ_PROPERTIES = new Set([...HIDE_PROPERTIES, ...MOVE_PROPERTIES, 'font-family']);

/**
 * An element's own values of READ_PROPERTIES: the cascade of the rules matching it and its style
 * attribute, above the colours its legacy attributes give (bgcolor, <font color>), which any rule overrides.
 */
function cascade(matched: readonly Match[], element: Element): Map<string, string> {
  const style = element.attribs.style;
  const inline = style === undefined ? null : cssDeclarations(style);
  const own = new Map<string, string>();
  const rank = new Map<string, number[]>();
  const offer = (prop: string, value: string, key: number[]): void => {
    const held = rank.get(prop);
    if (held !== undefined && compareKeys(held, key) > 0) return;
    const v = bounded(prop, value);
    if (v === null) return;
    rank.set(prop, key);
    own.set(prop, v);
  };
  if (element.attribs.bgcolor !== undefined) offer('background-color', element.attribs.bgcolor.trim().toLowerCase(), [-1]);
  if (element.name === 'font' && element.attribs.color !== undefined) offer('color', element.attribs.color.trim().toLowerCase(), [-1]);
  if (element.name === 'font' && element.attribs.face !== undefined) offer('font-family', element.attribs.face.trim().toLowerCase(), [-1]);
  for (const m of matched) {
    for (const [prop, value] of m.rule.declarations) if (READ_PROPERTIES.has(prop)) offer(prop, value, [m.rule.important.has(prop) ? 2 : 0, m.specificity, m.order]);
  }
  if (inline !== null) for (const [prop, value] of inline.declarations) if (READ_PROPERTIES.has(prop)) offer(prop, value, [inline.important.has(prop) ? 3 : 1, 0, 0]);
  return own;
}

/**
 * A value as the reading works it out: one longer than any length, colour or keyword it reads is
 * not read (the patterns that read them may take the square of a value's length, and a sender
 * writes the value): a background's stays unknown (a picture, say), anything else's unset.
 */
function bounded(prop: string, value: string): string | null {
  if (value.length <= MAX_VALUE_CHARS) return value;
  return prop.startsWith('background') ? 'url()' : (MOVE_PROPERTIES as readonly string[]).includes(prop) ? UNREAD : null;
}
const MAX_VALUE_CHARS = 200;

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** A selector's specificity as one number (ids, then classes, attributes and pseudo-classes, then types), each counted to 255. */
function specificityOf(selector: Selector[]): number {
  let [a, b, c] = [0, 0, 0];
  for (const t of selector) {
    if (t.type === 'attribute') {
      if (t.name === 'id' && t.action === 'equals') a++;
      else b++;
    } else if (t.type === 'tag' || t.type === 'pseudo-element') c++;
    else if (t.type === 'pseudo') {
      if (Array.isArray(t.data)) {
        // :is(), :not(), :has() count as their most specific argument; :where() counts nothing.
        if (t.name !== 'where') {
          const inner = Math.max(0, ...t.data.map(specificityOf));
          a += inner >> 16;
          b += (inner >> 8) & 255;
          c += inner & 255;
        }
      } else b++;
    }
  }
  return (Math.min(a, 255) << 16) + (Math.min(b, 255) << 8) + Math.min(c, 255);
}

/** What an element passes on, from what it inherited and its own values. */
function inherit(from: Inherited, own: ReadonlyMap<string, string>, webFonts: ReadonlySet<string> = NO_FONTS): Inherited {
  const size = own.get('font-size') ?? fontShorthandSize(own.get('font'));
  const webFont = inWebFont(own, webFonts);
  const color = own.get('color');
  const fill = own.get('-webkit-text-fill-color');
  const visibility = own.get('visibility');
  return {
    fontPx: size === undefined ? from.fontPx : (fontPx(size, from.fontPx) ?? from.fontPx),
    colorClear: color === undefined || /^(?:inherit|currentcolor|unset)$/.test(color) ? from.colorClear : TRANSPARENT.test(color),
    fillClear: fill === undefined || /^(?:inherit|unset)$/.test(fill) ? from.fillClear : fill === 'currentcolor' ? null : TRANSPARENT.test(fill),
    invisible: visibility === undefined || /^(?:inherit|unset)$/.test(visibility) ? from.invisible : /^(?:hidden|collapse)$/.test(visibility),
    ink: color === undefined || /^(?:inherit|currentcolor|unset)$/.test(color) ? from.ink : parseColour(color),
    paper: paperOf(from.paper, own),
    webFont: webFont ?? from.webFont,
  };
}
const NO_FONTS: ReadonlySet<string> = new Set();

/** The colour behind an element's text: its own background where it paints one, else what is behind the element. */
function paperOf(behind: Rgb | null, own: ReadonlyMap<string, string>): Rgb | null {
  const image = own.get('background-image');
  if (image !== undefined && !/^(?:none|initial|unset)$/.test(image)) return null;
  const set = own.get('background-color') ?? own.get('background');
  if (set === undefined) return behind;
  const c = backgroundColour(set);
  return c === 'none' ? behind : c;
}

/** The size in the font shorthand (`font: 0/0 a`, `font: bold 12px Arial`), if it has one. */
function fontShorthandSize(font: string | undefined): string | undefined {
  return font === undefined ? undefined : FONT_SHORTHAND.exec(font)?.[1];
}
/** The font shorthand's size (and line height), then its families: `bold 12px/1.2 Arial, sans-serif`. */
const FONT_SHORTHAND = /(?:^|\s)((?:\d*\.?\d+)(?:[a-z]+|%)?|xx-small|x-small|small|medium|large|x-large|xx-large|smaller|larger)(?:\/\S+)?\s+(\S[^]*)$/;

const FONT_KEYWORDS: Record<string, number> = { 'xx-small': 9, 'x-small': 10, small: 13, medium: 16, large: 18, 'x-large': 24, 'xx-large': 32, 'xxx-large': 48 };

/** A font-size in px, given the parent's (em, % and smaller/larger are relative to it); null when it is not one read here. */
function fontPx(value: string, parentPx: number): number | null {
  if (FONT_KEYWORDS[value] !== undefined) return FONT_KEYWORDS[value];
  if (value === 'smaller') return parentPx / 1.2;
  if (value === 'larger') return parentPx * 1.2;
  if (/^(?:inherit|unset)$/.test(value)) return parentPx;
  if (value === 'initial') return 16;
  const m = /^(\d*\.?\d+)(em|%|ex|ch)$/.exec(value);
  if (m) return Number(m[1]) * parentPx * (m[2] === 'em' ? 1 : m[2] === '%' ? 0.01 : 0.5);
  return px(value);
}

interface Stylesheet {
  /** Selectors of rules that set a property hides() reads, in the stylesheet's order; `hides` when the rule alone would hide. */
  matching: { selector: string; rule: CssRule; hides: boolean }[];
  /** Text written before or after what a selector matches. */
  generated: { selector: string; where: 'before' | 'after'; text: string }[];
  /** Font families the message supplies itself (an @font-face rule with a src), lower case: their glyphs may show any character as any other. */
  webFonts: Set<string>;
}

/** A pseudo-element at the end of a selector (where CSS allows one): the four CSS 2 ones with one colon or two, any other with two. */
const PSEUDO_ELEMENT = /(?:::?(before|after|first-line|first-letter)|::([a-z-]+)(?:\([^)]*\))?)\s*$/i;

function readStylesheets(doc: Document): Stylesheet | { why: string } {
  const out: Stylesheet = { matching: [], generated: [], webFonts: new Set() };
  const sheets: CssRule[][] = [];
  const faces: Map<string, string>[] = [];
  for (const style of selectAll<AnyNode, Element>('style', doc)) {
    const rules = cssRules(style.children.map((c) => (c.type === 'text' ? (c as Text).data : '')).join(''), faces);
    if (rules === null) return { why: 'its stylesheet nests rules too deep to read' };
    sheets.push(rules);
  }
  // Word's @font-face rules name a font and its metrics (panose-1), and supply none.
  for (const face of faces) if (face.has('src')) for (const f of fontFamilies(face.get('font-family') ?? '')) out.webFonts.add(f);
  for (const rules of sheets) for (const rule of rules) visitRule(rule, out);
  const selectors = [...out.matching.map((m) => m.selector), ...out.generated.map((g) => g.selector)];
  if (selectors.length > MAX_STYLE_SELECTORS || selectors.reduce((sum, s) => sum + s.length, 0) > MAX_STYLE_SELECTOR_CHARS) {
    return { why: `its stylesheet has over ${MAX_STYLE_SELECTORS} selectors, or ${MAX_STYLE_SELECTOR_CHARS} characters of them, in rules that size, colour, hide, move or write text` };
  }
  return out;
}

function visitRule(rule: CssRule, out: Stylesheet): void {
  // A rule is matched when it sets what may hide text, or may move it (with the rest of the cascade):
  // a rule of Word's stylesheet that only sets margin:0cm is not.
  const declared = boundedAll(rule.declarations);
  const reads = [...rule.declarations.keys()].some((p) => HIDE_PROPERTIES.has(p)) || mayMove(declared) || inWebFont(declared, out.webFonts) !== null;
  // A rule that hides or moves text alone: one whose selector cannot be matched leaves the reading unknown.
  const hiding = reads && (hides(declared) || movesText(declared) || strikesText(declared) || inWebFont(declared, out.webFonts) === true);
  const content = rule.declarations.get('content');
  const marker = listMarker(rule.declarations);
  for (const raw of rule.selectors) {
    const selector = raw.trim();
    const pseudo = PSEUDO_ELEMENT.exec(selector);
    if (pseudo === null) {
      if (reads) out.matching.push({ selector, rule, hides: hiding });
      // A list marker of its own (inherited by the list's items): written before each item it is set for.
      if (marker !== null) out.generated.push({ selector: listItems(selector), where: 'before', text: marker });
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
      out.matching.push({ selector: element, rule, hides: true });
    } else if (pseudo[2]?.toLowerCase() === 'marker') {
      // A list item's marker: what its content writes is shown before the item ("☒ Cllr …").
      const text = content === undefined ? (marker ?? '') : generatedText(content);
      if (text !== '') out.generated.push({ selector: listItems(element), where: 'before', text });
    }
    // Other pseudo-elements (::selection, ::placeholder) style nothing a paper's text is shown by.
  }
}

/**
 * The marker text declarations set for a list's items, where it is the sender's own: a string
 * (`list-style-type: "☒ "`, in `list-style` too), or a box holding U+FFFD for a picture
 * (`list-style-image`) or a counter style of the stylesheet's own (any name but CSS's predefined
 * ones), which may draw anything;
 * null for none or a predefined marker (a disc, a number).
 */
export function listMarker(d: ReadonlyMap<string, string>): string | null {
  const image = d.get('list-style-image');
  if (image !== undefined && (image.length > MAX_VALUE_CHARS || PICTURE_VALUE.test(image))) return UNKNOWN_MARKER;
  for (const prop of ['list-style-type', 'list-style']) {
    const v = d.get(prop);
    if (v === undefined) continue;
    if (v.length > MAX_VALUE_CHARS || PICTURE_VALUE.test(v) || /symbols\(/.test(v)) return UNKNOWN_MARKER;
    const quoted = /(["'])((?:\\.|(?!\1).)*)\1/.exec(v);
    if (quoted) return generatedText(quoted[0]) || null;
    const names = v.split(/\s+/).filter((w) => w !== '' && !LIST_STYLE_WORDS.has(w));
    if (names.length > 0) return UNKNOWN_MARKER;
  }
  return null;
}
/** A marker that may be drawn as anything (a picture, a counter style's symbol): a box holding a mark that cannot be read, so a line it stands before is no certain line of a paper. */
const UNKNOWN_MARKER = '[\ufffd] ';
/** What list-style and list-style-type may say besides a string or a picture: CSS's predefined counter styles, positions and keywords. */
const LIST_STYLE_WORDS = new Set([
  'none', 'disc', 'circle', 'square', 'decimal', 'decimal-leading-zero', 'lower-roman', 'upper-roman', 'lower-alpha', 'upper-alpha', 'lower-latin', 'upper-latin',
  'lower-greek', 'armenian', 'georgian', 'lower-armenian', 'upper-armenian', 'disclosure-open', 'disclosure-closed', 'cjk-decimal', 'hebrew', 'hiragana', 'katakana',
  'inside', 'outside', 'inherit', 'initial', 'unset', 'revert',
]);

/** The list items a selector's marker is set for: the items it selects, and those of the lists it selects. */
const listItems = (selector: string): string => `:is(${selector}):is(li), :is(${selector}) li`;

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

/** Whether a set of declarations (property → value, lower case), on an element of a 16px visible font, hides the text it holds. */
export function hides(declared: ReadonlyMap<string, string>): boolean {
  const d = boundedAll(declared);
  return hidesBox(d) || textHidden(inherit(ROOT_STYLE, d));
}

/** Declarations with each value as the reading works it out (bounded()). */
function boundedAll(declared: ReadonlyMap<string, string>): Map<string, string> {
  const d = new Map<string, string>();
  for (const [prop, value] of declared) {
    const v = bounded(prop, value);
    if (v !== null) d.set(prop, v);
  }
  return d;
}

/** Whether an element's own values hide it and all it holds, whatever its children set (what inherit() follows aside). */
function hidesBox(d: ReadonlyMap<string, string>): boolean {
  const get = (p: string): string => d.get(p) ?? '';
  if (get('display') === 'none' || get('mso-hide') === 'all') return true;
  const opacity = /^(\d*\.?\d+)(%?)$/.exec(get('opacity'));
  if (opacity && Number(opacity[1]) / (opacity[2] === '%' ? 100 : 1) < 0.1) return true;
  if (/opacity\(\s*0*\.?0+%?\s*\)/.test(get('filter'))) return true;
  // Blurred past reading, or every colour the same grey (contrast(0)); skipped by the browser (content-visibility); shrunk to nothing (zoom).
  const blur = /blur\(\s*([^)]*)\)/.exec(get('filter'));
  if (blur && (px(blur[1] ?? '') ?? 0) >= 3) return true;
  if (/contrast\(\s*0*\.?0+%?\s*\)/.test(get('filter'))) return true;
  if (/^hidden\b/.test(get('content-visibility'))) return true;
  const zoom = /^(\d*\.?\d+)(%?)$/.exec(get('zoom'));
  if (zoom && Number(zoom[1]) / (zoom[2] === '%' ? 100 : 1) < 0.15) return true;
  const clipped = ['overflow', 'overflow-x', 'overflow-y'].some((p) => /^(?:hidden|clip)\b/.test(get(p)));
  if (clipped && ['height', 'max-height', 'width', 'max-width'].some((p) => (px(get(p)) ?? 2) <= 1)) return true;
  if (/^rect\(\s*0*\.?0+(?:px)?[\s,]+0*\.?0+(?:px)?[\s,]+0*\.?0+(?:px)?[\s,]+0*\.?0+(?:px)?\s*\)$/.test(get('clip'))) return true;
  if (['left', 'top', 'margin-left', 'margin-top', 'text-indent'].some((p) => (px(get(p)) ?? 0) <= -500)) return true;
  if (/scale[xy3d]*\(\s*0*\.?0+\s*[,)]/.test(get('transform')) || /^0*\.?0+(?:\s|$)/.test(get('scale'))) return true;
  return false;
}

/** The properties that place a positioned element. */
const OFFSETS = ['top', 'left', 'right', 'bottom', 'inset', 'inset-block', 'inset-inline', 'inset-block-start', 'inset-block-end', 'inset-inline-start', 'inset-inline-end'];
/** An offset or margin of nothing: unset, auto, or zero in any unit. */
const isNothing = (value: string): boolean => /^(?:|auto|initial|unset|inherit|[+-]?0*\.?0+[a-z%]*)$/.test(value.trim());

/**
 * Whether an element's own values may show its text elsewhere than its place in the text, so that a
 * mark may be seen beside another line than the one it is read on: taken out of the flow (position
 * absolute or fixed) or shifted from its place (position relative or sticky with an offset, a
 * transform, a translation or rotation, a mirroring scale, a negative top or bottom margin of more
 * than 4px, a quarter of a line), its children shown in another order (a flex or grid order, a reversed
 * flex direction, a grid placement) or its lines turned (a vertical writing mode); or what of it
 * shows cannot be told (clipped to a shape or masked, letters drawn over each other by a
 * letter-spacing of -4px or less). A value too long
 * to read may do any of these. Horizontal margins and indents are not read (a Word table's
 * margin-left:-5.4pt, a list's text-indent:-18pt move nothing off its line).
 */
export function movesText(d: ReadonlyMap<string, string>): boolean {
  const get = (p: string): string => (d.get(p) ?? '').trim();
  if (MOVE_PROPERTIES.some((p) => get(p) === UNREAD)) return true;
  const position = get('position');
  if (/^(?:absolute|fixed)\b/.test(position)) return true;
  if (/^(?:relative|sticky)\b/.test(position) && OFFSETS.some((p) => get(p).split(/\s+/).some((v) => !isNothing(v)))) return true;
  if (!/^(?:|none|initial|unset|inherit)$/.test(get('transform'))) return true;
  if (['translate', 'rotate'].some((p) => !/^(?:|none|initial|unset|inherit)$/.test(get(p)) && get(p).split(/\s+/).some((v) => !isNothing(v)))) return true;
  if (/-/.test(get('scale'))) return true;
  // A negative vertical margin draws the text over the line above or below it.
  const margin = get('margin').split(/\s+/);
  const block = get('margin-block').split(/\s+/);
  const vertical = [get('margin-top'), get('margin-bottom'), get('margin-block-start'), get('margin-block-end'), margin[0] ?? '', margin[2] ?? margin[0] ?? '', ...block];
  if (vertical.some((v) => (px(v) ?? 0) < -4 || (/^-/.test(v) && px(v) === null))) return true;
  if (!/^(?:|[+]?0+|initial|unset|inherit)$/.test(get('order'))) return true;
  if (/reverse/.test(`${get('flex-direction')} ${get('flex-flow')} ${get('flex-wrap')}`)) return true;
  if (['grid-row', 'grid-column', 'grid-area', 'grid-row-start', 'grid-row-end', 'grid-column-start', 'grid-column-end'].some((p) => !/^(?:|auto|initial|unset|inherit)$/.test(get(p)))) return true;
  if (/vertical|sideways/.test(get('writing-mode'))) return true;
  // Clipped to a shape or masked (what of the text shows cannot be told), or its letters drawn over each other.
  if (['clip-path', 'mask', 'mask-image', '-webkit-mask', '-webkit-mask-image'].some((p) => !/^(?:|none|initial|unset|inherit)$/.test(get(p)))) return true;
  return (px(get('letter-spacing')) ?? 0) <= -4;
}

/** The families a font-family value names, unquoted, lower case. */
function fontFamilies(value: string): string[] {
  return value
    .split(',')
    .map((f) => f.trim().replace(/^(["'])(.*)\1$/, '$2').replace(/\s+/g, ' ').trim().toLowerCase())
    .filter((f) => f !== '');
}

/**
 * Whether declarations set the text's font to one the message supplies (true), to others (false),
 * or leave it as inherited (null). Any family of the list counts (one before it may be missing),
 * in font-family or in the font shorthand (its families follow the size).
 */
function inWebFont(d: ReadonlyMap<string, string>, webFonts: ReadonlySet<string>): boolean | null {
  let value = d.get('font-family');
  if (value === undefined) {
    const font = d.get('font');
    const families = font === undefined ? undefined : FONT_SHORTHAND.exec(font)?.[2];
    if (families === undefined) return null;
    value = families;
  }
  if (/^(?:inherit|unset)$/.test(value.trim())) return null;
  if (webFonts.size === 0) return false;
  return fontFamilies(value).some((f) => webFonts.has(f));
}

/** Characters of text measured for clipping (mayClip), at most, over a message; past it, a clipping box may clip. */
const MAX_MEASURED_CHARS = 4_000_000;
/** Elements that begin a line of their own. */
const LINE_BLOCKS = new Set(['p', 'div', 'li', 'tr', 'table', 'tbody', 'thead', 'tfoot', 'ul', 'ol', 'dl', 'dt', 'dd', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'section', 'article', 'header', 'footer', 'center', 'form', 'hr', 'address', 'figure', 'main', 'nav', 'aside', 'fieldset']);

/**
 * Whether an element whose overflow is hidden may clip some of the text it holds out of sight (a
 * mark pushed past the edge of a box sized for a blank one): a width or max-width narrower than its
 * longest unbreakable run of text needs (the longest line, where white-space forbids wrapping),
 * with a positive text-indent; or a height or max-height lower than its lines need. A character is
 * taken as 0.6em wide (a no-break space too) and a line as 1.2em (or its line-height), in the
 * element's font size: wider than most, so that a mark pushed out is never taken as shown. A box of 1px or
 * less hides all it holds (hidesBox). Text is measured within `measure.budget` characters in all;
 * past it, any such box may clip.
 */
function mayClip(e: Element, own: ReadonlyMap<string, string>, fontPx: number, measure: { budget: number }): boolean {
  if (!['overflow', 'overflow-x', 'overflow-y'].some((p) => /^(?:hidden|clip)\b/.test(own.get(p) ?? ''))) return false;
  const size = (p: string): number | null => {
    const v = own.get(p);
    return v === undefined ? null : px(v);
  };
  const width = Math.min(size('width') ?? Infinity, size('max-width') ?? Infinity);
  const height = Math.min(size('height') ?? Infinity, size('max-height') ?? Infinity);
  if (width === Infinity && height === Infinity) return false;
  const nowrap = /^(?:nowrap|pre)\b/.test(own.get('white-space') ?? '');
  const indent = Math.max(0, size('text-indent') ?? 0);
  const lineHeight = size('line-height') ?? 1.2 * fontPx;
  const charPx = 0.6 * fontPx;
  // The element's text measured as lines (a <br> or a block element begins one), in one pass without
  // building it: white space (but the no-break space) collapsed, a line's spaces at its ends not counted.
  let lines = 0; // lines shown so far, each as many as it wraps to
  let lineChars = 0; // the current line's characters, its last run of spaces not yet counted
  let pendingSpace = false;
  let visible = false; // the current line holds more than spaces
  let run = 0; // the current unbreakable run
  const endLine = (): void => {
    if (visible) lines += width === Infinity || nowrap ? 1 : Math.max(1, Math.ceil((lineChars * charPx) / width));
    lineChars = 0;
    pendingSpace = false;
    visible = false;
    run = 0;
  };
  const stack: AnyNode[] = [...e.children].reverse();
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n instanceof Text) {
      const data = n.data;
      if ((measure.budget -= data.length) < 0) return true;
      for (let i = 0; i < data.length; i++) {
        const c = data.charCodeAt(i);
        if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c) {
          if (lineChars > 0) pendingSpace = true;
          run = 0;
          continue;
        }
        if (pendingSpace) {
          lineChars++;
          pendingSpace = false;
        }
        lineChars++;
        // (A no-break space is no break, and shows nothing: it pushes what follows it out of sight.)
        if (c !== 0xa0 && !(c >= 0xd800 && c <= 0xdbff)) visible = true;
        run++;
        // Wider than the box, with something to see on the line: something is pushed out of sight.
        if ((nowrap ? lineChars : run) * charPx + indent > width + 1 && visible) return true;
      }
    } else if (isTag(n)) {
      if (n.name === 'br' || LINE_BLOCKS.has(n.name)) endLine();
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
    }
    if (lines * lineHeight > height + 1) return true;
  }
  endLine();
  return lines * lineHeight > height + 1;
}

/** Whether declarations strike text through. */
const strikesText = (d: ReadonlyMap<string, string>): boolean => /line-through/.test(`${d.get('text-decoration') ?? ''} ${d.get('text-decoration-line') ?? ''}`);

/** Whether declarations may move text with others of the cascade: movesText(), or a position or offset that moves text beside the other. */
function mayMove(d: ReadonlyMap<string, string>): boolean {
  if (movesText(d)) return true;
  if (/^(?:relative|sticky)\b/.test((d.get('position') ?? '').trim())) return true;
  return OFFSETS.some((p) => (d.get(p) ?? '').trim().split(/\s+/).some((v) => !isNothing(v)));
}

/**
 * The text a `content` value writes: its strings, CSS escapes decoded; U+FFFD for anything else
 * it writes (a counter, an attribute's value, a quote mark); '' for none or normal.
 */
export function generatedText(value: string): string {
  if (/^(?:none|normal|""|'')$/.test(value.trim())) return '';
  // One pass: a quote that is never closed is passed over, and so is every later one of its kind
  // (a scan from it would meet the same characters in the same pairs, and find no close either).
  const unclosed = new Set<string>();
  let out = '';
  for (let i = 0; i < value.length; ) {
    const c = value[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      if (!unclosed.has(c)) while (j < value.length && value[j] !== c) j += value[j] === '\\' ? 2 : 1;
      if (!unclosed.has(c) && j < value.length) {
        out += cssUnescaped(value.slice(i + 1, j));
        i = j + 1;
      } else {
        unclosed.add(c);
        i++;
      }
    } else {
      // Anything but a string (a counter, an attribute's value, a quote mark) writes what cannot be told.
      while (i < value.length && !/[\s"']/.test(value[i]!)) i++;
      out += '\ufffd';
    }
  }
  return out;
}

/** A CSS string's text, its escapes read: "\\2713 " is ✓, an escaped newline is nothing. */
function cssUnescaped(s: string): string {
  return s.replace(/\\(?:([0-9a-f]{1,6})\s?|(\n)|([\s\S]))/gi, (_x, hex: string | undefined, nl: string | undefined, ch: string | undefined) => {
    if (hex !== undefined) {
      const cp = parseInt(hex, 16);
      return cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? '\ufffd' : String.fromCodePoint(cp);
    }
    return nl !== undefined ? '' : (ch ?? '');
  });
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
