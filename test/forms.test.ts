import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDocxPapers } from '../src/read/docx.js';
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { MAX_PDF_DECODED_BYTES, readPdfPaper } from '../src/read/pdf.js';
import { DEFAULT_READ_LIMITS, readMessage } from '../src/read/message.js';
import { ballotReference } from '../src/issue/references.js';
import type { ResultModel } from '../src/model/result.js';
import type { PDFDict as PdfDict, PDFDocument as PdfDocument } from 'pdf-lib';
import { ELECTION, KEYS, ROOT, ROSTER, paperText, eml, run, tempDir } from './helpers.js';

const DIR = join(ROOT, 'fixtures', 'forms');
const SECRET = join(DIR, 'secret.txt');
const ISSUED = join(DIR, 'issued', 'issued.csv');

async function tallyJson(paths: string[], extra: string[] = [], dkim: 'off' | 'require' = 'off'): Promise<ResultModel> {
  const t = tempDir();
  try {
    const e = JSON.parse(readFileSync(ELECTION, 'utf8'));
    const election = join(t.dir, 'election.json');
    writeFileSync(election, JSON.stringify({ ...e, dkim }));
    const out = join(t.dir, 'r.json');
    await run(['tally', ...paths, '--election', election, '--roster', ROSTER, '--json', out, ...extra]);
    return JSON.parse(readFileSync(out, 'utf8')) as ResultModel;
  } finally {
    t.cleanup();
  }
}

/** The count of one message, as m.eml in a folder of its own. */
async function tallyMessage(bytes: Buffer): Promise<ResultModel> {
  const t = tempDir();
  try {
    writeFileSync(join(t.dir, 'm.eml'), bytes);
    return await tallyJson([t.dir]);
  } finally {
    t.cleanup();
  }
}

const outcome = (r: ResultModel): Record<string, string> =>
  Object.fromEntries(r.messages.map((m) => [m.source.file.split('/').pop() ?? '', `${m.disposition}${m.reason ? `: ${m.reason}` : ''}${m.choices.length ? ` ${m.choices.join('+')}` : ''}`]));

describe('papers', () => {
  it('issues a text and a fillable PDF paper per eligible council and issued.csv, byte-identical for the same secret', async () => {
    const t = tempDir();
    try {
      const a = join(t.dir, 'a');
      const b = join(t.dir, 'b');
      expect((await run(['papers', '--election', ELECTION, '--roster', ROSTER, '--out', a, '--secret-file', SECRET])).code).toBe(0);
      expect((await run(['papers', '--election', ELECTION, '--roster', ROSTER, '--out', b], { CCIN_TALLY_SECRET: readFileSync(SECRET, 'utf8') })).code).toBe(0);
      const files = readdirSync(a).sort();
      expect(files.filter((f) => f.endsWith('.pdf'))).toHaveLength(43);
      expect(files.filter((f) => f.endsWith('.txt'))).toHaveLength(43);
      for (const f of files) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
      const secret = readFileSync(SECRET, 'utf8').trim();
      for (const f of files) expect(readFileSync(join(a, f), 'latin1').includes(secret), f).toBe(false);
      const issued = readFileSync(join(a, 'issued.csv'), 'utf8').split('\n');
      expect(issued[0]).toBe('council_id,council,reference,text_file,text_sha256,pdf_file,pdf_sha256');
      const ref = ballotReference(Buffer.from(secret), 'ccin-vpb-2024', 'north-herts');
      expect(ref).toMatch(/^CCIN-VPB-2024-[0-9A-HJKMNP-TV-Z]{8}$/);
      expect(issued[1]).toContain(`north-herts,North Hertfordshire District Council,${ref},north-herts.txt,`);
      expect(readFileSync(join(a, 'north-herts.txt'), 'utf8')).toContain(`Ballot reference: ${ref}`);
      // The issued PDF reads back as a paper with its council and reference and nothing marked.
      const pdf = await readPdfPaper(readFileSync(join(a, 'north-herts.pdf')), 'x', 1 << 24);
      expect(pdf.kind === 'paper' && [pdf.paper.council, pdf.paper.reference, pdf.paper.boxes.map((x) => x.mark).join('')]).toEqual(['North Hertfordshire District Council', ref, '']);
      // The committed issued papers are the ones this secret gives.
      expect(readFileSync(join(a, 'issued.csv')).equals(readFileSync(ISSUED))).toBe(true);
    } finally {
      t.cleanup();
    }
  });
  it('needs a secret of at least 16 characters, and says so (exit 2)', async () => {
    const t = tempDir();
    try {
      const none = await run(['papers', '--election', ELECTION, '--roster', ROSTER, '--out', t.dir]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/needs a secret/);
      expect((await run(['papers', '--election', ELECTION, '--roster', ROSTER, '--out', t.dir], { CCIN_TALLY_SECRET: 'short' })).code).toBe(2);
    } finally {
      t.cleanup();
    }
  });
});

describe('--issued and wrong-reference', () => {
  it("rejects a paper carrying another council's reference; a paper without the line still reads", async () => {
    const t = tempDir();
    try {
      const issued = readFileSync(ISSUED, 'utf8');
      const ref = (id: string) => issued.split('\n').find((l) => l.startsWith(`${id},`))?.split(',')[2] ?? '';
      const withRef = (r: string) => paperText({ williams: 'X' }).replace('CCIN-VPB-2024-7KQ2M9XD', r);
      writeFileSync(join(t.dir, 'own.eml'), eml({ body: withRef(ref('north-herts')), messageId: '<own@x>' }));
      writeFileSync(join(t.dir, 'other.eml'), eml({ body: withRef(ref('westminster').toLowerCase()), messageId: '<other@x>', date: 'Wed, 31 Jan 2024 10:00:01 +0000' }));
      writeFileSync(join(t.dir, 'none.eml'), eml({ body: paperText({ alty: 'X' }).replace(/Ballot reference:.*\n/, ''), messageId: '<none@x>' }));
      const r = await tallyJson([t.dir], ['--issued', ISSUED]);
      const by = new Map(r.messages.map((m) => [m.messageId, m]));
      expect(by.get('<other@x>')?.reason).toBe('wrong-reference');
      expect(by.get('<other@x>')?.evidence.findings.find((f) => f.code === 'wrong-reference')?.detail).toMatch(/the reference issued to westminster/);
      expect(by.get('<own@x>')?.disposition).toMatch(/counted|superseded/);
      expect(by.get('<none@x>')?.disposition).toMatch(/counted|superseded/);
      expect(r.inputs.issued).toMatchObject({ file: 'issued.csv', councils: 43 });
    } finally {
      t.cleanup();
    }
  });
});

describe('papers in every form councils return them', () => {
  it('reads filled PDFs, Word papers, scans and broken files as the spec prescribes', async () => {
    const r = await tallyJson([join(DIR, 'messages')], ['--issued', ISSUED]);
    expect(outcome(r)).toEqual({
      'filled-radio-pdf.eml': 'superseded williams', // the same council's later body+PDF message counts
      'filled-by-pypdf-pdf.eml': 'counted williams',
      'appearance-only-pdf.eml': 'counted alty',
      'conflicting-pdf.eml': 'rejected: void-for-uncertainty',
      'flattened-pdf.eml': 'needs-adjudication: unreadable-attachment',
      'encrypted-pdf.eml': 'needs-adjudication: unreadable-attachment',
      'scanned-pdf.eml': 'needs-adjudication: unreadable-attachment',
      'malformed-pdf.eml': 'rejected: unreadable',
      'typed-docx.eml': 'counted alty',
      'checkbox-controls-docx.eml': 'counted williams',
      // Word shows Williams ticked (the glyphs) while the boxes' states say Alty: nobody can say which the council meant.
      'checkbox-glyphs-differ-docx.eml': 'rejected: void-for-uncertainty',
      // The vote left unset and an X typed over Alty's box: the officer opens it.
      'annotated-pdf.eml': 'needs-adjudication: unreadable-attachment',
      // An X in a text box placed over Alty's empty box: the officer opens it.
      'text-box-mark-docx.eml': 'needs-adjudication: unreadable-attachment',
      // Word shows Alty marked; hidden text puts an X in Williams's box and hides Alty's line from a reader of every run.
      'hidden-text-docx.eml': 'needs-adjudication: unreadable-attachment',
      'checkbox-legacy-docx.eml': 'counted willoughby',
      'bomb-docx.eml': 'rejected: unreadable',
      'body-and-pdf-agree.eml': 'counted williams',
      'body-and-pdf-disagree.eml': 'rejected: void-for-uncertainty',
    });
    const scan = r.messages.find((m) => m.source.file.endsWith('scanned-pdf.eml'));
    expect(scan?.evidence.findings.find((f) => f.code === 'unreadable-attachment')?.detail).toMatch(/scanned\.pdf \(application\/pdf, sha256 [0-9a-f]{64}\): the PDF has no form fields/);
    const bomb = r.messages.find((m) => m.source.file.endsWith('bomb-docx.eml'));
    expect(bomb?.council).toBe('leeds');
    expect(bomb?.evidence.findings[0]?.detail).toMatch(/would inflate to 200000\d+ bytes, over the/);
  });
  it('the officer decides a scan with the adjudications file', async () => {
    const t = tempDir();
    try {
      const adj = join(t.dir, 'adj.csv');
      writeFileSync(adj, 'message,decision,choices,reason\n<forms-scanned.pdf@plymouth.gov.uk>,count,williams,"Scan opened: cross beside Williams, signed by the Leader"\n');
      const r = await tallyJson([join(DIR, 'messages', 'scanned-pdf.eml')], ['--adjudications', adj]);
      expect(r.messages[0]).toMatchObject({ disposition: 'counted', choices: ['williams'], adjudication: { automatic: { reason: 'unreadable-attachment' }, decision: 'count' } });
    } finally {
      t.cleanup();
    }
  });
  it('a PDF over the size limit is refused unread', async () => {
    const r = await readPdfPaper(readFileSync(join(DIR, 'files', 'filled-radio.pdf')), 'x', 1000);
    expect(r).toMatchObject({ kind: 'unreadable', why: expect.stringMatching(/over the 1000-byte limit/) });
  });
  it('a zip that understates what it inflates to is cut off at the size it declares, never inflated in full', () => {
    const r = readDocxPapers(readFileSync(join(DIR, 'files', 'lying-size.docx')), 'x', 5 * 1024 * 1024);
    expect(r.kind).toBe('unreadable');
  });
  it('a Word document nested deeper than Word nests is unreadable before it is walked, so alike on every thread', () => {
    // Content controls inside content controls, each with its own id so that the zip is not refused as a bomb first.
    const id = (i: number): string => createHash('sha256').update(String(i)).digest('hex').slice(0, 16);
    const depth = (n: number): Uint8Array => {
      const open = Array.from({ length: n }, (_, i) => `<w:sdt w:id="${id(i)}"><w:sdtContent>`).join('');
      const xml = `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${open}<w:p><w:r><w:t>[X] Cllr Jacky Alty</w:t></w:r></w:p>${'</w:sdtContent></w:sdt>'.repeat(n)}</w:body></w:document>`;
      return zipSync({ '[Content_Types].xml': strToU8('<Types/>'), 'word/document.xml': strToU8(xml) });
    };
    // 20,000 deep overflowed the reader's stack (a thread's stack is not the main thread's: where it overflows differs).
    expect(readDocxPapers(depth(20_000), 'x', 5 << 20)).toEqual({ kind: 'unreadable', why: 'word/document.xml nests elements more than 256 deep' });
    expect(readDocxPapers(depth(120), 'x', 5 << 20)).toMatchObject({ kind: 'papers', papers: [{ boxes: [{ mark: 'X', text: 'Cllr Jacky Alty' }] }] });
  });
  it("a message's Word documents share one limit: past what the first left, the next is unreadable", async () => {
    // 2 MiB of paragraphs that do not compress like a bomb (each with its own digest).
    const paragraphs = Array.from({ length: 26_000 }, (_, i) => `<w:p><w:r><w:t>${createHash('sha256').update(String(i)).digest('hex')}</w:t></w:r></w:p>`).join('');
    const xml = `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${paragraphs}</w:body></w:document>`;
    const file = Buffer.from(zipSync({ '[Content_Types].xml': strToU8('<Types/>'), 'word/document.xml': strToU8(xml) })).toString('base64').replace(/.{76}/g, '$&\r\n');
    const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    const parts = [1, 2, 3].flatMap((i) => ['--b', `Content-Type: ${docx}`, `Content-Disposition: attachment; filename="notes-${i}.docx"`, 'Content-Transfer-Encoding: base64', '', file]);
    const bytes = eml({ body: ['--b', 'Content-Type: text/plain; charset=utf-8', '', paperText({ alty: 'X' }), ...parts, '--b--', ''].join('\r\n'), contentType: 'multipart/mixed; boundary="b"' });
    const facts = await readMessage({ source: { file: 'm.eml', kind: 'eml', index: null, line: null }, bytes, size: bytes.length, sha256: '', oversize: false }, { receivedBy: null, limits: DEFAULT_READ_LIMITS });
    expect(xml.length).toBeGreaterThan(DEFAULT_READ_LIMITS.maxDocxXmlBytes / 3);
    expect(facts.attachments.map((a) => a.handling)).toEqual(['read-as-docx', 'read-as-docx', 'unreadable']);
    expect(facts.attachments[2]?.note).toMatch(/^the Word file cannot be read: word\/document\.xml would inflate to \d+ bytes, over the \d+ bytes left of the 5242880-byte limit on the Word documents of one message together$/);
    expect(facts.papers.map((p) => p.origin)).toEqual(['body-text']);
  });
  it('a Word file that is not a zip, or has no document, is unreadable', () => {
    expect(readDocxPapers(Buffer.from('not a zip'), 'x', 1 << 20).kind).toBe('unreadable');
    expect(readDocxPapers(readFileSync(join(DIR, 'files', 'typed.docx')), 'x', 100)).toMatchObject({ kind: 'unreadable' });
  });
});

describe('Outlook .msg (written by @tutao/oxmsg)', () => {
  it('reads transport headers, body and attachments, and says DKIM cannot be re-verified', async () => {
    const r = await tallyJson([join(DIR, 'msg')], ['--keys', KEYS], 'require');
    expect(outcome(r)).toEqual({
      'body-paper.msg': 'counted williams', // authenticated by the ballot server's own Authentication-Results
      'pdf-attached.msg': 'rejected: unauthenticated',
    });
    const m = r.messages.find((x) => x.source.file.endsWith('body-paper.msg'));
    expect(m?.receivedAtSource).toBe('received');
    expect(m?.evidence.authentication.decidedBy).toBe('trusted-header');
    expect(m?.evidence.findings.map((f) => f.detail).join('\n')).toMatch(/cannot be re-verified/);
    const prefer = await tallyJson([join(DIR, 'msg')], [], 'off');
    expect(outcome(prefer)['pdf-attached.msg']).toBe('counted williams');
  });
});

/** The PDF `papers` issues for the example election with two vacancies: a checkbox per candidate. */
async function issuedForTwo(): Promise<Uint8Array> {
  const { parseElection } = await import('../src/inputs/election.js');
  const { parseRoster } = await import('../src/inputs/roster.js');
  const { paperPdf } = await import('../src/issue/paper-pdf.js');
  const load = (p: string) => ({ name: p, path: p, bytes: readFileSync(p), sha256: '' });
  const election = { ...parseElection(load(ELECTION)), vacancies: 2 };
  const council = parseRoster(load(ROSTER)).councils[0]!;
  return paperPdf(election, council, 'CCIN-VPB-2024-TESTTEST', new Date('2024-01-18T09:00:00Z'));
}

describe('the issued PDF for several vacancies', () => {
  it('has a checkbox per candidate, read back for what is ticked (value or appearance)', async () => {
    const { PDFDocument, PDFName } = await import('pdf-lib');
    // Filled as a viewer would: one box by value, one by appearance only.
    const doc = await PDFDocument.load(await issuedForTwo());
    const form = doc.getForm();
    expect(form.getFields().map((f) => f.getName()).filter((n) => n.startsWith('vote.'))).toEqual(['vote.willoughby', 'vote.williams', 'vote.alty']);
    form.getCheckBox('vote.willoughby').check();
    form.getCheckBox('vote.alty').acroField.getWidgets()[0]!.setAppearanceState(PDFName.of('Yes'));
    const r = await readPdfPaper(await doc.save(), 'attachment:x.pdf', 1 << 24);
    expect(r.kind === 'paper' && r.paper.boxes.map((b) => [b.candidateId, b.mark])).toEqual([
      ['willoughby', 'X'],
      ['williams', ''],
      ['alty', 'X'],
    ]);
  });
});

describe('a filled PDF whose boxes a viewer does not show as the fields hold them', () => {
  it('a vote ticked in a widget hidden, set not to be viewed, on a layer, off the page, too small or on no page, or drawn alike ticked and unticked, cannot be read with certainty', async () => {
    const { PDFDocument, PDFName, PDFDict } = await import('pdf-lib');
    const bytes = readFileSync(join(DIR, 'files', 'filled-radio.pdf'));
    const marks = async (change: (widget: PdfDict, doc: PdfDocument) => void): Promise<string[] | string> => {
      const doc = await PDFDocument.load(bytes);
      const vote = doc.getForm().getRadioGroup('vote');
      change(vote.acroField.getWidgets()[1]!.dict, doc);
      const r = await readPdfPaper(await doc.save({ updateFieldAppearances: false }), 'x', 1 << 24);
      return r.kind === 'paper' ? r.paper.boxes.map((b) => b.mark) : r.kind;
    };
    expect(await marks(() => undefined)).toEqual(['', 'X', '']);
    const unsure = ['', 'ticked in a box the viewer does not show', ''];
    expect(await marks((w) => w.set(PDFName.of('F'), w.context.obj(4 | 2)))).toEqual(unsure);
    expect(await marks((w) => w.set(PDFName.of('F'), w.context.obj(4 | 32)))).toEqual(unsure);
    expect(await marks((w) => w.set(PDFName.of('OC'), w.context.obj({ Type: 'OCG', Name: 'layer' })))).toEqual(unsure);
    expect(await marks((w) => w.set(PDFName.of('Rect'), w.context.obj([2000, 2000, 2012, 2012])))).toEqual(unsure);
    expect(await marks((w) => w.set(PDFName.of('Rect'), w.context.obj([100, 100, 100.5, 100.5])))).toEqual(unsure);
    expect(
      await marks((w, doc) => {
        const annots = doc.getPages()[0]!.node.Annots()!;
        const at = [...Array(annots.size()).keys()].find((i) => annots.lookup(i) === w)!;
        annots.remove(at);
      }),
    ).toEqual(unsure);
    expect(
      await marks((w) => {
        const normal = w.lookup(PDFName.of('AP'), PDFDict).lookup(PDFName.of('N'), PDFDict);
        normal.set(PDFName.of('1'), normal.get(PDFName.of('Off'))!);
      }),
    ).toEqual(['', 'its ticked and unticked boxes look alike', '']);
    // A hidden widget of a box not ticked changes nothing.
    expect(
      await marks((_w, doc) => {
        const other = doc.getForm().getRadioGroup('vote').acroField.getWidgets()[0]!.dict;
        other.set(PDFName.of('F'), other.context.obj(2));
      }),
    ).toEqual(['', 'X', '']);
  });
  it("the signatory's name in a field whose box no viewer shows is no name: the paper has no sign-off to read", async () => {
    const { PDFDocument, PDFName } = await import('pdf-lib');
    const bytes = readFileSync(join(DIR, 'files', 'filled-radio.pdf'));
    const before = await readPdfPaper(bytes, 'x', 1 << 24);
    expect(before.kind === 'paper' && before.paper.name).toBeTruthy();
    const doc = await PDFDocument.load(bytes);
    const widget = doc.getForm().getTextField('name').acroField.getWidgets()[0]!.dict;
    widget.set(PDFName.of('F'), widget.context.obj(2));
    const after = await readPdfPaper(await doc.save({ updateFieldAppearances: false }), 'x', 1 << 24);
    expect(after.kind === 'paper' && [after.paper.name, after.paper.position]).toEqual([null, before.kind === 'paper' ? before.paper.position : 'x']);
  });
  it("a form field of the sender's own on a candidate's line, holding an X, leaves the paper to the officer; an empty one, or one elsewhere, does not", async () => {
    const { PDFDocument, PDFName, PDFArray, PDFNumber } = await import('pdf-lib');
    const bytes = readFileSync(join(DIR, 'files', 'filled-radio.pdf'));
    const withField = async (text: string, row: number | null): Promise<string> => {
      const doc = await PDFDocument.load(bytes);
      const form = doc.getForm();
      const rect = form.getRadioGroup('vote').acroField.getWidgets()[2]!.dict.lookup(PDFName.of('Rect'), PDFArray);
      const y = rect.lookup(1, PDFNumber).asNumber();
      const field = form.createTextField('note');
      field.setText(text);
      field.addToPage(doc.getPages()[0]!, { x: 20, y: row === null ? 20 : y, width: 30, height: 14 });
      const r = await readPdfPaper(await doc.save(), 'x', 1 << 24);
      return r.kind === 'paper' ? r.paper.boxes.map((b) => b.mark).join('|') : `${r.kind}: ${r.why}`;
    };
    expect(await withField('X', 2)).toMatch(/^not-machine-readable: .*a form field not of the paper ×1/);
    expect(await withField('', 2)).toBe('|X|');
    expect(await withField('X', null)).toBe('|X|');
  });
  it('a checkbox (the paper for several vacancies) ticked in a hidden widget cannot be read with certainty either', async () => {
    const { PDFDocument, PDFName } = await import('pdf-lib');
    const doc = await PDFDocument.load(await issuedForTwo());
    const form = doc.getForm();
    form.getCheckBox('vote.willoughby').check();
    form.getCheckBox('vote.alty').check();
    const alty = form.getCheckBox('vote.alty').acroField.getWidgets()[0]!.dict;
    alty.set(PDFName.of('F'), alty.context.obj(2));
    const r = await readPdfPaper(await doc.save(), 'attachment:x.pdf', 1 << 24);
    expect(r.kind === 'paper' && r.paper.boxes.map((b) => b.mark)).toEqual(['X', '', 'ticked in a box the viewer does not show']);
  });
});

describe('two elections\' papers in one message', () => {
  it('the other election\'s issued PDF is set aside, and this election\'s paper beside it is read', async () => {
    const { parseElection } = await import('../src/inputs/election.js');
    const { parseRoster } = await import('../src/inputs/roster.js');
    const { paperPdf } = await import('../src/issue/paper-pdf.js');
    const { PDFDocument } = await import('pdf-lib');
    const load = (p: string) => ({ name: p, path: p, bytes: readFileSync(p), sha256: '' });
    const ours = parseElection(load(ELECTION));
    const other = { ...ours, id: 'ccin-fb-2024', title: 'Finance Board: Treasurer', candidates: [{ id: 'jones', name: 'Cllr Mary Jones', council: 'Oldham Council' }, { id: 'brown', name: 'Cllr Peter Brown', council: 'Leeds City Council' }] };
    const council = parseRoster(load(ROSTER)).councils[0]!;
    const filled = async (election: typeof ours, choice: string): Promise<Buffer> => {
      const doc = await PDFDocument.load(await paperPdf(election, council, 'CCIN-X-2024-TESTTEST', new Date('2024-01-18T09:00:00Z')));
      const form = doc.getForm();
      form.getRadioGroup('vote').select(choice);
      form.getTextField('name').setText(council.leader ?? '');
      form.getTextField('position').setText('Leader');
      return Buffer.from(await doc.save());
    };
    const part = (name: string, bytes: Buffer): string => `--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${bytes.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`;
    const message = (parts: string[]): Buffer =>
      eml({ from: `Leader <${council.emails[0] ?? `leader@${council.domains[0]}`}>`, contentType: 'multipart/mixed; boundary="b"', body: `--b\r\nContent-Type: text/plain\r\n\r\nOur two ballots attached.\r\n${parts.join('')}--b--\r\n` });
    const both = await tallyMessage(message([part('vp-board.pdf', await filled(ours, 'alty')), part('finance-board.pdf', await filled(other, 'jones'))]));
    const m = both.messages[0]!;
    expect([m.disposition, m.choices]).toEqual(['counted', ['alty']]);
    expect(m.evidence.findings.map((f) => f.detail).join('\n')).toMatch(/1 paper\(s\) of another election \(attachment:finance-board\.pdf\), naming none of this election's candidates: set aside/);
    const alone = (await tallyMessage(message([part('finance-board.pdf', await filled(other, 'jones'))]))).messages[0]!;
    expect([alone.disposition, alone.reason]).toEqual(['needs-adjudication', 'no-ballot-paper']);
  });
});

describe('broken parts are the part\'s problem, not the message\'s', () => {
  it('a PDF whose vote fields are broken objects is an unreadable attachment, and the body\'s paper is read all the same', async () => {
    const { PDFDocument, PDFName } = await import('pdf-lib');
    const doc = await PDFDocument.load(readFileSync(join(DIR, 'files', 'filled-radio.pdf')));
    // The radio group's widgets replaced by a number: pdf-lib throws reading them (found by fuzzing).
    doc.getForm().getRadioGroup('vote').acroField.dict.set(PDFName.of('Kids'), doc.context.obj([42]));
    const broken = Buffer.from(await doc.save({ updateFieldAppearances: false }));
    expect(await readPdfPaper(broken, 'attachment:ballot.pdf', 1 << 24)).toMatchObject({ kind: 'unreadable', why: expect.stringMatching(/cannot be read/) });
    const pdf = broken.toString('base64').replace(/.{76}/g, '$&\r\n');
    const body = ['--b', 'Content-Type: text/plain; charset=utf-8', '', paperText({ williams: 'X' }), '--b', 'Content-Type: application/pdf', 'Content-Disposition: attachment; filename="ballot.pdf"', 'Content-Transfer-Encoding: base64', '', pdf, '--b--', ''].join('\r\n');
    const r = await tallyMessage(eml({ body, contentType: 'multipart/mixed; boundary="b"' }));
    expect(outcome(r)['m.eml']).toBe('counted williams');
    expect(r.messages[0]?.evidence.attachments[0]).toMatchObject({ filename: 'ballot.pdf', handling: 'unreadable' });
  });
  it('a part whose Content-Type header is empty is text/plain (RFC 2045 §5.2), not a message the reader fails on', async () => {
    const body = ['--b', 'Content-Type: text/plain; charset=utf-8', '', 'Our paper is attached.', '--b', 'Content-Type:', 'Content-Disposition: attachment; filename="paper"', '', paperText({ alty: 'X' }), '--b--', ''].join('\r\n');
    const r = await tallyMessage(eml({ body, contentType: 'multipart/mixed; boundary="b"' }));
    expect(outcome(r)['m.eml']).toBe('counted alty');
    expect(r.messages[0]?.evidence.attachments[0]).toMatchObject({ contentType: 'text/plain', handling: 'read-as-text' });
  });
});

describe('marks drawn or typed on a PDF (annotations)', () => {
  it('on a candidate\'s line leave the paper to the officer; elsewhere (round the signatory\'s name) they are left alone', async () => {
    const { PDFDocument, PDFName, PDFDict } = await import('pdf-lib');
    const bytes = readFileSync(join(DIR, 'files', 'annotated.pdf'));
    expect(await readPdfPaper(bytes, 'x', 1 << 24)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/FreeText ×1/) });
    // The typed X taken away, the box round the name kept: read as its fields say (no vote).
    const doc = await PDFDocument.load(bytes);
    const annots = doc.getPages()[0]!.node.Annots()!;
    const at = [...Array(annots.size()).keys()].find((i) => annots.lookup(i, PDFDict).get(PDFName.of('Subtype'))?.toString() === '/FreeText')!;
    annots.remove(at);
    const r = await readPdfPaper(await doc.save({ updateFieldAppearances: false }), 'x', 1 << 24);
    expect(r.kind === 'paper' && r.paper.boxes.map((b) => b.mark)).toEqual(['', '', '']);
  });
});

describe('Word papers as Word shows them', () => {
  it('that leaves the paper as it is shown is passed over; that changes it leaves the paper to the officer', async () => {
    const { zipSync, strToU8 } = await import('fflate');
    const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
    const para = (...runs: [string, boolean][]): string => `<w:p>${runs.map(([t, hidden]) => `<w:r>${hidden ? '<w:rPr><w:vanish/></w:rPr>' : ''}<w:t xml:space="preserve">${t}</w:t></w:r>`).join('')}</w:p>`;
    const docx = (...paras: string[]): Uint8Array => zipSync({ 'word/document.xml': strToU8(`<w:document ${W}><w:body>${paras.join('')}</w:body></w:document>`) });
    const lines = paperText({ williams: 'X' }).split('\n');
    const plain = lines.map((l) => para([l, false]));
    // A hidden note under the signatory's name changes no box line.
    const note = readDocxPapers(docx(...plain, para(['(typed by the Leader\'s office)', true])), 'x', 1 << 20);
    expect(note.kind === 'papers' && note.papers[0]?.boxes.map((b) => b.mark)).toEqual(['', 'X', '']);
    // An X hidden in Alty's box: Word shows it empty.
    const alty = lines.findIndex((l) => l.includes('Alty'));
    const marked = plain.map((p, i) => (i === alty ? para(['[', false], ['X', true], [lines[i]!.slice(2), false]) : p));
    expect(readDocxPapers(docx(...marked), 'x', 1 << 20)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/hidden text/) });
  });
  it('a cross struck through (w:strike, written by python-docx) is read struck, as Word shows it: no certain mark, never a second vote', async () => {
    const { readPaperMarks } = await import('../src/judge/marks.js');
    const { parseElection } = await import('../src/inputs/election.js');
    const election = parseElection({ name: 'e', path: ELECTION, bytes: readFileSync(ELECTION), sha256: '' });
    const r = readDocxPapers(readFileSync(join(DIR, 'files', 'struck-mark.docx')), 'x', 1 << 22);
    expect(r.kind === 'papers' && r.papers[0]?.boxes.map((b) => b.mark)).toEqual(['', 'X\u0336', 'X']);
    const reading = r.kind === 'papers' ? readPaperMarks(r.papers[0]!, election.candidates) : null;
    expect(reading?.uncertain).toEqual([expect.stringMatching(/the mark "X\u0336" beside Cllr Jason Williams cannot be read with certainty/)]);
  });
  it('hidden or struck text set by a style (a character style based on one with the Hidden effect; a paragraph style with strike-through, written by python-docx) is read as Word shows it', () => {
    const hidden = readDocxPapers(readFileSync(join(DIR, 'files', 'hidden-by-style.docx')), 'x', 1 << 22);
    expect(hidden).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/hidden text/) });
    const struck = readDocxPapers(readFileSync(join(DIR, 'files', 'struck-by-style.docx')), 'x', 1 << 22);
    expect(struck.kind === 'papers' && struck.papers[0]?.boxes.map((b) => b.mark)).toEqual(['', '\u0336X\u0336', 'X']);
  });
  it('styles that cannot be read (not well-formed, or over 1 MiB) leave the document to the officer: what they hide cannot be told', async () => {
    const { zipSync, unzipSync, strToU8 } = await import('fflate');
    const files = unzipSync(readFileSync(join(DIR, 'files', 'typed.docx')));
    for (const styles of ['<w:styles><w:style', `<w:styles>${'<!-- padding -->'.repeat(70_000)}</w:styles>`]) {
      const r = readDocxPapers(zipSync({ ...files, 'word/styles.xml': strToU8(styles) }), 'x', 1 << 22);
      expect(r).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/^its styles \(word\/styles\.xml\) are over/) });
    }
  });
  it('ink drawn on the page leaves the paper to the officer; a drawing given for Word and for older readers is read once; given otherwise to each, it goes to the officer', async () => {
    const { zipSync, strToU8 } = await import('fflate');
    const NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"';
    const docx = (body: string): Uint8Array => zipSync({ 'word/document.xml': strToU8(`<w:document ${NS}><w:body>${body}</w:body></w:document>`) });
    const lines = paperText({}).split('\n').map((l) => `<w:p><w:r><w:t xml:space="preserve">${l}</w:t></w:r></w:p>`);
    const ink = docx([...lines, '<w:p><w:r><w:contentPart r:id="rId9" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></w:r></w:p>'].join(''));
    expect(readDocxPapers(ink, 'x', 1 << 20)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/ink ×1/) });
    const box = (line: string): string => `<w:txbxContent><w:p><w:r><w:t>${line}</w:t></w:r></w:p></w:txbxContent>`;
    const alty = lines.findIndex((l) => l.includes('Alty'));
    const drawing = (fallback: string): string => `<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps">${box('[X] Cllr Jacky Alty')}</mc:Choice><mc:Fallback>${box(fallback)}</mc:Fallback></mc:AlternateContent></w:r></w:p>`;
    const r = readDocxPapers(docx(lines.map((l, i) => (i === alty ? drawing('[X] Cllr Jacky Alty') : l)).join('')), 'x', 1 << 20);
    expect(r.kind === 'papers' && r.papers[0]?.boxes.map((b) => [b.mark, b.text])).toEqual([['', 'Cllr Alistair Willoughby (North Hertfordshire District Council)'], ['', 'Cllr Jason Williams (Westminster City Council)'], ['X', 'Cllr Jacky Alty']]);
    // A reader that does not know what mc:Choice requires shows mc:Fallback: an empty box there is another paper.
    expect(readDocxPapers(docx(lines.map((l, i) => (i === alty ? drawing('[ ] Cllr Jacky Alty') : l)).join('')), 'x', 1 << 20)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/mc:Fallback/) });
  });
});

describe('a Word paper that Word, another reader or another view shows otherwise (fixtures/forms/make-views.py)', () => {
  const read = (name: string) => readDocxPapers(readFileSync(join(DIR, 'files', name)), 'x', 1 << 22);
  const marks = (r: ReturnType<typeof readDocxPapers>) => (r.kind === 'papers' ? r.papers.map((p) => p.boxes.map((b) => b.mark)) : r);
  it('tracked changes that move the mark leave the file to the officer; an X typed with Track Changes on, and changes beside the paper, are read as made', () => {
    expect(read('tracked-move.docx')).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/tracked changes .* change its ballot paper/) });
    // Without the deletion, only the X inserted in Alty's box: Word's Simple and All Markup both show it.
    const files = unzipSync(readFileSync(join(DIR, 'files', 'tracked-move.docx')));
    const xml = new TextDecoder().decode(files['word/document.xml']);
    const inserted = xml.replace(/<w:del [^>]*>[\s\S]*?<\/w:del>/, '');
    expect(inserted).not.toBe(xml);
    expect(marks(readDocxPapers(zipSync({ ...files, 'word/document.xml': strToU8(inserted) }), 'x', 1 << 22))).toEqual([['', '', 'X']]);
    const named = read('tracked-name.docx');
    expect(marks(named)).toEqual([['', 'X', '']]);
    expect(named.kind === 'papers' && named.papers[0]?.name).toBe('Cllr Janice Armstrong');
  });
  it('a mark Word draws white, or lowered onto the next line, leaves the file to the officer', () => {
    for (const name of ['white-mark.docx', 'lowered-mark.docx']) {
      expect(read(name)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/draws where no one sees it with certainty/) });
    }
  });
  it('a candidate line in the page header is a second paper on the page: the officer decides', () => {
    expect(read('header-paper.docx')).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/^its header \(word\/header1\.xml\) holds lines of a ballot paper/) });
  });
  it('a symbol or a legacy checkbox in a hidden or white run is read as Word shows it: not there', () => {
    const files = unzipSync(readFileSync(join(DIR, 'files', 'symbol-mark.docx')));
    const xml = new TextDecoder().decode(files['word/document.xml']);
    expect(xml).toContain('<w:r><w:sym w:font="Wingdings" w:char="F0FD"/></w:r>');
    for (const [props, why] of [
      ['<w:vanish/>', /hidden text/],
      ['<w:color w:val="FFFFFF"/>', /draws where no one sees it/],
    ] as const) {
      const sym = xml.replace('<w:r><w:sym', `<w:r><w:rPr>${props}</w:rPr><w:sym`);
      expect(readDocxPapers(zipSync({ ...files, 'word/document.xml': strToU8(sym) }), 'x', 1 << 22)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(why) });
      const legacy = xml.replace('<w:r><w:sym w:font="Wingdings" w:char="F0FD"/></w:r>', `<w:r><w:rPr>${props}</w:rPr><w:fldChar w:fldCharType="begin"><w:ffData><w:checkBox><w:checked/></w:checkBox></w:ffData></w:fldChar></w:r>`);
      expect(readDocxPapers(zipSync({ ...files, 'word/document.xml': strToU8(legacy) }), 'x', 1 << 22)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(why) });
    }
  });
  it('a box marked with Insert › Symbol (Wingdings ☒) is read as marked; a symbol of another font cannot be read with certainty', async () => {
    const { readPaperMarks } = await import('../src/judge/marks.js');
    const { parseElection } = await import('../src/inputs/election.js');
    const election = parseElection({ name: 'e', path: ELECTION, bytes: readFileSync(ELECTION), sha256: '' });
    const r = read('symbol-mark.docx');
    expect(marks(r)).toEqual([['', '\uF0FD', '']]);
    expect(r.kind === 'papers' && readPaperMarks(r.papers[0]!, election.candidates)).toMatchObject({ choices: ['williams'], uncertain: [] });
    const files = unzipSync(readFileSync(join(DIR, 'files', 'symbol-mark.docx')));
    const other = new TextDecoder().decode(files['word/document.xml']).replace('w:font="Wingdings"', 'w:font="Symbol"');
    expect(marks(readDocxPapers(zipSync({ ...files, 'word/document.xml': strToU8(other) }), 'x', 1 << 22))).toEqual([['', '\uFFFD', '']]);
  });
  it('is read from the part the package names as its document, as Word opens it, never from a word/document.xml it does not name', () => {
    expect(marks(read('decoy-part.docx'))).toEqual([['', '', 'X']]);
    const files = unzipSync(readFileSync(join(DIR, 'files', 'decoy-part.docx')));
    const rels = new TextDecoder().decode(files['_rels/.rels']);
    const twice = rels.replace('</Relationships>', '<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>');
    expect(readDocxPapers(zipSync({ ...files, '_rels/.rels': strToU8(twice) }), 'x', 1 << 22)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/name more than one document/) });
    const gone = rels.replace('word/ballot.xml', 'word/missing.xml');
    expect(readDocxPapers(zipSync({ ...files, '_rels/.rels': strToU8(gone) }), 'x', 1 << 22)).toMatchObject({ kind: 'unreadable', why: 'not a Word document (no word/missing.xml)' });
  });
  it('counted as Word shows the paper, or sent to the officer, in a message as in a file', async () => {
    const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    const sent = async (name: string) => {
      const file = readFileSync(join(DIR, 'files', name)).toString('base64').replace(/.{76}/g, '$&\r\n');
      const body = ['--b', 'Content-Type: text/plain; charset=utf-8', '', 'Our ballot paper is attached.', '--b', `Content-Type: ${docx}`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '', file, '--b--', ''].join('\r\n');
      return outcome(await tallyMessage(eml({ from: 'Cllr Janice Armstrong <leader@sunderland.gov.uk>', messageId: '<paper@sunderland.gov.uk>', body, contentType: 'multipart/mixed; boundary="b"' })))['m.eml'];
    };
    expect(await sent('decoy-part.docx')).toBe('counted alty');
    expect(await sent('tracked-move.docx')).toBe('needs-adjudication: unreadable-attachment');
    expect(await sent('white-mark.docx')).toBe('needs-adjudication: unreadable-attachment');
  });
  it('a box that is a MACROBUTTON field (a template\'s "click to tick" box) reads as the display text Word shows', () => {
    expect(marks(read('button-mark.docx'))).toEqual([['', '', '☒']]);
    // Its display text untouched (☐), it is an empty box.
    const files = unzipSync(readFileSync(join(DIR, 'files', 'button-mark.docx')));
    const xml = new TextDecoder().decode(files['word/document.xml']).replace('MACROBUTTON CheckIt ☒', 'MACROBUTTON CheckIt ☐');
    expect(marks(readDocxPapers(zipSync({ ...files, 'word/document.xml': strToU8(xml) }), 'x', 1 << 22))).toEqual([['', '', '☐']]);
  });
  it('a picture of a tick pasted into a box leaves the file to the officer; a logo beside the heading does not', () => {
    expect(read('picture-mark.docx')).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/^a picture, shape or embedded object sits in the paper's box lines/) });
    expect(marks(read('picture-logo.docx'))).toEqual([['', 'X', '']]);
  });
  it('two parts whose names differ only in case are one part to a reader: which it opens cannot be told', () => {
    const files = unzipSync(readFileSync(join(DIR, 'files', 'typed.docx')));
    expect(readDocxPapers(zipSync({ ...files, 'word/Document.xml': files['word/document.xml']! }), 'x', 1 << 22)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/two parts named/) });
  });
  it('another file brought in by the document (w:altChunk) is not read: the officer decides', () => {
    const files = unzipSync(readFileSync(join(DIR, 'files', 'typed.docx')));
    const xml = new TextDecoder().decode(files['word/document.xml']).replace('<w:body>', '<w:body><w:altChunk r:id="rId99"/>');
    expect(readDocxPapers(zipSync({ ...files, 'word/document.xml': strToU8(xml) }), 'x', 1 << 22)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/w:altChunk/) });
  });
  it('reads white and moved text set by a style, in a theme colour, or measured in points, as Word draws it', () => {
    const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
    const lines = paperText({ williams: 'X' }).split('\n');
    const alty = lines.findIndex((l) => l.includes('Alty'));
    const doc = (markRun: string, styles = ''): Uint8Array =>
      zipSync({
        'word/document.xml': strToU8(`<w:document ${W}><w:body>${lines.map((l, i) => (i === alty ? `<w:p><w:r><w:t>[</w:t></w:r>${markRun}<w:r><w:t xml:space="preserve">] ${l.slice(4)}</w:t></w:r></w:p>` : `<w:p><w:r><w:t xml:space="preserve">${l}</w:t></w:r></w:p>`)).join('')}</w:body></w:document>`),
        ...(styles === '' ? {} : { 'word/styles.xml': strToU8(`<w:styles ${W}>${styles}</w:styles>`) }),
      });
    const unsure = { kind: 'not-machine-readable', why: expect.stringMatching(/draws where no one sees it/) };
    expect(readDocxPapers(doc('<w:r><w:rPr><w:color w:val="auto" w:themeColor="background1"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20)).toMatchObject(unsure);
    expect(readDocxPapers(doc('<w:r><w:rPr><w:position w:val="-9pt"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20)).toMatchObject(unsure);
    expect(readDocxPapers(doc('<w:r><w:rPr><w:sz w:val="2"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20)).toMatchObject(unsure);
    expect(readDocxPapers(doc('<w:r><w:rPr><w:rStyle w:val="Faint"/></w:rPr><w:t>X</w:t></w:r>', '<w:style w:type="character" w:styleId="Faint"><w:rPr><w:color w:val="FEFEFE"/></w:rPr></w:style>'), 'x', 1 << 20)).toMatchObject(unsure);
    // A run's own colour over a white style, and a small shift, are drawn where they are read.
    const shown = readDocxPapers(doc('<w:r><w:rPr><w:rStyle w:val="Faint"/><w:color w:val="000000"/><w:position w:val="4"/></w:rPr><w:t>X</w:t></w:r>', '<w:style w:type="character" w:styleId="Faint"><w:rPr><w:color w:val="FFFFFF"/></w:rPr></w:style>'), 'x', 1 << 20);
    expect(marks(shown)).toEqual([['', 'X', 'X']]);
    // White on a fill of its own (a shaded run, a highlight) is seen, and read.
    expect(marks(readDocxPapers(doc('<w:r><w:rPr><w:color w:val="FFFFFF"/><w:shd w:val="clear" w:color="auto" w:fill="1F3864"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20))).toEqual([['', 'X', 'X']]);
    expect(marks(readDocxPapers(doc('<w:r><w:rPr><w:color w:val="FFFFFF"/><w:highlight w:val="black"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20))).toEqual([['', 'X', 'X']]);
    expect(readDocxPapers(doc('<w:r><w:rPr><w:color w:val="FFFFFF"/><w:highlight w:val="none"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20)).toMatchObject(unsure);
    // Text in the colour of what is behind it: black on a black highlight, dark blue on dark blue shading, text1 on black.
    expect(readDocxPapers(doc('<w:r><w:rPr><w:color w:val="000000"/><w:highlight w:val="black"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20)).toMatchObject(unsure);
    expect(readDocxPapers(doc('<w:r><w:rPr><w:color w:val="1F3864"/><w:shd w:val="clear" w:color="auto" w:fill="1F3865"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20)).toMatchObject(unsure);
    expect(readDocxPapers(doc('<w:r><w:rPr><w:color w:val="auto" w:themeColor="text1"/><w:shd w:val="solid" w:color="000000"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20)).toMatchObject(unsure);
    // Automatic colour is drawn against what is behind it; a pattern's mix is not judged.
    expect(marks(readDocxPapers(doc('<w:r><w:rPr><w:color w:val="auto"/><w:highlight w:val="black"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20))).toEqual([['', 'X', 'X']]);
    expect(marks(readDocxPapers(doc('<w:r><w:rPr><w:color w:val="000000"/><w:shd w:val="pct50" w:color="000000" w:fill="FFFFFF"/></w:rPr><w:t>X</w:t></w:r>'), 'x', 1 << 20))).toEqual([['', 'X', 'X']]);
  });
  it('reads white text on a page coloured dark (w:background) as shown, and black text there as unseen', () => {
    const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
    const lines = paperText({ williams: 'X' }).split('\n');
    const alty = lines.findIndex((l) => l.includes('Alty'));
    const doc = (colour: string): Uint8Array =>
      zipSync({
        'word/document.xml': strToU8(`<w:document ${W}><w:background w:color="0A0A0A"/><w:body>${lines.map((l, i) => `<w:p><w:r><w:rPr><w:color w:val="FFFFFF"/></w:rPr><w:t xml:space="preserve">${i === alty ? '[' : l}</w:t></w:r>${i === alty ? `<w:r><w:rPr><w:color w:val="${colour}"/></w:rPr><w:t>X</w:t></w:r><w:r><w:rPr><w:color w:val="FFFFFF"/></w:rPr><w:t xml:space="preserve">] ${l.slice(4)}</w:t></w:r>` : ''}</w:p>`).join('')}</w:body></w:document>`),
      });
    expect(marks(readDocxPapers(doc('FFFFFF'), 'x', 1 << 20))).toEqual([['', 'X', 'X']]);
    expect(readDocxPapers(doc('000000'), 'x', 1 << 20)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/draws where no one sees it/) });
  });
  it('a content control bound to data kept elsewhere in the file, which Word shows in its place, leaves the file to the officer when it holds the paper', () => {
    const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
    const lines = paperText({ williams: 'X' }).split('\n');
    const alty = lines.findIndex((l) => l.includes('Alty'));
    const control = (bound: boolean, text: string): string => `<w:sdt><w:sdtPr>${bound ? '<w:dataBinding w:xpath="/ballot/alty" w:storeItemID="{00000000-0000-0000-0000-000000000001}"/>' : ''}</w:sdtPr><w:sdtContent><w:r><w:t>${text}</w:t></w:r></w:sdtContent></w:sdt>`;
    const doc = (bound: boolean, at: number, text: string): Uint8Array =>
      zipSync({ 'word/document.xml': strToU8(`<w:document ${W}><w:body>${lines.map((l, i) => `<w:p>${i === at ? control(bound, text) : `<w:r><w:t xml:space="preserve">${l}</w:t></w:r>`}</w:p>`).join('')}</w:body></w:document>`) });
    expect(readDocxPapers(doc(true, alty, lines[alty]!), 'x', 1 << 20)).toMatchObject({ kind: 'not-machine-readable', why: expect.stringMatching(/w:dataBinding/) });
    expect(marks(readDocxPapers(doc(false, alty, lines[alty]!), 'x', 1 << 20))).toEqual([['', 'X', '']]);
    // Bound to the signatory's name, beside the paper: the paper is the same whatever it shows.
    const name = lines.findIndex((l) => l.startsWith('Name:'));
    expect(marks(readDocxPapers(doc(true, name, lines[name]!), 'x', 1 << 20))).toEqual([['', 'X', '']]);
  });
});

describe('Word tables', () => {
  it('a cross in a cell merged down over two candidates\' rows (python-docx, w:vMerge) is read beside both, as Word draws it: never for the first alone', async () => {
    const { readPaperMarks } = await import('../src/judge/marks.js');
    const { parseElection } = await import('../src/inputs/election.js');
    const election = parseElection({ name: 'e', path: ELECTION, bytes: readFileSync(ELECTION), sha256: '' });
    const r = readDocxPapers(readFileSync(join(DIR, 'files', 'merged-mark.docx')), 'x', 1 << 22);
    expect(r.kind === 'papers' && r.papers[0]?.boxes.map((b) => [b.mark, b.text])).toEqual([
      ['X', 'Cllr Jason Williams (Westminster City Council)'],
      ['X', 'Cllr Jacky Alty (South Ribble Borough Council)'],
    ]);
    expect(r.kind === 'papers' && readPaperMarks(r.papers[0]!, election.candidates).choices).toEqual(['williams', 'alty']);
    // A merged cell holding more than a mark (a heading beside the rows) is read once, in its first row.
    const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
    const cell = (text: string, merge?: 'restart' | 'continue', span?: number): string =>
      `<w:tc><w:tcPr>${span ? `<w:gridSpan w:val="${span}"/>` : ''}${merge === 'restart' ? '<w:vMerge w:val="restart"/>' : merge ? '<w:vMerge/>' : ''}</w:tcPr><w:p>${text ? `<w:r><w:t>${text}</w:t></w:r>` : ''}</w:p></w:tc>`;
    const table = (rows: string[][]): Uint8Array => zipSync({ 'word/document.xml': strToU8(`<w:document ${W}><w:body><w:p><w:r><w:t>CCIN BALLOT PAPER</w:t></w:r></w:p><w:tbl>${rows.map((r) => `<w:tr>${r.join('')}</w:tr>`).join('')}</w:tbl></w:body></w:document>`) });
    const heading = readDocxPapers(table([[cell('Candidates', 'restart'), cell('[ ] Cllr Jason Williams')], [cell('', 'continue'), cell('[X] Cllr Jacky Alty')]]), 'x', 1 << 20);
    expect(heading.kind === 'papers' && heading.papers[0]?.boxes.map((b) => b.mark)).toEqual(['X']);
    // Columns are counted by the grid: a cell spanning two columns before the merge keeps it in its own.
    const spanned = readDocxPapers(table([[cell('', undefined, 2), cell('X', 'restart'), cell('Cllr Jason Williams')], [cell(''), cell(''), cell('', 'continue'), cell('Cllr Jacky Alty')]]), 'x', 1 << 20);
    expect(spanned.kind === 'papers' && spanned.papers[0]?.boxes.map((b) => [b.mark, b.text])).toEqual([['X', 'Cllr Jason Williams'], ['X', 'Cllr Jacky Alty']]);
  });
});

describe('a message forwarded as an Outlook .msg', () => {
  it('is read as a forwarded message, in a .msg and attached to an email alike', async () => {
    const { Email, Attachment, AttachmentType } = await import('@tutao/oxmsg');
    const inner = new Email()
      .sender('leader@north-herts.gov.uk', 'Cllr Elliot Kirkland')
      .to('ballots@ccin.example', 'Ballots')
      .subject('ballot')
      .sentOn(new Date('2024-01-31T09:00:00Z'))
      .bodyText(paperText({ williams: 'X' }).replace(/\n/g, '\r\n'))
      .msg();
    const t = tempDir();
    try {
      const outer = new Email()
        .sender('clerk@north-herts.gov.uk', 'Clerk')
        .to('ballots@ccin.example', 'Ballots')
        .subject('FW: ballot')
        .sentOn(new Date('2024-01-31T10:00:00Z'))
        .bodyText('See the Leader\'s email, attached.')
        .attach(new Attachment(inner, 'ballot.msg', '', AttachmentType.ATTACH_EMBEDDED_MSG))
        .msg();
      writeFileSync(join(t.dir, 'forward.msg'), outer);
      const attachedToEmail = [
        'Received: from mail.north-herts.gov.uk by mx.ccin.example; Wed, 31 Jan 2024 10:00:03 +0000',
        'From: Clerk <clerk@north-herts.gov.uk>',
        'To: ballots@ccin.example',
        'Subject: FW: ballot',
        'Date: Wed, 31 Jan 2024 10:00:00 +0000',
        'Message-ID: <fw-msg@north-herts.gov.uk>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'See attached.',
        '--b',
        'Content-Type: application/vnd.ms-outlook',
        'Content-Disposition: attachment; filename="ballot.msg"',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from(inner).toString('base64').replace(/(.{76})/g, '$1\r\n'),
        '--b--',
        '',
      ].join('\r\n');
      writeFileSync(join(t.dir, 'forward.eml'), attachedToEmail);
      const r = await tallyJson([t.dir]);
      for (const m of r.messages) {
        expect([m.source.file, m.disposition, m.reason]).toEqual([m.source.file, 'needs-adjudication', 'forwarded']);
        expect(m.evidence.forwarded[0]).toMatchObject({ from: expect.stringContaining('leader@north-herts.gov.uk'), papers: 1 });
      }
      expect(r.messages).toHaveLength(2);
    } finally {
      t.cleanup();
    }
  });
});

describe('an Outlook .msg with a text and an HTML body (written by @tutao/oxmsg)', () => {
  // A sent message keeps its HTML as PR_HTML; a draft (as Outlook may keep any) only inside its
  // rich-text body (PR_RTF_COMPRESSED, \\fromhtml1), which is de-encapsulated and read alike.
  it.each([
    ['as PR_HTML', false],
    ['only inside its rich-text body', true],
  ])('is read as text and HTML versions (the HTML %s): versions that agree count, an HTML version that marks another candidate voids the paper', async (_how, draft) => {
    const { Email } = await import('@tutao/oxmsg');
    const html = (marks: Parameters<typeof paperText>[0]): string =>
      `<html><body>${paperText(marks)
        .split('\n')
        .map((l) => `<p class=MsoNormal>${l.replace(/&/g, '&amp;') || '&nbsp;'}</p>`)
        .join('')}</body></html>`;
    // Two messages (their subjects differ: with no Message-ID, a .msg without transport headers is known by its content).
    const msg = (text: Parameters<typeof paperText>[0], shown: Parameters<typeof paperText>[0]): Uint8Array =>
      new Email(draft)
        .sender('leader@north-herts.gov.uk', 'Cllr Elliot Kirkland')
        .to('ballots@ccin.example', 'Ballots')
        .subject(`ballot ${Object.keys(shown).join('')}`)
        .sentOn(new Date('2024-01-31T09:00:00Z'))
        .bodyText(paperText(text).replace(/\n/g, '\r\n'))
        .bodyHtml(html(shown))
        .msg();
    const { msgToMime } = await import('../src/read/msg.js');
    expect(msgToMime(Buffer.from(msg({ williams: 'X' }, { alty: 'X' })), 4).mime.toString('utf8')).toMatch(/Content-Type: multipart\/alternative/);
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'agree.msg'), msg({ williams: 'X' }, { williams: 'X' }));
      writeFileSync(join(t.dir, 'disagree.msg'), msg({ williams: 'X' }, { alty: 'X' }));
      expect(outcome(await tallyJson([t.dir]))).toEqual({ 'agree.msg': 'counted williams', 'disagree.msg': 'rejected: void-for-uncertainty' });
    } finally {
      t.cleanup();
    }
  });
  it('a rich-text body whose header declares more than it holds is not decompressed (the decompressor reads on to the size declared): a note says so', async () => {
    const { htmlFromRtf } = await import('../src/read/msg.js');
    const notes: string[] = [];
    const lying = Buffer.alloc(32);
    lying.writeUInt32LE(0x7fffffff, 0);
    lying.writeUInt32LE(0x75465a4c, 8);
    expect(htmlFromRtf(lying, notes)).toBeUndefined();
    expect(notes).toEqual([expect.stringMatching(/rich-text body .* is not well-formed/)]);
  });
});

describe('a PDF whose page or field tree nests deeper than pdf-lib can walk on every thread', () => {
  it('is unreadable before pdf-lib walks it, so alike on every thread; one that loops is too, and says so', async () => {
    const { PDFDocument, PDFName, PDFDict, PDFArray, PDFWriter } = await import('pdf-lib');
    const filled = readFileSync(join(DIR, 'files', 'filled-radio.pdf'));
    // The filled form's page tree wrapped in `depth` more /Pages nodes (a page tree 10,000 deep had read
    // as a paper on a reader thread's stack and failed on the main thread's).
    const deepened = async (depth: number): Promise<Uint8Array> => {
      const doc = await PDFDocument.load(filled);
      const ctx = doc.context;
      let top = doc.catalog.get(PDFName.of('Pages'))!;
      for (let i = 0; i < depth; i++) {
        const parent = ctx.register(ctx.obj({ Type: 'Pages', Kids: [top], Count: 1 }));
        ctx.lookup(top, PDFDict).set(PDFName.of('Parent'), parent);
        top = parent;
      }
      doc.catalog.set(PDFName.of('Pages'), top);
      // Written as the objects stand (saving would walk the page tree itself).
      return PDFWriter.forContext(ctx, 50).serializeToBuffer();
    };
    expect(await readPdfPaper(await deepened(10), 'x', 10 << 20)).toMatchObject({ kind: 'paper' });
    expect(await readPdfPaper(await deepened(10_000), 'x', 10 << 20)).toEqual({ kind: 'unreadable', why: "the PDF's page tree nests more than 64 deep" });
    // A field among its own kids.
    const doc = await PDFDocument.load(filled);
    const fields = doc.catalog.lookup(PDFName.of('AcroForm'), PDFDict).lookup(PDFName.of('Fields'), PDFArray);
    doc.context.lookup(fields.get(0), PDFDict).set(PDFName.of('Kids'), doc.context.obj([fields.get(0)]));
    const looped = await doc.save({ updateFieldAppearances: false });
    expect(await readPdfPaper(looped, 'x', 10 << 20)).toEqual({ kind: 'unreadable', why: "the PDF's form-field tree loops (an object is its own ancestor, or in it twice)" });
    // Kids that are an array holding itself.
    const again = await PDFDocument.load(filled);
    const selfHolding = again.context.obj([]);
    const selfRef = again.context.register(selfHolding);
    selfHolding.push(selfRef);
    const first = again.catalog.lookup(PDFName.of('AcroForm'), PDFDict).lookup(PDFName.of('Fields'), PDFArray).get(0);
    again.context.lookup(first, PDFDict).set(PDFName.of('Kids'), selfRef);
    expect(await readPdfPaper(await PDFWriter.forContext(again.context, 50).serializeToBuffer(), 'x', 10 << 20)).toEqual({ kind: 'unreadable', why: "the PDF's form-field tree loops (an object is its own ancestor, or in it twice)" });
  });
});

describe('a PDF whose compressed streams decode to more than pdf-lib should hold', () => {
  /** A one-page PDF holding object streams (which pdf-lib decodes whole as it loads the file). */
  function pdfWithObjectStreams(streams: { filter: string; data: Buffer }[]): Buffer {
    const objects = [
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>',
      ...streams.map((s) => ({ dict: `<< /Type /ObjStm /N 1 /First 4 /Filter ${s.filter} /Length ${s.data.length} >>`, data: s.data })),
    ];
    const parts: Buffer[] = [Buffer.from('%PDF-1.5\n')];
    const offsets: number[] = [];
    let at = parts[0]!.length;
    objects.forEach((o, i) => {
      const body = typeof o === 'string' ? [Buffer.from(`${i + 1} 0 obj ${o} endobj\n`)] : [Buffer.from(`${i + 1} 0 obj ${o.dict} stream\n`), o.data, Buffer.from('\nendstream endobj\n')];
      offsets.push(at);
      for (const b of body) {
        parts.push(b);
        at += b.length;
      }
    });
    const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
    parts.push(Buffer.from(`${xref}trailer << /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${at}\n%%EOF\n`));
    return Buffer.concat(parts);
  }
  const spaces = (bytes: number): Buffer => Buffer.concat([Buffer.from('4 0 '), Buffer.alloc(bytes - 4, 0x20)]);
  const refused = { kind: 'unreadable', why: `the compressed streams of the message's PDFs decode to more than ${MAX_PDF_DECODED_BYTES} bytes (a "zip bomb")` };

  it('one stream past the limit, plain, inside another or run-length encoded, is refused as it grows, never decoded in full', async () => {
    // 80 MiB of spaces deflate to some 80 KB; deflated again, to less.
    const bomb = deflateSync(spaces(80 << 20), { level: 9 });
    expect(await readPdfPaper(pdfWithObjectStreams([{ filter: '/FlateDecode', data: bomb }]), 'attachment:bomb.pdf', 10 << 20)).toEqual(refused);
    const twice = deflateSync(bomb, { level: 9 });
    expect(await readPdfPaper(pdfWithObjectStreams([{ filter: '[/FlateDecode /FlateDecode]', data: twice }]), 'attachment:bomb.pdf', 10 << 20)).toEqual(refused);
    // Another decoder, bounded by the same method: run-length pairs of 128 spaces each, 80 MiB from 1.25 MiB.
    const runs = Buffer.concat([Buffer.from([3, 0x34, 0x20, 0x30, 0x20]), Buffer.alloc(2 * 655_360, Buffer.from([0x81, 0x20])), Buffer.from([0x80])]);
    expect(await readPdfPaper(pdfWithObjectStreams([{ filter: '/RunLengthDecode', data: runs }]), 'attachment:bomb.pdf', 10 << 20)).toEqual(refused);
  });

  it("streams each within the limit are refused when together they are past it; one PDF's budget is not another's", async () => {
    const mebibyte = deflateSync(spaces(1 << 20), { level: 9 });
    const within = pdfWithObjectStreams(Array.from({ length: 8 }, () => ({ filter: '/FlateDecode', data: mebibyte })));
    expect(await readPdfPaper(within, 'x', 10 << 20)).toMatchObject({ kind: 'not-machine-readable' });
    const past = pdfWithObjectStreams(Array.from({ length: MAX_PDF_DECODED_BYTES / (1 << 20) + 2 }, () => ({ filter: '/FlateDecode', data: mebibyte })));
    // Read at once with an honest form: each PDF has its own budget.
    const [bomb, form] = await Promise.all([readPdfPaper(past, 'x', 10 << 20), readPdfPaper(readFileSync(join(DIR, 'files', 'filled-radio.pdf')), 'x', 10 << 20)]);
    expect(bomb).toEqual(refused);
    expect(form.kind).toBe('paper');
  });

  it("a message's PDFs share one budget: twenty bombs attached cost what one does", async () => {
    const bomb = pdfWithObjectStreams([{ filter: '/FlateDecode', data: deflateSync(spaces(60 << 20), { level: 9 }) }]).toString('base64').replace(/.{76}/g, '$&\r\n');
    const parts = Array.from({ length: 20 }, (_, i) => ['--b', 'Content-Type: application/pdf', `Content-Disposition: attachment; filename="paper-${i}.pdf"`, 'Content-Transfer-Encoding: base64', '', bomb]).flat();
    const body = ['--b', 'Content-Type: text/plain; charset=utf-8', '', 'Our papers are attached.', ...parts, '--b--', ''].join('\r\n');
    const bytes = eml({ body, contentType: 'multipart/mixed; boundary="b"' });
    const facts = await readMessage({ source: { file: 'm.eml', kind: 'eml', index: null, line: null }, bytes, size: bytes.length, sha256: '', oversize: false }, { receivedBy: null, limits: DEFAULT_READ_LIMITS });
    // Each alone is within the limit (60 MiB, and no form: not read by machine); the second finds the message's budget spent.
    expect(facts.attachments.map((a) => a.handling)).toEqual(['not-read', ...Array<string>(19).fill('unreadable')]);
    expect(facts.attachments[1]?.note).toBe(refused.why);
  });
});
