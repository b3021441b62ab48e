import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib/dist/pdf-lib.esm.min.js';
import type { Election } from '../inputs/election.js';
import type { Council } from '../inputs/roster.js';
import { PDF_FIELDS } from '../model/paper-form.js';

/** Text the standard PDF fonts (WinAnsi) can draw: accents kept where they exist, others spelt plainly. */
function winAnsi(font: PDFFont, s: string): string {
  let out = '';
  for (const ch of s) {
    try {
      font.encodeText(ch);
      out += ch;
    } catch {
      const plain = ch.normalize('NFKD').replace(/\p{M}/gu, '');
      out += /^[\x20-\x7E]+$/.test(plain) ? plain : '?';
    }
  }
  return out;
}

/**
 * The fillable ballot paper for one council: the election, council and reference printed (and in
 * read-only fields), a radio group for one vacancy or a checkbox per candidate for several, and text
 * fields for the signatory. Byte-identical for the same inputs (fixed dates, no random ids).
 */
export async function paperPdf(election: Election, council: Council, reference: string, issuedAt: Date): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.setTitle(`CCIN ballot paper: ${election.title}`);
  doc.setSubject(`${council.name} ${reference}`);
  doc.setProducer('ccin-tally');
  doc.setCreator('ccin-tally papers');
  doc.setCreationDate(issuedAt);
  doc.setModificationDate(issuedAt);
  const page: PDFPage = doc.addPage([595.28, 841.89]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const form = doc.getForm();
  const left = 56;
  let y = 780;
  const text = (s: string, size = 11, f: PDFFont = font): void => {
    page.drawText(winAnsi(f, s), { x: left, y, size, font: f, color: rgb(0, 0, 0) });
  };
  text('CCIN BALLOT PAPER', 18, bold);
  y -= 28;
  text(`Election: ${election.title}`);
  y -= 18;
  text(`Ballot reference: ${reference}`);
  y -= 18;
  text(`Council: ${council.name}`);
  y -= 30;
  text(election.vacancies === 1 ? 'Vote for ONE candidate only. Put a cross (X) in the box next to your choice.' : `Vote for up to ${election.vacancies} candidates. Put a cross (X) in the box next to each choice.`);
  y -= 34;
  const radio = election.vacancies === 1 ? form.createRadioGroup(PDF_FIELDS.vote) : null;
  for (const c of election.candidates) {
    const box = { x: left, y: y - 4, width: 16, height: 16, borderWidth: 1, borderColor: rgb(0, 0, 0) };
    if (radio) radio.addOptionToPage(c.id, page, box);
    else form.createCheckBox(PDF_FIELDS.voteFor(c.id)).addToPage(page, box);
    page.drawText(winAnsi(font, `${c.name}${c.council ? ` (${c.council})` : ''}`), { x: left + 26, y, size: 12, font });
    y -= 30;
  }
  y -= 16;
  text('Signed off by the Council Leader or Mayor', 12, bold);
  y -= 30;
  for (const [label, name] of [['Name:', PDF_FIELDS.name], ['Position:', PDF_FIELDS.position], ['Date:', PDF_FIELDS.date]] as const) {
    text(label);
    form.createTextField(name).addToPage(page, { x: left + 70, y: y - 6, width: 330, height: 20, borderWidth: 1, borderColor: rgb(0, 0, 0) });
    y -= 32;
  }
  // The council and reference again, as read-only fields, so a filled-in form says whose it is.
  for (const [name, value] of [[PDF_FIELDS.council, council.name], [PDF_FIELDS.reference, reference]] as const) {
    const f = form.createTextField(name);
    f.setText(winAnsi(font, value));
    f.enableReadOnly();
    f.addToPage(page, { x: left, y: 40 + (name === PDF_FIELDS.council ? 20 : 0), width: 300, height: 14, borderWidth: 0 });
  }
  form.updateFieldAppearances(font);
  return doc.save({ useObjectStreams: false });
}
