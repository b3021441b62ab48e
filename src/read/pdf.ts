import { AsyncLocalStorage } from 'node:async_hooks';
import { deflateSync } from 'node:zlib';
import {
  decodePDFRawStream,
  PDFArray,
  PDFCheckBox,
  PDFContext,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  PDFRadioGroup,
  PDFRawStream,
  PDFRef,
  PDFString,
  PDFTextField,
  type PDFField,
} from 'pdf-lib/dist/pdf-lib.esm.min.js';
import { PDF_FIELDS } from '../model/paper-form.js';
import type { BoxLine, RawPaper } from './paper.js';
import { MAX_PDF_DECODED_BYTES, pdfDecodeBudget, type DecodeBudget } from './pdf-budget.js';

export { MAX_PDF_DECODED_BYTES };

/** The budget of the message whose PDF is being read, across pdf-lib's awaits (several may be read at once). */
const decoding = new AsyncLocalStorage<DecodeBudget>();

/**
 * Every decoder in pdf-lib (pdf.js's DecodeStream under Flate, LZW, RunLength, ASCII85 and ASCIIHex,
 * chained or not) grows its buffer through DecodeStream's ensureBuffer, which pdf-lib does not
 * export: it is found from a stream that decodePDFRawStream makes, and bounded there, once. A stream
 * growing past the bound, or a PDF's streams together past it, throw where they grow: pdf-lib's
 * loader then fails or skips the object, and readPdfPaper says why.
 */
function boundPdfDecoding(): void {
  const sample = decodePDFRawStream(PDFRawStream.of(PDFContext.create().obj({ Filter: 'FlateDecode' }), deflateSync(Buffer.alloc(0))));
  let proto: object | null = Object.getPrototypeOf(sample) as object | null;
  while (proto !== null && !Object.hasOwn(proto, 'ensureBuffer')) proto = Object.getPrototypeOf(proto) as object | null;
  // A pdf-lib without it is not the one package-lock.json pins: stop rather than read PDFs unbounded.
  if (proto === null) throw new Error('pdf-lib has no DecodeStream.ensureBuffer: PDF decoding cannot be bounded');
  const stream = proto as { ensureBuffer: (this: { buffer: Uint8Array }, requested: number) => Uint8Array };
  const ensureBuffer = stream.ensureBuffer;
  const refuse = (budget: DecodeBudget | undefined): never => {
    if (budget) budget.exceeded = true;
    throw new Error(`its compressed streams decode to more than ${MAX_PDF_DECODED_BYTES} bytes`);
  };
  // Counted as the buffers grow (a decoder asks for more only when its buffer is full, and the buffer
  // doubles): what is decoded is never more than what is counted, nor less than half of it.
  stream.ensureBuffer = function (requested) {
    if (requested > MAX_PDF_DECODED_BYTES) refuse(decoding.getStore());
    const before = this.buffer.byteLength;
    if (requested <= before) return ensureBuffer.call(this, requested);
    const budget = decoding.getStore();
    if (budget !== undefined && budget.left < requested - before) refuse(budget);
    const grown = ensureBuffer.call(this, requested);
    if (budget !== undefined) budget.left -= grown.byteLength - before;
    return grown;
  };
}
boundPdfDecoding();


export type PdfReading =
  | { kind: 'paper'; paper: RawPaper }
  /** Readable, but nothing a machine can count: flattened, scanned, or not our form. The officer looks. */
  | { kind: 'not-machine-readable'; why: string }
  /** Cannot be parsed at all: malformed, or over the size limit. */
  | { kind: 'unreadable'; why: string };

const isOn = (state: string | undefined): boolean => state !== undefined && state !== '' && state.toLowerCase() !== 'off';

/** A field value as written: a name (/1), or text ("/williams") from fillers that store it so. */
function stateOf(v: unknown): string | undefined {
  if (v instanceof PDFName) return v.decodeText();
  if (v instanceof PDFString || v instanceof PDFHexString) return v.decodeText().replace(/^\//, '');
  return undefined;
}

/**
 * How deep a PDF's page tree and form-field tree may nest (/Kids below, /Parent above). pdf-lib walks
 * them recursively, so a tree deep enough overflows the stack, and where it overflows depends on the
 * thread (a reader thread's stack is four times the main thread's): a page tree 10,000 deep read as a
 * paper on one and failed on the other, so the result depended on which thread read it. Trees of
 * real PDFs are some few levels deep. Walked here without recursion, each object once.
 */
const MAX_PDF_TREE_DEPTH = 64;

function treeFlaw(doc: PDFDocument): string | null {
  const context = doc.context;
  const resolved = (o: unknown): unknown => (o instanceof PDFRef ? context.lookup(o) : o);
  // A file without a catalog has no trees: what pdf-lib makes of it is reported where it fails.
  const catalog: unknown = doc.catalog;
  if (!(catalog instanceof PDFDict)) return null;
  const acroForm = resolved(catalog.get(PDFName.of('AcroForm')));
  const roots: [string, unknown][] = [
    ['page tree', catalog.get(PDFName.of('Pages'))],
    ['form-field tree', acroForm instanceof PDFDict ? acroForm.get(PDFName.of('Fields')) : undefined],
  ];
  for (const [tree, root] of roots) {
    const seen = new Set<unknown>();
    const stack: [unknown, number][] = [[root, 0]];
    for (let top = stack.pop(); top; top = stack.pop()) {
      const [node, depth] = top;
      const value = resolved(node);
      if ((value instanceof PDFArray || value instanceof PDFDict) && seen.has(value)) return `${tree} loops (an object is its own ancestor, or in it twice)`;
      if (value instanceof PDFArray) {
        seen.add(value);
        for (let i = 0; i < value.size(); i++) stack.push([value.get(i), depth]);
      } else if (value instanceof PDFDict) {
        seen.add(value);
        if (depth > MAX_PDF_TREE_DEPTH) return `${tree} nests more than ${MAX_PDF_TREE_DEPTH} deep`;
        const kids = resolved(value.get(PDFName.of('Kids')));
        if (kids instanceof PDFArray) for (let i = 0; i < kids.size(); i++) stack.push([kids.get(i), depth + 1]);
      }
    }
  }
  // Every object's /Parent chain (a widget's, a field's, a page's), each object's depth worked out once.
  const depthOf = new Map<PDFDict, number>();
  for (const [, object] of context.enumerateIndirectObjects()) {
    if (!(object instanceof PDFDict) || depthOf.has(object)) continue;
    const path: PDFDict[] = [];
    const onPath = new Set<PDFDict>();
    let above = 0;
    for (let d: unknown = object; d instanceof PDFDict; d = resolved(d.get(PDFName.of('Parent')))) {
      const known = depthOf.get(d);
      if (known !== undefined) {
        above = known + 1;
        break;
      }
      if (onPath.has(d)) return 'objects are each other\'s /Parent (a loop)';
      onPath.add(d);
      path.push(d);
      if (path.length > MAX_PDF_TREE_DEPTH + 1) return `/Parent chains are longer than ${MAX_PDF_TREE_DEPTH}`;
    }
    for (let i = path.length - 1; i >= 0; i--) depthOf.set(path[i]!, above + (path.length - 1 - i));
    if (above + path.length - 1 > MAX_PDF_TREE_DEPTH) return `/Parent chains are longer than ${MAX_PDF_TREE_DEPTH}`;
  }
  return null;
}

/**
 * Reads the issued, fillable PDF paper after another program filled it in: the radio group (one
 * vacancy) or checkboxes, the signatory's text fields, and the printed council and reference. A
 * tick that shows (appearance state on) though the value was left unset counts as shown; a value
 * that the appearance contradicts is reported as a mark that cannot be read with certainty.
 */
export async function readPdfPaper(bytes: Uint8Array, origin: string, maxBytes: number, budget: DecodeBudget = pdfDecodeBudget()): Promise<PdfReading> {
  if (bytes.length > maxBytes) return { kind: 'unreadable', why: `PDF of ${bytes.length} bytes is over the ${maxBytes}-byte limit` };
  const reading = await decoding.run(budget, () => readPdf(bytes, origin));
  // pdf-lib may have skipped the objects that would not decode and read on: the file is refused all the same.
  return budget.exceeded ? { kind: 'unreadable', why: `the compressed streams of the message's PDFs decode to more than ${MAX_PDF_DECODED_BYTES} bytes (a "zip bomb")` } : reading;
}

async function readPdf(bytes: Uint8Array, origin: string): Promise<PdfReading> {
  let doc: PDFDocument;
  // pdf-lib warns on the console about broken objects; nothing may write to the report's streams.
  const { log, warn } = console;
  try {
    console.log = console.warn = () => undefined;
    doc = await PDFDocument.load(bytes, { updateMetadata: false, throwOnInvalidObject: false });
  } catch (e) {
    const msg = (e as Error).message;
    if (/encrypt/i.test(msg)) return { kind: 'not-machine-readable', why: 'the PDF is encrypted, so its fields cannot be read by machine' };
    return { kind: 'unreadable', why: `the PDF cannot be parsed: ${msg.slice(0, 200)}` };
  } finally {
    console.log = log;
    console.warn = warn;
  }
  let nesting: string | null;
  try {
    nesting = treeFlaw(doc);
  } catch (e) {
    return { kind: 'unreadable', why: `the PDF's trees cannot be read: ${(e as Error).message.slice(0, 200)}` };
  }
  if (nesting !== null) return { kind: 'unreadable', why: `the PDF's ${nesting}` };
  let fields: PDFField[];
  let byName: Map<string, PDFField>;
  try {
    fields = doc.getForm().getFields();
    byName = new Map(fields.map((f) => [f.getName(), f]));
  } catch (e) {
    return { kind: 'unreadable', why: `the PDF's form cannot be read: ${(e as Error).message.slice(0, 200)}` };
  }
  if (fields.length === 0) return { kind: 'not-machine-readable', why: 'the PDF has no form fields (flattened, printed and scanned, or not the issued paper)' };
  let shown: Set<PDFDict>;
  try {
    shown = shownWidgets(doc);
  } catch (e) {
    return { kind: 'unreadable', why: `the PDF's pages cannot be read: ${(e as Error).message.slice(0, 200)}` };
  }
  // A text field is read as a viewer shows it: one none of whose boxes is shown holds nothing seen.
  const text = (name: string): string | null => {
    const f = byName.get(name);
    if (!(f instanceof PDFTextField)) return null;
    try {
      if (!f.acroField.getWidgets().some((w) => shown.has(w.dict))) return null;
      const v = f.getText()?.trim();
      return v ? v : null;
    } catch {
      return null;
    }
  };
  let boxes: BoxLine[];
  let drawn: string[];
  try {
    boxes = voteBoxes(fields, byName, shown);
    drawn = markedOnVoteRows(doc, fields);
  } catch (e) {
    // A broken object under the vote fields (pdf-lib throws on a widget or value of the wrong type):
    // the attachment is unreadable, and the message's other papers are read all the same.
    return { kind: 'unreadable', why: `the PDF's vote fields cannot be read: ${(e as Error).message.slice(0, 200)}` };
  }
  if (boxes.length === 0) return { kind: 'not-machine-readable', why: 'the PDF has form fields, but not the vote fields of the issued paper' };
  if (drawn.length > 0) {
    return {
      kind: 'not-machine-readable',
      why: `marks were drawn or typed on the PDF's candidate lines (${drawn.join(', ')}: annotations, as a viewer's markup or "fill and sign" tools add them), which its form fields do not hold: open it and decide`,
    };
  }
  return {
    kind: 'paper',
    paper: {
      origin,
      heading: true,
      election: null,
      reference: text(PDF_FIELDS.reference),
      council: text(PDF_FIELDS.council),
      boxes,
      name: text(PDF_FIELDS.name),
      position: text(PDF_FIELDS.position),
      date: text(PDF_FIELDS.date),
    },
  };
}

/** Annotations that are no mark a person made: form fields' widgets, links, and the pop-ups of other annotations. */
const NOT_MARKUP = new Set(['Widget', 'Link', 'Popup']);

/** Whether a widget, or the field it belongs to, holds a value (text, a choice, a ticked state). */
function holdsValue(widget: PDFDict): boolean {
  const parent = widget.lookup(PDFName.of('Parent'));
  const value = widget.lookup(PDFName.of('V')) ?? (parent instanceof PDFDict ? parent.lookup(PDFName.of('V')) : undefined);
  const state = widget.lookup(PDFName.of('AS'));
  const text = value instanceof PDFString || value instanceof PDFHexString ? value.decodeText().trim() : value instanceof PDFName ? (isOn(value.decodeText()) ? 'on' : '') : value === undefined ? '' : 'a value';
  return text !== '' || (state instanceof PDFName && isOn(state.decodeText()));
}

/** A rectangle's bottom and top (a /Rect array's y values, in either order); null when it has none. */
function yRange(dict: PDFDict): [number, number] | null {
  const r = rectOf(dict);
  return r === null ? null : [r.y0, r.y1];
}

/** An annotation's rectangle (its /Rect, corners in either order), or null when it has none. */
function rectOf(dict: PDFDict): { x0: number; y0: number; x1: number; y1: number } | null {
  const rect = dict.lookup(PDFName.of('Rect'));
  if (!(rect instanceof PDFArray) || rect.size() < 4) return null;
  const v = [0, 1, 2, 3].map((k) => rect.lookup(k)).map((n) => (n instanceof PDFNumber ? n.asNumber() : Number.NaN));
  if (v.some((n) => !Number.isFinite(n))) return null;
  return { x0: Math.min(v[0]!, v[2]!), y0: Math.min(v[1]!, v[3]!), x1: Math.max(v[0]!, v[2]!), y1: Math.max(v[1]!, v[3]!) };
}

/**
 * Marks a person put on the paper's candidate lines with a PDF viewer's markup or "fill and sign"
 * tools (a typed X, a tick stamp, a freehand cross: annotations), which the vote fields do not hold:
 * each such annotation whose height overlaps a vote field's row on the same page, by kind
 * ("FreeText ×1"). A signature drawn beside the signatory's name is not on a candidate's line and is
 * left alone.
 */
function markedOnVoteRows(doc: PDFDocument, fields: readonly PDFField[]): string[] {
  const voteWidgets = new Set<PDFDict>();
  for (const f of fields) {
    if (f.getName() === PDF_FIELDS.vote || f.getName().startsWith(PDF_FIELDS.votePrefix)) for (const w of f.acroField.getWidgets()) voteWidgets.add(w.dict);
  }
  const kinds = new Map<string, number>();
  for (const page of doc.getPages()) {
    const annots = page.node.Annots();
    const all: PDFDict[] = [];
    for (let i = 0; i < (annots?.size() ?? 0); i++) {
      const a = annots!.lookup(i);
      if (a instanceof PDFDict) all.push(a);
    }
    // A row is a vote widget's height on this page, and half of it again above and below: a mark beside the box.
    const rows = all.filter((a) => voteWidgets.has(a)).flatMap((w) => {
      const r = yRange(w);
      return r ? [[r[0] - (r[1] - r[0]) / 2, r[1] + (r[1] - r[0]) / 2] as const] : [];
    });
    if (rows.length === 0) continue;
    for (const a of all) {
      const sub = a.lookup(PDFName.of('Subtype'));
      let kind = sub instanceof PDFName ? sub.decodeText() : '(no subtype)';
      // Another form field's box on a candidate's line that holds something (text typed in it, a
      // box ticked) shows a mark the vote fields do not hold, as a typed X does.
      if (kind === 'Widget' && !voteWidgets.has(a) && holdsValue(a)) kind = 'a form field not of the paper';
      else if (NOT_MARKUP.has(kind)) continue;
      const r = yRange(a);
      // One with no rectangle cannot be placed: it may be anywhere.
      if (r === null || rows.some(([lo, hi]) => r[0] <= hi && r[1] >= lo)) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
  }
  return [...kinds].map(([kind, n]) => `${kind} ×${n}`);
}

/**
 * The widgets (and other annotations) a viewer shows: on a page (in its /Annots), neither hidden nor
 * set not to be viewed (/F bits 2 and 6), on no optional content layer (/OC, which a viewer may show
 * or not), at least a point wide and high, and on the page's visible area (its crop box).
 */
function shownWidgets(doc: PDFDocument): Set<PDFDict> {
  const shown = new Set<PDFDict>();
  for (const page of doc.getPages()) {
    const box = page.getCropBox();
    const annots = page.node.Annots();
    for (let i = 0; i < (annots?.size() ?? 0); i++) {
      const a = annots!.lookup(i);
      if (!(a instanceof PDFDict)) continue;
      const flags = a.lookup(PDFName.of('F'));
      if (flags instanceof PDFNumber && (flags.asNumber() & (2 | 32)) !== 0) continue;
      if (a.has(PDFName.of('OC'))) continue;
      const r = rectOf(a);
      if (r === null) continue;
      const { x0, y0, x1, y1 } = r;
      if (x1 - x0 < 1 || y1 - y0 < 1) continue;
      if (x1 <= box.x || x0 >= box.x + box.width || y1 <= box.y || y0 >= box.y + box.height) continue;
      shown.add(a);
    }
  }
  return shown;
}

/**
 * Whether a widget looks the same ticked as unticked: its normal appearance for its on-state and
 * for Off are the same drawing, so what a viewer shows says nothing of what the field holds.
 */
function looksAlike(widget: PDFDict): boolean {
  const ap = widget.lookup(PDFName.of('AP'));
  const normal = ap instanceof PDFDict ? ap.lookup(PDFName.of('N')) : undefined;
  if (!(normal instanceof PDFDict)) return false;
  const drawings = new Map<string, string>();
  for (const [state, ref] of normal.entries()) {
    const stream = normal.context.lookup(ref);
    if (stream instanceof PDFRawStream) drawings.set(state.decodeText(), Buffer.from(decodePDFRawStream(stream).decode()).toString('latin1'));
  }
  const off = drawings.get('Off');
  return off !== undefined && [...drawings].some(([state, drawing]) => state !== 'Off' && drawing === off);
}

/** How a vote field's box reads when its widgets do not show what it holds (a mark readMark reads as uncertain). */
const NOT_SHOWN = 'ticked in a box the viewer does not show';
const DISAGREE = 'its boxes show it ticked and unticked';
const ALIKE = 'its ticked and unticked boxes look alike';

/**
 * The vote fields as box lines: the radio group's options, then the per-candidate checkboxes. A
 * box reads as it is shown: ticked in a widget no viewer shows (`shown` lacks it), shown ticked
 * in one widget and not in another, or drawn alike ticked and unticked, it cannot be read with
 * certainty.
 */
function voteBoxes(fields: readonly PDFField[], byName: ReadonlyMap<string, PDFField>, shown: ReadonlySet<PDFDict>): BoxLine[] {
  const boxes: BoxLine[] = [];
  const radio = byName.get(PDF_FIELDS.vote);
  if (radio instanceof PDFRadioGroup) {
    // Options are the export values (/Opt) when the form has them, else the widgets' on-states; a
    // filler may store either (or, like older pypdf, the export value as text), so both are read.
    const acro = radio.acroField;
    const options = radio.getOptions();
    const onValues = acro.getOnValues().map((n) => n.decodeText());
    const value = stateOf(acro.dict.get(PDFName.of('V')));
    let valueIndex = value === undefined || !isOn(value) ? -1 : onValues.indexOf(value);
    if (valueIndex < 0 && value !== undefined && isOn(value)) valueIndex = options.indexOf(value);
    const valueUnknown = value !== undefined && isOn(value) && valueIndex < 0;
    const appearing = new Set<number>();
    const widgets = acro.getWidgets();
    widgets.forEach((w, i) => {
      const as = w.getAppearanceState()?.decodeText();
      if (isOn(as)) appearing.add(as !== undefined && onValues.includes(as) ? onValues.indexOf(as) : i);
    });
    options.forEach((option, i) => {
      const valueOn = valueIndex === i;
      const appearanceOn = appearing.has(i);
      // Value and appearance agree, or one is unset: read what is there. They disagree: uncertain.
      const conflict = (valueIndex >= 0 && appearing.size > 0 && valueOn !== appearanceOn) || valueUnknown;
      const widget = widgets[i];
      const unseen = (valueOn || appearanceOn) && (widget === undefined || !shown.has(widget.dict));
      const mark = conflict ? `value ${value ?? '?'} and appearance disagree` : unseen ? NOT_SHOWN : widget !== undefined && looksAlike(widget.dict) ? ALIKE : valueOn || appearanceOn ? 'X' : '';
      boxes.push({ text: option, candidateId: option, continuation: null, mark, line: i + 1 });
    });
  }
  for (const f of fields) {
    const name = f.getName();
    if (!name.startsWith(PDF_FIELDS.votePrefix) || !(f instanceof PDFCheckBox)) continue;
    const id = name.slice(PDF_FIELDS.votePrefix.length);
    const value = stateOf(f.acroField.dict.get(PDFName.of('V')));
    const valueOn = isOn(value);
    const widgets = f.acroField.getWidgets();
    const appearance = widgets.some((w) => isOn(w.getAppearanceState()?.decodeText()));
    const conflict = value !== undefined && valueOn !== appearance && widgets.some((w) => w.getAppearanceState() !== undefined);
    const visible = widgets.filter((w) => shown.has(w.dict));
    const unseen = (valueOn || appearance) && widgets.some((w) => !shown.has(w.dict));
    const disagree = new Set(visible.map((w) => isOn(w.getAppearanceState()?.decodeText()))).size > 1;
    const mark = conflict ? 'value and appearance disagree' : unseen ? NOT_SHOWN : disagree ? DISAGREE : widgets.some((w) => looksAlike(w.dict)) ? ALIKE : valueOn || appearance ? 'X' : '';
    boxes.push({ text: id, candidateId: id, continuation: null, mark, line: boxes.length + 1 });
  }
  return boxes;
}
