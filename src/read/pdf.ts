import { PDFCheckBox, PDFDocument, PDFRadioGroup, PDFTextField, type PDFField } from 'pdf-lib';
import type { BoxLine, RawPaper } from './paper.js';

/** Field names of the form `papers` issues (kept in step with src/issue/paper-pdf.ts). */
const VOTE = 'vote';
const VOTE_PREFIX = 'vote.';

export type PdfReading =
  | { kind: 'paper'; paper: RawPaper }
  /** Readable, but nothing a machine can count: flattened, scanned, or not our form. The officer looks. */
  | { kind: 'not-machine-readable'; why: string }
  /** Cannot be parsed at all: malformed, or over the size limit. */
  | { kind: 'unreadable'; why: string };

const isOn = (state: string | undefined): boolean => state !== undefined && state !== '' && state.toLowerCase() !== 'off';

/**
 * Reads the issued, fillable PDF paper after another program filled it in: the radio group (one
 * vacancy) or checkboxes, the signatory's text fields, and the printed council and reference. A
 * tick that shows (appearance state on) though the value was left unset counts as shown; a value
 * that the appearance contradicts is reported as a mark that cannot be read with certainty.
 */
export async function readPdfPaper(bytes: Uint8Array, origin: string, maxBytes: number): Promise<PdfReading> {
  if (bytes.length > maxBytes) return { kind: 'unreadable', why: `PDF of ${bytes.length} bytes is over the ${maxBytes}-byte limit` };
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, { updateMetadata: false, throwOnInvalidObject: false });
  } catch (e) {
    const msg = (e as Error).message;
    if (/encrypt/i.test(msg)) return { kind: 'not-machine-readable', why: 'the PDF is encrypted, so its fields cannot be read by machine' };
    return { kind: 'unreadable', why: `the PDF cannot be parsed: ${msg.slice(0, 200)}` };
  }
  let fields: PDFField[];
  try {
    fields = doc.getForm().getFields();
  } catch (e) {
    return { kind: 'unreadable', why: `the PDF's form cannot be read: ${(e as Error).message.slice(0, 200)}` };
  }
  if (fields.length === 0) return { kind: 'not-machine-readable', why: 'the PDF has no form fields (flattened, printed and scanned, or not the issued paper)' };
  const byName = new Map(fields.map((f) => [f.getName(), f]));
  const text = (name: string): string | null => {
    const f = byName.get(name);
    if (!(f instanceof PDFTextField)) return null;
    try {
      const v = f.getText()?.trim();
      return v ? v : null;
    } catch {
      return null;
    }
  };
  const boxes: BoxLine[] = [];
  const radio = byName.get(VOTE);
  if (radio instanceof PDFRadioGroup) {
    const options = radio.getOptions();
    let value: string | undefined;
    try {
      value = radio.getSelected();
    } catch {
      value = undefined;
    }
    const shown = new Set<string>();
    radio.acroField.getWidgets().forEach((w, i) => {
      if (isOn(w.getAppearanceState()?.decodeText())) shown.add(options[i] ?? `option ${i + 1}`);
    });
    options.forEach((option, i) => {
      const valueOn = value === option;
      const appearanceOn = shown.has(option);
      // Value and appearance agree, or one is unset: read what is there. They disagree: uncertain.
      const conflict = value !== undefined && shown.size > 0 && valueOn !== appearanceOn;
      boxes.push({ text: option, candidateId: option, continuation: null, mark: conflict ? 'value and appearance disagree' : valueOn || appearanceOn ? 'X' : '', line: i + 1 });
    });
  }
  for (const f of fields) {
    const name = f.getName();
    if (!name.startsWith(VOTE_PREFIX) || !(f instanceof PDFCheckBox)) continue;
    const id = name.slice(VOTE_PREFIX.length);
    let value = false;
    try {
      value = f.isChecked();
    } catch {
      value = false;
    }
    const appearance = f.acroField.getWidgets().some((w) => isOn(w.getAppearanceState()?.decodeText()));
    const hasValue = f.acroField.getValue().decodeText().toLowerCase() !== 'off';
    const conflict = hasValue && value !== appearance;
    boxes.push({ text: id, candidateId: id, continuation: null, mark: conflict ? 'value and appearance disagree' : value || appearance ? 'X' : '', line: boxes.length + 1 });
  }
  if (boxes.length === 0) return { kind: 'not-machine-readable', why: 'the PDF has form fields, but not the vote fields of the issued paper' };
  return {
    kind: 'paper',
    paper: {
      origin,
      heading: true,
      election: null,
      reference: text('reference'),
      council: text('council'),
      boxes,
      name: text('name'),
      position: text('position'),
      date: text('date'),
    },
  };
}
