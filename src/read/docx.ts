import { DOMParser, type Element as XmlElement, type Node as XmlNode } from '@xmldom/xmldom';
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import { isBareMark, struckText } from '../model/marks.js';
import { boxLines, findPapers, type RawPaper } from './paper.js';

export type DocxReading =
  | { kind: 'papers'; papers: RawPaper[] }
  /** Readable, but not with certainty by machine (marks drawn on the page, hidden text that changes the paper): the officer looks. */
  | { kind: 'not-machine-readable'; why: string }
  | { kind: 'unreadable'; why: string };

const DOCUMENT = 'word/document.xml';

function on(el: XmlElement | null, attr: string): boolean | null {
  if (!el) return null;
  const v = el.getAttribute(attr) ?? el.getAttribute(`w14:${attr}`) ?? el.getAttribute(`w:${attr}`);
  if (v === null || v === '') return true;
  return v === '1' || v.toLowerCase() === 'true' || v.toLowerCase() === 'on';
}

/**
 * Elements nested deeper than this are refused before the document is walked: its readers recurse,
 * and a stack overflowing at a depth that differs from thread to thread (a reader thread's stack is
 * not the main thread's) would make the result depend on where the file was read. Word's own
 * documents nest some tens deep.
 */
const MAX_XML_DEPTH = 256;

function nestedDeeperThan(root: XmlNode, limit: number): boolean {
  const stack: [XmlNode, number][] = [[root, 0]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [node, depth] = top;
    if (depth > limit) return true;
    for (let n = node.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) stack.push([n, depth + 1]);
  }
  return false;
}

function child(el: XmlElement, localName: string): XmlElement | null {
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (n as XmlElement).localName === localName) return n as XmlElement;
  return null;
}

function descendant(el: XmlElement, localName: string): XmlElement | null {
  const list = el.getElementsByTagNameNS('*', localName);
  return list.length > 0 ? (list.item(0) as XmlElement) : null;
}

/** A box's content when what it shows and what it is set to differ (short enough to be read as a box's content). */
export const GLYPH_AND_STATE_DIFFER = 'glyph≠state';

/** The glyph a checkbox content control shows in a state: w14:checkedState or w14:uncheckedState's code point, else Word's own ☒ and ☐. */
function stateGlyph(box: XmlElement, state: 'checkedState' | 'uncheckedState'): string {
  const el = child(box, state);
  const hex = el?.getAttribute('w14:val') ?? el?.getAttribute('val') ?? '';
  const code = /^[0-9a-f]{1,6}$/i.test(hex) ? Number.parseInt(hex, 16) : Number.NaN;
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : state === 'checkedState' ? '\u2612' : '\u2610';
}

/** Glyphs of an empty box (Word's, and Wingdings' as text keeps them). */
const EMPTY_BOX_GLYPH = /^[☐□▢⬜¨\uF0A8\uF06F]$/u;

/**
 * A checkbox content control as "[X]" or "[ ]" by its state; or GLYPH_AND_STATE_DIFFER when what
 * Word shows of it is not that state: a checked box that shows anything but its checked glyph, an
 * unchecked one that shows anything but nothing or an empty box.
 */
function checkboxControl(box: XmlElement, content: XmlElement | null): string {
  const checked = on(child(box, 'checked'), 'val') === true;
  const shown = (content?.textContent ?? '').trim();
  const agrees = checked ? shown === stateGlyph(box, 'checkedState') : shown === '' || shown === stateGlyph(box, 'uncheckedState') || EMPTY_BOX_GLYPH.test(shown);
  if (!agrees) return `[${GLYPH_AND_STATE_DIFFER}]`;
  return checked ? '[X]' : '[ ]';
}

/**
 * Marks placed on the page rather than in the lines of text: ink (pen or finger drawing, w:contentPart)
 * and text boxes holding nothing but a mark ("X", a tick: isBareMark), which Word shows wherever they
 * were dragged. By kind.
 */
function drawnMarks(body: XmlElement): string[] {
  const found: string[] = [];
  const ink = body.getElementsByTagNameNS('*', 'contentPart').length;
  if (ink > 0) found.push(`ink ×${ink}`);
  const boxes = body.getElementsByTagNameNS('*', 'txbxContent');
  let marks = 0;
  for (let i = 0; i < boxes.length; i++) {
    const box = boxes.item(i) as XmlElement;
    // Once for a drawing given twice (mc:Choice and mc:Fallback).
    let inFallback = false;
    for (let n: XmlNode | null = box.parentNode; n; n = n.parentNode) if (n.nodeType === 1 && (n as XmlElement).localName === 'Fallback') inFallback = true;
    if (!inFallback && isBareMark(box.textContent ?? '')) marks++;
  }
  if (marks > 0) found.push(`a text box holding only a mark ×${marks}`);
  return found;
}

/**
 * The run properties read here, as a run, a style or the document's defaults set them: null where
 * it says nothing of one. Each is taken from the nearest level that says it (the run's own, its
 * character style's, its paragraph style's, the document's defaults), as Word works them out.
 */
interface RunProps {
  /** Hidden text (w:vanish, w:specVanish). */
  hidden: boolean | null;
  /** Strike-through (w:strike, w:dstrike). */
  struck: boolean | null;
  /** Its colour (w:color): the theme colour it names as `theme:` and the name, else its hex value. */
  color: string | null;
  /** Font size in half-points (w:sz). */
  size: number | null;
  /** Width of its characters in per cent of their own (w:w). */
  scale: number | null;
  /** Raised (+) or lowered (−) from its line, in half-points (w:position). */
  position: number | null;
  /** Space added between its characters (−: taken away), in twentieths of a point (w:spacing in w:rPr). */
  spacing: number | null;
}
const NO_PROPS: RunProps = Object.freeze({ hidden: null, struck: null, color: null, size: null, scale: null, position: null, spacing: null });

/** Each property from `top` where it says one, else from `below`. */
const under = (top: RunProps, below: RunProps | null | undefined): RunProps =>
  below
    ? {
        hidden: top.hidden ?? below.hidden,
        struck: top.struck ?? below.struck,
        color: top.color ?? below.color,
        size: top.size ?? below.size,
        scale: top.scale ?? below.scale,
        position: top.position ?? below.position,
        spacing: top.spacing ?? below.spacing,
      }
    : top;

/** Points in a unit of ECMA-376's universal measure ("3pt", "0.5in"). */
const POINTS_PER: Record<string, number> = { pt: 1, in: 72, cm: 72 / 2.54, mm: 72 / 25.4, pc: 12, pi: 12 };

/**
 * A measure as Word writes it, in its own unit (`perPoint` of them to a point: 2 for half-points, 20
 * for twentieths), or with a unit of its own ("-6pt"); a percentage's "%" is dropped. Null when it is
 * no number.
 */
function measure(value: string | null, perPoint: number): number | null {
  if (value === null) return null;
  const m = /^\s*([-+]?\d+(?:\.\d+)?)\s*(pt|in|cm|mm|pc|pi|%)?\s*$/i.exec(value);
  if (!m) return null;
  const n = Number.parseFloat(m[1]!);
  const unit = m[2]?.toLowerCase();
  return unit === undefined || unit === '%' ? n : n * POINTS_PER[unit]! * perPoint;
}

/** What a properties element (w:rPr) says of the properties read here. */
function propsOf(pr: XmlElement | null): RunProps {
  if (pr === null) return NO_PROPS;
  const said = (names: string[]): boolean | null => {
    const found = names.map((n) => child(pr, n)).filter((v): v is XmlElement => v !== null);
    return found.length === 0 ? null : found.some((v) => on(v, 'val') === true);
  };
  const color = child(pr, 'color');
  const theme = attr(color, 'themeColor');
  return {
    hidden: said(['vanish', 'specVanish']),
    struck: said(['strike', 'dstrike']),
    color: color === null ? null : theme !== null ? `theme:${theme}` : attr(color, 'val'),
    size: measure(attr(child(pr, 'sz'), 'val'), 2),
    scale: measure(attr(child(pr, 'w'), 'val'), 1),
    position: measure(attr(child(pr, 'position'), 'val'), 2),
    spacing: measure(attr(child(pr, 'spacing'), 'val'), 20),
  };
}

/** Theme colours Word's own themes give one value: the background (white) and the text (black). */
const THEME_COLOURS: Record<string, string> = { background1: 'ffffff', light1: 'ffffff', text1: '000000', dark1: '000000' };
/** Word's highlight colours (w:highlight), as it draws them. */
const HIGHLIGHTS: Record<string, string> = {
  black: '000000', blue: '0000ff', cyan: '00ffff', green: '00ff00', magenta: 'ff00ff', red: 'ff0000', yellow: 'ffff00', white: 'ffffff',
  darkblue: '000080', darkcyan: '008080', darkgreen: '008000', darkmagenta: '800080', darkred: '800000', darkyellow: '808000', darkgray: '808080', lightgray: 'c0c0c0',
};

/** A colour as RRGGBB in lower case: a hex value, or a theme colour as `theme:` and its name (THEME_COLOURS); null where it is not known here ("auto", which Word draws against what is behind it; another theme colour). */
function hexOf(colour: string | null): string | null {
  if (colour === null) return null;
  const c = colour.toLowerCase();
  if (c.startsWith('theme:')) return THEME_COLOURS[c.slice(6)] ?? null;
  return /^[0-9a-f]{6}$/.test(c) ? c : null;
}

/** What is behind text: a colour (RRGGBB), or UNKNOWN_FILL (a theme colour or pattern not worked out here). */
type Backdrop = string;
const UNKNOWN_FILL = 'unknown';
const PAGE = 'ffffff';

/**
 * What an element (w:shd of a run, paragraph or cell; w:highlight; w:background of the page) puts
 * behind the text: its colour, UNKNOWN_FILL when it fills with one not known here, null when it
 * fills nothing (no element, "auto", "none", "nil").
 */
function fillOf(el: XmlElement | null): Backdrop | null {
  if (el === null) return null;
  switch (el.localName) {
    case 'highlight': {
      const v = (attr(el, 'val') ?? '').toLowerCase();
      return v === '' || v === 'none' ? null : (HIGHLIGHTS[v] ?? UNKNOWN_FILL);
    }
    case 'background':
      return fillColour(attr(el, 'themeColor'), attr(el, 'color'));
    default: {
      // Shading: a pattern (w:val) in w:color over w:fill; clear shows the fill, solid the pattern's colour.
      const pattern = (attr(el, 'val') ?? 'clear').toLowerCase();
      if (pattern === 'nil') return null;
      if (pattern === 'clear') return fillColour(attr(el, 'themeFill'), attr(el, 'fill'));
      if (pattern === 'solid') return fillColour(attr(el, 'themeColor'), attr(el, 'color')) ?? UNKNOWN_FILL;
      return UNKNOWN_FILL;
    }
  }
}
function fillColour(theme: string | null, value: string | null): Backdrop | null {
  if (theme !== null) return hexOf(`theme:${theme}`) ?? UNKNOWN_FILL;
  const v = (value ?? '').toLowerCase();
  if (v === '' || v === 'auto' || v === 'none') return null;
  return hexOf(v) ?? UNKNOWN_FILL;
}

/** Whether two colours are so near that one drawn on the other cannot be seen: each of red, green and blue within 16 of 255. */
function near(a: string, b: string): boolean {
  return [0, 2, 4].every((i) => Math.abs(Number.parseInt(a.slice(i, i + 2), 16) - Number.parseInt(b.slice(i, i + 2), 16)) <= 16);
}

/**
 * Text Word draws so that no one sees it with certainty: in the colour of what is behind it
 * (`backdrop`: white on the white page, black on a black highlight), under 2 points high, or
 * squeezed to under a quarter of its width.
 */
function faint(p: RunProps, backdrop: Backdrop): boolean {
  const ink = hexOf(p.color);
  return (ink !== null && backdrop !== UNKNOWN_FILL && near(ink, backdrop)) || (p.size !== null && p.size < 4) || (p.scale !== null && p.scale < 25);
}

/** Text Word draws out of its line: raised or lowered 3 points or more, or its characters drawn 2 points or more over each other. */
const moved = (p: RunProps): boolean => (p.position !== null && Math.abs(p.position) >= 6) || (p.spacing !== null && p.spacing <= -40);

/** Styles by id, each with the run properties it sets (its own, else the style it is based on's); the defaults and the default paragraph style under their own keys. */
type Styles = ReadonlyMap<string, RunProps>;
/** The key of Styles for a paragraph that names no style: the default paragraph style. */
const NO_STYLE = '\u0000';
/** The key of Styles for the document's defaults (w:docDefaults/w:rPrDefault), under every style. */
const DEFAULTS = '\u0001';
const NO_STYLES: Styles = new Map();
/** A styles part larger than this is not read, and the document is left to the officer (Word's own is some 30–80 KB, a large template's 350 KB). */
const MAX_STYLES_BYTES = 1 << 20;

/**
 * The character and paragraph styles of the styles part, each with the run properties it sets (its
 * own w:rPr, else the style it is based on, followed up to 16 deep and never round a loop); null
 * when it cannot be read (not well-formed, nested too deep).
 */
function readStyles(xml: Uint8Array): Styles | null {
  // Councils send papers made from one template: its styles are read once (a large template's take
  // some 100 ms to parse).
  const key = createHash('sha256').update(xml).digest('hex');
  if (stylesRead.has(key)) return stylesRead.get(key)!;
  const styles = stylesOf(xml);
  if (stylesRead.size >= MAX_STYLES_KEPT) stylesRead.delete(stylesRead.keys().next().value!);
  stylesRead.set(key, styles);
  return styles;
}
/** Styles parts read, by their SHA-256; the oldest forgotten past MAX_STYLES_KEPT. */
const stylesRead = new Map<string, Styles | null>();
const MAX_STYLES_KEPT = 16;

function stylesOf(xml: Uint8Array): Styles | null {
  const root = parseXml(xml);
  if (typeof root === 'string') return null;
  const own = new Map<string, { props: RunProps; basedOn: string | null }>();
  let defaultParagraph: string | null = null;
  const list = root.getElementsByTagNameNS('*', 'style');
  for (let i = 0; i < list.length; i++) {
    const style = list.item(i) as XmlElement;
    const id = attr(style, 'styleId');
    if (id === null) continue;
    own.set(id, { props: propsOf(child(style, 'rPr')), basedOn: attr(child(style, 'basedOn'), 'val') });
    if (attr(style, 'type') === 'paragraph' && /^(?:1|true|on)$/i.test(attr(style, 'default') ?? '')) defaultParagraph ??= id;
  }
  const out = new Map<string, RunProps>();
  for (const id of own.keys()) {
    let props = NO_PROPS;
    const seen = new Set<string>();
    for (let at: string | null = id; at !== null && !seen.has(at) && seen.size < 16; at = own.get(at)?.basedOn ?? null) {
      seen.add(at);
      props = under(props, own.get(at)?.props);
    }
    out.set(id, props);
  }
  out.set(NO_STYLE, (defaultParagraph === null ? undefined : out.get(defaultParagraph)) ?? NO_PROPS);
  const defaults = root.getElementsByTagNameNS('*', 'rPrDefault').item(0) as XmlElement | null;
  out.set(DEFAULTS, propsOf(defaults === null ? null : child(defaults, 'rPr')));
  return out;
}

/**
 * The properties of a run, as Word works them out: its own (`pr`), else its character style's
 * (w:rStyle), else its paragraph style's (`paragraph`), else the document's defaults.
 */
function runProps(pr: XmlElement | null, styles: Styles, paragraph: RunProps | null): RunProps {
  const rStyle = pr === null ? null : attr(child(pr, 'rStyle'), 'val');
  const character = rStyle === null ? null : styles.get(rStyle);
  return under(under(under(propsOf(pr), character), paragraph), styles.get(DEFAULTS));
}

/**
 * A way of reading a document. Word shows one of them, AS_SHOWN; each of the others reads one thing
 * otherwise, that another view, another reader or another setting shows: when a paper read so
 * differs, the file does not say one paper.
 */
interface View {
  /** Hidden text read (Word shows it only with "Hidden text" ticked in its options). */
  hidden: boolean;
  /**
   * Tracked changes as Word's Simple Markup shows them (`final`: as if accepted, deleted text and
   * paragraph marks gone), or as its All Markup shows them (`markup`: deleted text there, struck
   * through, and deleted paragraph marks still breaking their lines). Inserted text and changed
   * formatting show alike in both.
   */
  tracked: 'final' | 'markup';
  /** Content given twice (mc:AlternateContent): as Word reads it (mc:Choice), or as a reader that does not know the choice does (mc:Fallback). */
  alternate: 'choice' | 'fallback';
  /** Runs Word draws faintly (faint()) are left out and runs it draws out of their line (moved()) read in it; `true`: the other way round. */
  unsure: boolean;
  /**
   * Content controls bound to data the file holds elsewhere (w:dataBinding to a custom XML part):
   * read as they hold it, or (`true`) left out. Word shows the data they are bound to, which is
   * not read here.
   */
  bound: boolean;
  /**
   * Pictures, shapes and embedded objects that hold no text (w:drawing, w:pict, w:object; a text
   * box is read as its text): read as nothing, or (`true`) each as U+FFFC where it is anchored, as a
   * mark that cannot be read (a picture of a tick pasted into a box).
   */
  pictures: boolean;
}
const AS_SHOWN: View = Object.freeze({ hidden: false, tracked: 'final', alternate: 'choice', unsure: false, bound: false, pictures: false });

/** Whether the document holds content that a View other than AS_SHOWN reads otherwise. */
interface Otherwise {
  hidden: boolean;
  tracked: boolean;
  alternate: boolean;
  unsure: boolean;
  bound: boolean;
  pictures: boolean;
}

/** A Wingdings character of a symbol (w:sym) as text keeps it (U+F0xx, which marks.ts reads); any other font's as U+FFFD: what it shows cannot be told. */
function symbol(el: XmlElement): string {
  const code = Number.parseInt(attr(el, 'char') ?? '', 16);
  const wingdings = /^\s*wingdings\s*$/i.test(attr(el, 'font') ?? '');
  if (!wingdings || !Number.isInteger(code) || !(code <= 0xff || (code >= 0xf000 && code <= 0xf0ff))) return '\uFFFD';
  return String.fromCodePoint(0xf000 | (code & 0xff));
}

/**
 * What a button field shows (MACROBUTTON or GOTOBUTTON: the display text after its macro or
 * bookmark name, "[☐]" toggled to "[☒]" by a CheckIt macro in a template), or null when the
 * instruction is no button. Word shows it in place of a result, which a button has none of.
 */
function buttonText(instruction: string): string | null {
  const m = /^\s*(?:MACROBUTTON|GOTOBUTTON)\s+\S+\s?([\s\S]*)$/i.exec(instruction);
  return m ? m[1]!.trim() : null;
}

/** What a run may show that holds no text: a symbol (w:sym), a field's start (a legacy checkbox), a picture. */
const SHOWN_WITHOUT_TEXT = ['sym', 'fldChar', 'drawing', 'pict', 'object'];

/** Whether an element holds text. */
const holdsText = (el: XmlElement): boolean => (el.textContent ?? '').trim() !== '';

/**
 * The document as lines of text, each checkbox written as "[X]" or "[ ]" by its checked state, read
 * in a View; with what the document holds that another View reads otherwise. `page`: the page's
 * colour (w:background, else white).
 */
function documentText(root: XmlElement, view: View, styles: Styles, page: Backdrop): { text: string; otherwise: Otherwise } {
  const otherwise: Otherwise = { hidden: false, tracked: false, alternate: false, unsure: false, bound: false, pictures: false };
  // What is behind the text being read: the page, or the fill of the cell or paragraph it is in.
  let backdrop = page;
  // The run properties the paragraph being read sets by its style (w:pStyle).
  let paragraph: RunProps | null = null;
  // The complex fields open (w:fldChar begin … end), innermost last.
  const fields: { instruction: string; separated: boolean }[] = [];
  const walk = (node: XmlNode): string => {
    if (node.nodeType !== 1) return '';
    const el = node as XmlElement;
    switch (el.localName) {
      case 'AlternateContent': {
        // Content given twice: for Word (the first mc:Choice; a drawing with its text box) and for
        // readers that do not know what the choice requires (mc:Fallback; the same drawing in VML).
        let choice: XmlElement | null = null;
        let fallback: XmlElement | null = null;
        for (let n = el.firstChild; n; n = n.nextSibling) {
          if (n.nodeType !== 1) continue;
          const name = (n as XmlElement).localName;
          if (name === 'Choice') choice ??= n as XmlElement;
          else if (name === 'Fallback') fallback ??= n as XmlElement;
        }
        if ((choice !== null && holdsText(choice)) || (fallback !== null && holdsText(fallback))) otherwise.alternate = true;
        const read = view.alternate === 'choice' ? choice : fallback;
        let s = '';
        for (let n = read?.firstChild ?? null; n; n = n.nextSibling) s += walk(n);
        return s;
      }
      case 'Fallback':
        return '';
      case 'del':
      case 'moveFrom': {
        // A tracked deletion (its text in w:delText), or the place a tracked move took its content
        // from: gone in Simple Markup, struck through in All Markup.
        if (!holdsText(el)) break;
        otherwise.tracked = true;
        if (view.tracked === 'final') return '';
        let s = '';
        for (let n = el.firstChild; n; n = n.nextSibling) s += walk(n);
        return struckText(s);
      }
      case 'delText':
        return view.tracked === 'markup' ? (el.textContent ?? '') : '';
      case 'drawing':
      case 'pict':
      case 'object': {
        // One that holds text (a text box) is read as its text; one that holds none shows what no
        // reading of text can say.
        if (holdsText(el)) break;
        otherwise.pictures = true;
        return view.pictures ? '\uFFFC' : '';
      }
      case 'r': {
        const pr = child(el, 'rPr');
        const run = runProps(pr, styles, paragraph);
        // What the run shows: its text, or a symbol, a legacy checkbox or a picture, which hold none.
        const text = holdsText(el) || SHOWN_WITHOUT_TEXT.some((name) => child(el, name) !== null);
        if (run.hidden && text) {
          otherwise.hidden = true;
          if (!view.hidden) return '';
        }
        // A highlight is drawn over the run's own shading, both over the paragraph's.
        const behind = pr === null ? backdrop : (fillOf(child(pr, 'highlight')) ?? fillOf(child(pr, 'shd')) ?? backdrop);
        const isFaint = faint(run, behind);
        const isMoved = moved(run);
        if ((isFaint || isMoved) && text) {
          otherwise.unsure = true;
          if (view.unsure ? isMoved : isFaint) return '';
        }
        if (run.struck) {
          // Struck through (w:strike, w:dstrike): read struck, as a struck mark is shown.
          let s = '';
          for (let n = el.firstChild; n; n = n.nextSibling) s += walk(n);
          return struckText(s);
        }
        break;
      }
      case 'p': {
        // Its style's run properties hold for its runs (a table cell's paragraphs within it too).
        const pr = child(el, 'pPr');
        // Its paragraph mark deleted as a tracked change: in Simple Markup it runs on into the next.
        const mark = pr === null ? null : child(pr, 'rPr');
        const markDeleted = mark !== null && (child(mark, 'del') !== null || child(mark, 'moveFrom') !== null);
        if (markDeleted) otherwise.tracked = true;
        const id = pr === null ? null : attr(child(pr, 'pStyle'), 'val');
        const outer = paragraph;
        const outerBackdrop = backdrop;
        paragraph = (id === null ? undefined : styles.get(id)) ?? styles.get(NO_STYLE) ?? null;
        backdrop = (pr === null ? null : fillOf(child(pr, 'shd'))) ?? backdrop;
        let s = '';
        for (let n = el.firstChild; n; n = n.nextSibling) s += walk(n);
        paragraph = outer;
        backdrop = outerBackdrop;
        return view.tracked === 'final' && markDeleted ? s : `${s}\n`;
      }
      case 't':
        return el.textContent ?? '';
      case 'sym':
        // A character inserted from a symbol font (Insert › Symbol: Wingdings' ☒, ✓).
        return symbol(el);
      case 'tab':
        return ' ';
      case 'br':
      case 'cr':
        return '\n';
      case 'sdt': {
        // A content control; a checkbox one (w14:checkbox) is read for its state, and what Word shows
        // of it is the glyph in its content, which a document written by another program may leave
        // at odds with the state: then the box cannot be read with certainty.
        const pr = child(el, 'sdtPr');
        const box = pr ? child(pr, 'checkbox') : null;
        if (pr !== null && child(pr, 'dataBinding') !== null && holdsText(el)) {
          otherwise.bound = true;
          if (view.bound) return '';
        }
        if (box) return checkboxControl(box, child(el, 'sdtContent'));
        break;
      }
      case 'instrText':
        // A field's instruction, which Word does not show (but a button's display text: fldChar's end).
        if (fields.length > 0) fields[fields.length - 1]!.instruction += el.textContent ?? '';
        return '';
      case 'fldSimple': {
        const shown = buttonText(attr(el, 'instr') ?? '');
        if (shown !== null) return shown;
        break;
      }
      case 'fldChar': {
        const type = attr(el, 'fldCharType');
        if (type === 'separate') {
          if (fields.length > 0) fields[fields.length - 1]!.separated = true;
          return '';
        }
        if (type === 'end') {
          // A field with no result shown (no separate) that is a button shows the display text its instruction gives.
          const field = fields.pop();
          return field === undefined || field.separated ? '' : (buttonText(field.instruction) ?? '');
        }
        if (type === 'begin') fields.push({ instruction: '', separated: false });
        // A legacy form field: <w:ffData><w:checkBox><w:checked/> or <w:default w:val="1"/>.
        const data = child(el, 'ffData');
        const box = data ? child(data, 'checkBox') : null;
        if (!box) return '';
        const checked = child(box, 'checked');
        return (checked ? on(checked, 'val') : on(child(box, 'default'), 'val')) ? '[X]' : '[ ]';
      }
      case 'tbl': {
        // Its rows, each a line, a mark in a cell merged down over rows read beside each (row, below).
        const above = new Map<number, string>();
        let s = '';
        for (let n = el.firstChild; n; n = n.nextSibling) s += n.nodeType === 1 && (n as XmlElement).localName === 'tr' ? row(n as XmlElement, above) : walk(n);
        return s;
      }
      case 'tr':
        return row(el, new Map());
      default:
        break;
    }
    let s = '';
    for (let n = el.firstChild; n; n = n.nextSibling) s += walk(n);
    return s;
  };
  /**
   * A table row as a line, its cells set apart by a space. A cell merged with the one above it
   * (w:vMerge, continuing) shows what the first cell of the merge holds, drawn across both rows: a
   * mark there (a few characters: "X", "☒", "[X]") is read beside each row, so that a cross across
   * two candidates' rows is never counted for the first alone. `above` holds, by grid column, the
   * mark of a merge still open, and is updated for the next row.
   */
  const row = (tr: XmlElement, above: Map<number, string>): string => {
    const cells: string[] = [];
    let column = 0;
    for (let n = tr.firstChild; n; n = n.nextSibling) {
      if (n.nodeType !== 1 || (n as XmlElement).localName !== 'tc') continue;
      const tc = n as XmlElement;
      const pr = child(tc, 'tcPr');
      const span = Math.min(Math.max(Number.parseInt(attr(pr ? child(pr, 'gridSpan') : null, 'val') ?? '1', 10) || 1, 1), 64);
      const outerBackdrop = backdrop;
      backdrop = (pr === null ? null : fillOf(child(pr, 'shd'))) ?? backdrop;
      let text = walk(tc).replace(/\s*\n\s*/g, ' ').trim();
      backdrop = outerBackdrop;
      const merge = pr ? child(pr, 'vMerge') : null;
      if (merge === null) above.delete(column);
      else if (attr(merge, 'val') === 'restart') {
        if (mayBeMark(text)) above.set(column, text);
        else above.delete(column);
      } else if (text === '' && above.has(column)) text = above.get(column)!;
      cells.push(text);
      column += span;
    }
    return cells.filter((c) => c !== '').join(' ') + '\n';
  };
  const text = walk(root);
  return { text, otherwise };
}

/** An attribute of a Word element, with or without its w: prefix, or null. */
function attr(el: XmlElement | null, name: string): string | null {
  return el === null ? null : (el.getAttribute(`w:${name}`) ?? el.getAttribute(name));
}

/** Whether a cell's text may be a mark: no more than four characters, white space aside ("X", "☒", "[X]", "yes"). */
const mayBeMark = (text: string): boolean => {
  const n = text.replace(/\s+/g, '').length;
  return n > 0 && n <= 4;
};

/**
 * A part parsed, or why it cannot be: not well-formed, empty, or nested deeper than MAX_XML_DEPTH
 * (refused before anything walks it).
 */
function parseXml(xml: Uint8Array): XmlElement | string {
  let root: XmlElement | null;
  try {
    const errors: string[] = [];
    const dom = new DOMParser({ onError: (level, msg) => { if (level !== 'warning') errors.push(msg); } }).parseFromString(new TextDecoder('utf-8').decode(xml), 'text/xml');
    if (errors.length > 0) return `is not well-formed: ${errors[0]?.slice(0, 200)}`;
    root = dom.documentElement as unknown as XmlElement | null;
  } catch (e) {
    return `is not well-formed: ${(e as Error).message.slice(0, 200)}`;
  }
  if (!root) return 'is empty';
  if (nestedDeeperThan(root, MAX_XML_DEPTH)) return `nests elements more than ${MAX_XML_DEPTH} deep`;
  return root;
}

/** A part's name as the package's parts are compared: without a leading slash, in lower case (OPC part names are equal whatever their case). */
const partKey = (name: string): string => name.replace(/^\/+/, '').toLowerCase();

/** Where a relationship of the part `source` points: its Target resolved against the part's folder (percent-encoding decoded); null when it leaves the package. */
function resolveTarget(source: string, target: string): string | null {
  let t: string;
  try {
    t = decodeURIComponent(target);
  } catch {
    return null;
  }
  const path = t.startsWith('/') ? [] : source.split('/').slice(0, -1);
  for (const segment of t.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (path.length === 0) return null;
      path.pop();
    } else path.push(segment);
  }
  return path.join('/');
}

/** The relationships part of a part ("word/_rels/document.xml.rels"; the package's own, "_rels/.rels", for ""). */
const relsOf = (part: string): string => {
  const slash = part.lastIndexOf('/');
  return `${part.slice(0, slash + 1)}_rels/${part.slice(slash + 1)}.rels`;
};

interface Relationship {
  /** The relationship's kind, the last segment of its Type ("officeDocument", "styles", "header"). */
  kind: string;
  /** The part it points to, resolved; null when it points outside the package (TargetMode="External", or above its root). */
  part: string | null;
}

/** The relationships a .rels part of `source` lists, or why they cannot be read. */
function relationships(xml: Uint8Array, source: string): Relationship[] | string {
  const root = parseXml(xml);
  if (typeof root === 'string') return root;
  const out: Relationship[] = [];
  for (let n = root.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== 1 || (n as XmlElement).localName !== 'Relationship') continue;
    const el = n as XmlElement;
    const type = el.getAttribute('Type') ?? '';
    const target = el.getAttribute('Target') ?? '';
    const external = (el.getAttribute('TargetMode') ?? '').toLowerCase() === 'external';
    out.push({ kind: type.slice(type.lastIndexOf('/') + 1), part: external ? null : resolveTarget(source, target) });
  }
  return out;
}

/** The parts Word shows beside the document's body, by relationship kind: its headers and footers, notes and comments. */
const SHOWN_BESIDE = new Set(['header', 'footer', 'footnotes', 'endnotes', 'comments']);
/** Relationship parts, and the parts shown beside the body, larger than this are refused: Word's own are a few KB. */
const MAX_RELS_BYTES = 1 << 18;
/** More parts shown beside the body than this leave the file to the officer (a document has a few headers and footers a section). */
const MAX_SHOWN_BESIDE = 64;

/**
 * Papers read otherwise than Word shows them: the ways of reading a document other than AS_SHOWN,
 * each with what the document must hold for it to read otherwise, and what it means when it does.
 */
const READ_OTHERWISE: { when: keyof Otherwise; view: View; why: string }[] = [
  {
    when: 'hidden',
    view: { ...AS_SHOWN, hidden: true },
    why: "the document holds hidden text (Word's Hidden font effect) that changes its ballot paper: Word shows one paper and the file holds another; open it and decide",
  },
  {
    when: 'tracked',
    view: { ...AS_SHOWN, tracked: 'markup' },
    why: "the document holds tracked changes (deletions, or moves) that change its ballot paper: Word's Simple Markup shows one paper and its All Markup another, the deleted marks struck through; open it and decide",
  },
  {
    when: 'alternate',
    view: { ...AS_SHOWN, alternate: 'fallback' },
    why: 'the document gives part of its content twice, for Word (mc:Choice) and for readers that do not know it (mc:Fallback), and the two make different papers; open it and decide',
  },
  {
    when: 'unsure',
    view: { ...AS_SHOWN, unsure: true },
    why: 'the document holds text Word draws where no one sees it with certainty (in the colour of what is behind it, under 2 points, squeezed to under a quarter of its width, raised or lowered 3 points or more, or drawn over its neighbours) that changes its ballot paper; open it and decide',
  },
  {
    when: 'bound',
    view: { ...AS_SHOWN, bound: true },
    why: 'the document holds content controls bound to data kept elsewhere in the file (w:dataBinding), which Word shows in their place, and they hold lines of its ballot paper; open it and decide',
  },
  {
    when: 'pictures',
    view: { ...AS_SHOWN, pictures: true },
    why: "a picture, shape or embedded object sits in the paper's box lines (a picture of a tick pasted into a box, a shape drawn over one), where no reading of its text can say what it shows; open it and decide",
  },
];

/** What of papers decides a vote: their box lines, and their stray marks (where they fall aside: a paragraph left out moves the lines after it). */
const paperShape = (papers: readonly RawPaper[]): string => boxLines(papers) + JSON.stringify(papers.map((p) => (p.strays ?? []).map((s) => [s.text, s.mark])));

class Refused extends Error {}

/**
 * Reads a Word paper as Word opens it: the package's relationships name its document (usually
 * word/document.xml) and the document's name its styles and the headers, footers, notes and
 * comments shown beside it. The document is read as text (paragraphs and table rows as lines,
 * checkbox content controls and legacy checkbox fields by their checked state), then papers are
 * found in it as in any text. A zip bomb or an oversized part is refused before it is inflated.
 */
export function readDocxPapers(bytes: Uint8Array, origin: string, maxUncompressed: number, budget?: { left: number }): DocxReading {
  // The limit is on all the Word documents of a message together, when the caller keeps a budget:
  // reading costs about a microsecond a byte, and a message may carry fifty documents.
  const allowed = Math.min(maxUncompressed, budget?.left ?? maxUncompressed);
  let spent = 0;
  // The zip's entries, by name as the package compares them.
  const entries = new Map<string, { name: string; size: number }>();
  let twice: string | null = null;
  try {
    unzipSync(bytes, {
      filter: (f) => {
        const key = partKey(f.name);
        if (entries.has(key)) twice ??= f.name;
        entries.set(key, { name: f.name, size: f.originalSize });
        return false;
      },
    });
  } catch (e) {
    return { kind: 'unreadable', why: `the Word file cannot be read: ${(e as Error).message.slice(0, 200)}` };
  }
  if (twice !== null) return { kind: 'not-machine-readable', why: `the file holds two parts named ${JSON.stringify(twice)}: which of them a reader opens cannot be told; open it and decide` };
  /**
   * Inflates the parts named (each within its limit, and together within what is allowed), by the
   * name asked for. fflate inflates into a buffer of the size the zip declares, so a size the headers
   * understate is cut off there; a size they state honestly is checked before anything is inflated.
   */
  const inflate = (wanted: Map<string, number>): Map<string, Uint8Array> => {
    const byKey = new Map([...wanted.keys()].map((name) => [partKey(name), name]));
    const out = new Map<string, Uint8Array>();
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes, {
        filter: (f) => {
          const name = byKey.get(partKey(f.name));
          if (name === undefined) return false;
          const limit = wanted.get(name)!;
          const left = allowed - spent;
          if (f.originalSize > Math.min(limit, left)) {
            throw new Refused(
              limit < left
                ? `${name} would inflate to ${f.originalSize} bytes, over its ${limit}-byte limit`
                : allowed === maxUncompressed
                  ? `${name} would inflate to ${f.originalSize} bytes, over the ${maxUncompressed}-byte limit`
                  : `${name} would inflate to ${f.originalSize} bytes, over the ${left} bytes left of the ${maxUncompressed}-byte limit on the Word documents of one message together`,
            );
          }
          if (f.size > 0 && f.originalSize / f.size > 200 && f.originalSize > 1_000_000) throw new Refused(`${name} inflates ${Math.round(f.originalSize / f.size)}-fold: refused as a zip bomb`);
          spent += f.originalSize;
          return true;
        },
      });
    } catch (e) {
      throw e instanceof Refused ? e : new Refused((e as Error).message.slice(0, 200));
    }
    for (const [file, data] of Object.entries(files)) out.set(byKey.get(partKey(file))!, data);
    return out;
  };
  const has = (name: string): boolean => entries.has(partKey(name));
  try {
    // The document: the package's officeDocument relationship (word/document.xml when the package
    // lists none, as a file written without them is read).
    let main = DOCUMENT;
    if (has('_rels/.rels')) {
      const rels = relationships(inflate(new Map([['_rels/.rels', MAX_RELS_BYTES]])).get('_rels/.rels')!, '');
      if (typeof rels === 'string') return { kind: 'unreadable', why: `its relationships (_rels/.rels) ${rels}` };
      const documents = [...new Set(rels.filter((r) => r.kind === 'officeDocument').map((r) => (r.part === null ? null : partKey(r.part))))];
      if (documents.length === 0) return { kind: 'unreadable', why: 'not a Word document (its relationships, _rels/.rels, name no document)' };
      if (documents.length > 1 || documents[0] === null) {
        return { kind: 'not-machine-readable', why: 'its relationships (_rels/.rels) name more than one document, or one outside the file: which of them a reader opens cannot be told; open it and decide' };
      }
      main = entries.get(documents[0]!)?.name ?? documents[0]!;
    }
    if (!has(main)) return { kind: 'unreadable', why: `not a Word document (no ${main})` };
    const mainRels = relsOf(main);
    const first = inflate(new Map([[main, Number.POSITIVE_INFINITY], ...(has(mainRels) ? [[mainRels, MAX_RELS_BYTES] as const] : [])]));
    const root = parseXml(first.get(main)!);
    if (typeof root === 'string') return { kind: 'unreadable', why: `${main} ${root}` };
    // Its styles and the parts shown beside it, by the document's relationships (word/styles.xml
    // when it lists none).
    let stylesPart: string | null = has('word/styles.xml') ? 'word/styles.xml' : null;
    const beside: { part: string; kind: string }[] = [];
    const relsXml = first.get(mainRels);
    if (relsXml !== undefined) {
      const rels = relationships(relsXml, main);
      if (typeof rels === 'string') return { kind: 'unreadable', why: `its relationships (${mainRels}) ${rels}` };
      stylesPart = rels.find((r) => r.kind === 'styles' && r.part !== null && has(r.part))?.part ?? null;
      const seen = new Set<string>();
      for (const r of rels) {
        if (!SHOWN_BESIDE.has(r.kind) || r.part === null || !has(r.part) || seen.has(partKey(r.part))) continue;
        seen.add(partKey(r.part));
        beside.push({ part: r.part, kind: r.kind });
      }
    }
    if (beside.length > MAX_SHOWN_BESIDE) return { kind: 'not-machine-readable', why: `the document has ${beside.length} headers, footers, notes and comments, over the ${MAX_SHOWN_BESIDE} read; open it and decide` };
    const body = descendant(root, 'body') ?? root;
    const drawn = drawnMarks(body);
    if (drawn.length > 0) {
      return { kind: 'not-machine-readable', why: `marks are drawn on the document rather than typed in its lines (${drawn.join(', ')}), placed where no reading of its text can say: open it and decide` };
    }
    const imported = ['altChunk', 'subDoc'].filter((name) => body.getElementsByTagNameNS('*', name).length > 0);
    if (imported.length > 0) {
      return { kind: 'not-machine-readable', why: `part of the document is another file that Word brings in when it opens it (${imported.map((n) => `w:${n}`).join(', ')}), which is not read here; open it and decide` };
    }
    // Styles too large to read are said to be (what they hide cannot be told), not refused as the file.
    const stylesSize = stylesPart === null ? 0 : (entries.get(partKey(stylesPart))?.size ?? 0);
    if (stylesPart !== null && stylesSize > Math.min(MAX_STYLES_BYTES, allowed - spent)) {
      return { kind: 'not-machine-readable', why: `its styles (${stylesPart}) are over ${Math.min(MAX_STYLES_BYTES, allowed - spent)} bytes: what they hide or strike through cannot be told; open it and decide` };
    }
    let styles: Styles = NO_STYLES;
    const second = inflate(new Map<string, number>([...(stylesPart === null ? [] : [[stylesPart, MAX_STYLES_BYTES] as const]), ...beside.map((b) => [b.part, MAX_RELS_BYTES] as const)]));
    if (stylesPart !== null) {
      const read = readStyles(second.get(stylesPart)!);
      if (read === null) return { kind: 'not-machine-readable', why: `its styles (${stylesPart}) are over what can be read: not well-formed, or nested too deep: what they hide or strike through cannot be told; open it and decide` };
      styles = read;
    }
    // Read as Word shows it; and each other way of reading it that the document gives cause for: a
    // paper it reads otherwise leaves the file to the officer.
    const page = fillOf(child(root, 'background')) ?? PAGE;
    const shown = documentText(body, AS_SHOWN, styles, page);
    const papers = findPapers(shown.text, origin);
    const shape = paperShape(papers);
    for (const other of READ_OTHERWISE) {
      if (shown.otherwise[other.when] && paperShape(findPapers(documentText(body, other.view, styles, page).text, origin)) !== shape) return { kind: 'not-machine-readable', why: other.why };
    }
    // A header, footer, note or comment that holds a box line or a mark beside one, read in any of
    // the ways, is shown beside the body's paper: two papers on one page.
    for (const { part, kind } of beside) {
      const partRoot = parseXml(second.get(part)!);
      if (typeof partRoot === 'string') return { kind: 'unreadable', why: `${part} ${partRoot}` };
      // As shown, and each other way the part gives cause for.
      const shownPart = documentText(partRoot, AS_SHOWN, styles, page);
      const texts = [shownPart.text, ...READ_OTHERWISE.filter((o) => shownPart.otherwise[o.when]).map((o) => documentText(partRoot, o.view, styles, page).text)];
      if (texts.some((text) => findPapers(text, origin).some((p) => p.boxes.length > 0 || (p.strays ?? []).length > 0))) {
        return { kind: 'not-machine-readable', why: `its ${kind} (${part}) holds lines of a ballot paper, shown beside the document's own: open it and decide` };
      }
    }
    return { kind: 'papers', papers };
  } catch (e) {
    if (e instanceof Refused) return { kind: 'unreadable', why: `the Word file cannot be read: ${e.message}` };
    throw e;
  } finally {
    if (budget) budget.left -= spent;
  }
}
