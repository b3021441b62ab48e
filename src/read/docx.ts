import { DOMParser, type Element as XmlElement, type Node as XmlNode } from '@xmldom/xmldom';
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

/** The run properties read here, as a style or a run sets them: null where it says nothing of one. */
interface RunToggles {
  hidden: boolean | null;
  struck: boolean | null;
}
/** Styles by id: the run properties each sets, its own or those of the style it is based on. */
type Styles = ReadonlyMap<string, RunToggles>;
const STYLES = 'word/styles.xml';
/** A styles part larger than this is not read, and the document is left to the officer (Word's own is some 30–80 KB, a large template's 300 KB). */
const MAX_STYLES_BYTES = 1 << 20;

/** What a properties element (w:rPr) says of hidden text (w:vanish, w:specVanish) and strike-through (w:strike, w:dstrike). */
function togglesOf(pr: XmlElement | null): RunToggles {
  const said = (names: string[]): boolean | null => {
    const found = pr === null ? [] : names.map((n) => child(pr, n)).filter((v): v is XmlElement => v !== null);
    return found.length === 0 ? null : found.some((v) => on(v, 'val') === true);
  };
  return { hidden: said(['vanish', 'specVanish']), struck: said(['strike', 'dstrike']) };
}

/**
 * The character and paragraph styles of word/styles.xml, each with the hidden and struck text it
 * sets (its own w:rPr, else the style it is based on, followed up to 16 deep and never round a
 * loop); empty when there is none; null when it cannot be read (not well-formed, nested too deep).
 */
function readStyles(xml: Uint8Array | undefined): Styles | null {
  const out = new Map<string, RunToggles>();
  if (xml === undefined) return out;
  let root: XmlElement | null;
  try {
    const errors: string[] = [];
    root = new DOMParser({ onError: (level) => { if (level !== 'warning') errors.push(level); } }).parseFromString(new TextDecoder('utf-8').decode(xml), 'text/xml').documentElement as unknown as XmlElement | null;
    if (errors.length > 0 || root === null || nestedDeeperThan(root, MAX_XML_DEPTH)) return null;
  } catch {
    return null;
  }
  const own = new Map<string, { toggles: RunToggles; basedOn: string | null }>();
  let defaultParagraph: string | null = null;
  const list = root.getElementsByTagNameNS('*', 'style');
  for (let i = 0; i < list.length; i++) {
    const style = list.item(i) as XmlElement;
    const id = attr(style, 'styleId');
    if (id === null) continue;
    own.set(id, { toggles: togglesOf(child(style, 'rPr')), basedOn: attr(child(style, 'basedOn'), 'val') });
    if (attr(style, 'type') === 'paragraph' && /^(?:1|true|on)$/i.test(attr(style, 'default') ?? '')) defaultParagraph ??= id;
  }
  // The document's defaults (w:docDefaults/w:rPrDefault), under every style.
  const defaults = root.getElementsByTagNameNS('*', 'rPrDefault').item(0) as XmlElement | null;
  const base = togglesOf(defaults === null ? null : child(defaults, 'rPr'));
  for (const id of own.keys()) {
    const toggles: RunToggles = { hidden: null, struck: null };
    const seen = new Set<string>();
    for (let at: string | null = id; at !== null && !seen.has(at) && seen.size < 16; at = own.get(at)?.basedOn ?? null) {
      seen.add(at);
      const t = own.get(at)?.toggles;
      toggles.hidden ??= t?.hidden ?? null;
      toggles.struck ??= t?.struck ?? null;
    }
    out.set(id, toggles);
  }
  // A paragraph with no style of its own has the default paragraph style; the document's defaults under all.
  const fallback = defaultParagraph === null ? null : (out.get(defaultParagraph) ?? null);
  out.set(NO_STYLE, { hidden: fallback?.hidden ?? base.hidden, struck: fallback?.struck ?? base.struck });
  for (const [id, t] of out) if (id !== NO_STYLE) out.set(id, { hidden: t.hidden ?? base.hidden, struck: t.struck ?? base.struck });
  return out;
}
/** The key of Styles for a paragraph that names no style. */
const NO_STYLE = '\u0000';

/**
 * Hidden text and strike-through of a run, as Word works them out: the run's own properties, else
 * its character style's (w:rStyle), else its paragraph style's (`paragraph`).
 */
function runToggles(run: XmlElement, styles: Styles, paragraph: RunToggles | null): { hidden: boolean; struck: boolean } {
  const pr = child(run, 'rPr');
  const direct = togglesOf(pr);
  const rStyle = pr === null ? null : attr(child(pr, 'rStyle'), 'val');
  const character = rStyle === null ? null : (styles.get(rStyle) ?? null);
  return {
    hidden: direct.hidden ?? character?.hidden ?? paragraph?.hidden ?? false,
    struck: direct.struck ?? character?.struck ?? paragraph?.struck ?? false,
  };
}

/**
 * The document as lines of text, each checkbox written as "[X]" or "[ ]" by its checked state: as
 * Word shows it (`withHidden` false: runs of hidden text left out), or with its hidden text. Says
 * whether any hidden run holds text.
 */
function documentText(root: XmlElement, withHidden: boolean, styles: Styles): { text: string; hidden: boolean } {
  let hidden = false;
  // The run properties the paragraph being read sets by its style (w:pStyle).
  let paragraph: RunToggles | null = null;
  const walk = (node: XmlNode): string => {
    if (node.nodeType !== 1) return '';
    const el = node as XmlElement;
    switch (el.localName) {
      case 'Fallback':
        // mc:AlternateContent gives a drawing twice, for Word (mc:Choice) and for older readers
        // (mc:Fallback, VML): Word shows the first, so its text is read once.
        return '';
      case 'r': {
        const run = runToggles(el, styles, paragraph);
        if (run.hidden && (el.textContent ?? '').trim() !== '') {
          hidden = true;
          if (!withHidden) return '';
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
        const id = pr === null ? null : attr(child(pr, 'pStyle'), 'val');
        const outer = paragraph;
        paragraph = (id === null ? undefined : styles.get(id)) ?? styles.get(NO_STYLE) ?? null;
        let s = '';
        for (let n = el.firstChild; n; n = n.nextSibling) s += walk(n);
        paragraph = outer;
        return `${s}\n`;
      }
      case 't':
        return el.textContent ?? '';
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
        if (box) return checkboxControl(box, child(el, 'sdtContent'));
        break;
      }
      case 'fldChar': {
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
      let text = walk(tc).replace(/\s*\n\s*/g, ' ').trim();
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
  return { text, hidden };
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
 * Reads a Word paper: the text of word/document.xml (paragraphs and table rows as lines, checkbox
 * content controls and legacy checkbox fields by their checked state), then finds papers in it as in
 * any text. A zip bomb or an oversized document is refused before it is inflated.
 */
export function readDocxPapers(bytes: Uint8Array, origin: string, maxUncompressed: number, budget?: { left: number }): DocxReading {
  let files: Record<string, Uint8Array>;
  let stylesTooLarge = false;
  // The limit is on all the Word documents of a message together, when the caller keeps a budget:
  // reading costs about a microsecond a byte, and a message may carry fifty documents.
  const allowed = Math.min(maxUncompressed, budget?.left ?? maxUncompressed);
  try {
    // fflate inflates into a buffer of the size the zip declares, so a size the headers understate
    // is cut off there; a size they state honestly is checked before anything is inflated.
    files = unzipSync(bytes, {
      filter: (f) => {
        // The styles, for hidden and struck text set by a style: one too large to read is said to be.
        if (f.name === STYLES) {
          if (f.originalSize > Math.min(allowed, MAX_STYLES_BYTES)) stylesTooLarge = true;
          return !stylesTooLarge;
        }
        if (f.name !== DOCUMENT) return false;
        if (f.originalSize > allowed) {
          throw new Error(
            allowed === maxUncompressed
              ? `word/document.xml would inflate to ${f.originalSize} bytes, over the ${maxUncompressed}-byte limit`
              : `word/document.xml would inflate to ${f.originalSize} bytes, over the ${allowed} bytes left of the ${maxUncompressed}-byte limit on the Word documents of one message together`,
          );
        }
        if (f.size > 0 && f.originalSize / f.size > 200 && f.originalSize > 1_000_000) throw new Error(`word/document.xml inflates ${Math.round(f.originalSize / f.size)}-fold: refused as a zip bomb`);
        return true;
      },
    });
  } catch (e) {
    return { kind: 'unreadable', why: `the Word file cannot be read: ${(e as Error).message.slice(0, 200)}` };
  }
  const xml = files[DOCUMENT];
  if (!xml) return { kind: 'unreadable', why: 'not a Word document (no word/document.xml)' };
  if (budget) budget.left -= xml.length + (files[STYLES]?.length ?? 0);
  let root: XmlElement | null = null;
  try {
    const errors: string[] = [];
    const dom = new DOMParser({ onError: (level, msg) => { if (level !== 'warning') errors.push(msg); } }).parseFromString(new TextDecoder('utf-8').decode(xml), 'text/xml');
    if (errors.length > 0) return { kind: 'unreadable', why: `word/document.xml is not well-formed: ${errors[0]?.slice(0, 200)}` };
    root = dom.documentElement as unknown as XmlElement | null;
  } catch (e) {
    return { kind: 'unreadable', why: `word/document.xml is not well-formed: ${(e as Error).message.slice(0, 200)}` };
  }
  if (!root) return { kind: 'unreadable', why: 'word/document.xml is empty' };
  if (nestedDeeperThan(root, MAX_XML_DEPTH)) return { kind: 'unreadable', why: `word/document.xml nests elements more than ${MAX_XML_DEPTH} deep` };
  const body = descendant(root, 'body') ?? root;
  const drawn = drawnMarks(body);
  if (drawn.length > 0) {
    return { kind: 'not-machine-readable', why: `marks are drawn on the document rather than typed in its lines (${drawn.join(', ')}), placed where no reading of its text can say: open it and decide` };
  }
  // Read as Word shows it. Hidden text (Word's "Hidden" font effect) that would change the paper, a
  // mark or a line the officer opening the file does not see, or sees only with hidden text shown,
  // leaves the paper to the officer.
  const styles = stylesTooLarge ? null : readStyles(files[STYLES]);
  if (styles === null) {
    const why = stylesTooLarge ? `over ${MAX_STYLES_BYTES} bytes` : 'over what can be read: not well-formed, or nested too deep';
    return { kind: 'not-machine-readable', why: `its styles (word/styles.xml) are ${why}: what they hide or strike through cannot be told; open it and decide` };
  }
  const shown = documentText(body, false, styles);
  const papers = findPapers(shown.text, origin);
  if (shown.hidden) {
    const all = findPapers(documentText(body, true, styles).text, origin);
    if (boxLines(all) !== boxLines(papers)) {
      return { kind: 'not-machine-readable', why: "the document holds hidden text (Word's Hidden font effect) that changes its ballot paper: Word shows one paper and the file holds another; open it and decide" };
    }
  }
  return { kind: 'papers', papers };
}
