import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { parseElection } from '../src/inputs/election.js';
import { sha256Hex } from '../src/inputs/files.js';
import { parseRoster } from '../src/inputs/roster.js';
import { judgeMessage } from '../src/judge/judge.js';
import { DEFAULT_READ_LIMITS, hasAlternative, hasTextPlain, MAX_MESSAGE_LINES, MAX_TEXT_CHARS, readForOfficer, readMessage, type MessageFacts } from '../src/read/message.js';
import { DEFAULT_LIMITS, type RawMessage } from '../src/sources/types.js';
import { walkSources } from '../src/sources/walk.js';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ELECTION, MAILBOX, ROOT, ROSTER, eml, paperText } from './helpers.js';

const election = parseElection({ name: 'e', path: ELECTION, bytes: readFileSync(ELECTION), sha256: '' });
const roster = parseRoster({ name: 'r', path: ROSTER, bytes: readFileSync(ROSTER), sha256: '' });

function raw(bytes: Buffer): RawMessage {
  return { source: { file: 't.eml', kind: 'eml', index: null, line: null }, bytes, size: bytes.length, sha256: sha256Hex(bytes), oversize: false };
}
async function read(bytes: Buffer, receivedBy: string[] | null = ['mx.ccin.example']): Promise<MessageFacts> {
  return readMessage(raw(bytes), { receivedBy, limits: DEFAULT_READ_LIMITS });
}
/** A message whose body is `body` and which has `attached` as a .txt attachment. */
function withTxtAttachment(body: string, attached: string): Buffer {
  return eml({
    contentType: 'multipart/mixed; boundary="b"',
    body: `--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename="ballot.txt"\r\n\r\n${attached}\r\n--b--\r\n`.replace(/\r?\n/g, '\r\n'),
  });
}
async function judge(bytes: Buffer) {
  const f = await read(bytes);
  return { facts: f, judgement: judgeMessage(f, election, roster) };
}

describe('reading a message', () => {
  it('finds the paper in a plain body and takes the receipt time from the receiving server', async () => {
    const { facts, judgement } = await judge(eml({ body: paperText({ williams: 'X' }) }));
    expect(facts.receivedAt).toBe('2024-01-31T10:00:03Z');
    expect(facts.receivedAtSource).toBe('received');
    expect(judgement.verdict).toEqual({ kind: 'valid' });
    expect(judgement.choices).toEqual(['williams']);
  });

  it('quoted-printable and base64 bodies', async () => {
    const text = paperText({ williams: '✓' });
    const qp = text.replace(/✓/g, '=E2=9C=93').replace(/\n/g, '\r\n');
    const b64 = Buffer.from(text).toString('base64').replace(/(.{76})/g, '$1\r\n');
    for (const [cte, body] of [['quoted-printable', qp], ['base64', b64]] as const) {
      const { judgement } = await judge(eml({ body, headers: [`Content-Transfer-Encoding: ${cte}`] }));
      expect(judgement.choices, cte).toEqual(['williams']);
    }
  });

  it('windows-1252 and ISO-8859-1 bodies', async () => {
    for (const cs of ['windows-1252', 'iso-8859-1']) {
      const text = paperText({ alty: 'X' }, { name: 'Cllr Elliot Kirkland' }) + '\nCafé – thanks\n';
      const body = iconv.encode(text.replace('–', cs === 'iso-8859-1' ? '-' : '–'), cs);
      const head = eml({ body: '', contentType: `text/plain; charset=${cs}`, headers: ['Content-Transfer-Encoding: 8bit'] });
      const { facts, judgement } = await judge(Buffer.concat([head, body]));
      expect(judgement.choices, cs).toEqual(['alty']);
      expect(facts.papers[0]?.name).toBe('Cllr Elliot Kirkland');
    }
  });

  it('a body declared in UTF-7, which the MIME parser reads as it stands: where a client that decodes it shows other text, no paper in it reads with certainty', async () => {
    // "+AFs-X+AF0-" is "[X]" in UTF-7: Outlook shows a vote for Alty, the text read holds none.
    const shifted = paperText({}).replace('[ ] Cllr Jacky Alty', '+AFs-X+AF0- Cllr Jacky Alty');
    const hidden = await judge(eml({ body: shifted, contentType: 'text/plain; charset="UTF-7"' }));
    expect(hidden.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(hidden.facts.notes.join(' ')).toMatch(/declared in UTF-7/);
    // In a part of a multipart, the Content-Type folded over two lines.
    const folded = eml({ contentType: 'multipart/mixed; boundary="b"', body: ['--b', 'Content-Type: text/plain;', '\tcharset=unicode-1-1-utf-7', '', shifted, '--b--', ''].join('\r\n') });
    expect((await judge(folded)).judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    // Text without a shift sequence reads the same decoded or not: it counts.
    const same = await judge(eml({ body: paperText({ alty: 'X' }), contentType: 'text/plain; charset=utf-7' }));
    expect([same.judgement.verdict, same.judgement.choices, same.facts.notes]).toEqual([{ kind: 'valid' }, ['alty'], []]);
    // "charset=utf-7" in the words of the message declares nothing.
    const words = await judge(eml({ body: `${paperText({ alty: 'X' })}\nPS: our old system sent charset=utf-7; a+b\n` }));
    expect([words.judgement.verdict, words.judgement.choices]).toEqual([{ kind: 'valid' }, ['alty']]);
  });

  it('an HTML-only body', async () => {
    const html = `<html><body><p>Dear RO</p><p>CCIN BALLOT PAPER<br>Council: North Hertfordshire District Council</p><p>[ ] Cllr Alistair Willoughby<br>[X] Cllr Jason Williams<br>[ ] Cllr Jacky Alty</p><p>Name: Cllr Elliot Kirkland<br>Position: Leader</p></body></html>`;
    const { facts, judgement } = await judge(eml({ body: html, contentType: 'text/html; charset=utf-8' }));
    expect(facts.papers[0]?.origin).toBe('body-html');
    expect(judgement.choices).toEqual(['williams']);
  });

  it('a .txt attachment saved as "Unicode" (UTF-16 with a byte order mark) is read as such, whatever charset is declared, or none', async () => {
    const utf16 = (be: boolean): string => {
      const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(paperText({ williams: 'X' }), 'utf16le')]);
      return (be ? Buffer.from(le.swap16()) : le).toString('base64').replace(/.{76}/g, '$&\r\n');
    };
    for (const [ct, be] of [['text/plain', false], ['text/plain; charset=windows-1252', false], ['application/octet-stream', true]] as const) {
      const body = `--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOur ballot is attached.\r\n--b\r\nContent-Type: ${ct}\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="ballot.txt"\r\n\r\n${utf16(be)}\r\n--b--\r\n`;
      const { judgement } = await judge(eml({ contentType: 'multipart/mixed; boundary="b"', body }));
      expect([ct, judgement.verdict, judgement.choices]).toEqual([ct, { kind: 'valid' }, ['williams']]);
    }
  });

  it('a .txt attachment, and body and attachment that agree count once', async () => {
    const boundary = 'b1';
    const body = [
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      paperText({ alty: 'X' }),
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8; name="ballot.txt"',
      'Content-Disposition: attachment; filename="ballot.txt"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(paperText({ alty: 'X' })).toString('base64'),
      `--${boundary}--`,
    ].join('\r\n');
    const { facts, judgement } = await judge(eml({ body, contentType: `multipart/mixed; boundary="${boundary}"` }));
    expect(facts.papers.map((p) => p.origin)).toEqual(['body-text', 'attachment:ballot.txt']);
    expect(judgement.verdict).toEqual({ kind: 'valid' });
  });

  it('a forwarded message/rfc822 attachment is sent to adjudication with the inner sender', async () => {
    const inner = eml({ body: paperText({ alty: 'X' }), received: [] }).toString();
    const body = ['--b2', 'Content-Type: text/plain', '', 'See attached.', '--b2', 'Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="ballot.eml"', '', inner, '--b2--'].join('\r\n');
    const { facts, judgement } = await judge(eml({ from: 'Clerk <clerk@north-herts.gov.uk>', subject: 'Fwd: ballot', body, contentType: 'multipart/mixed; boundary="b2"' }));
    expect(facts.forwarded[0]?.header.from).toContain('leader@north-herts.gov.uk');
    expect(judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'forwarded' });
  });

  it('a forwarded message is read as a message: its paper in a .txt attachment counts as a forwarded paper', async () => {
    const innerBody = ['--i', 'Content-Type: text/plain', '', 'Paper attached.', '--i', 'Content-Type: text/plain; name="ballot.txt"', 'Content-Disposition: attachment; filename="ballot.txt"', '', paperText({ alty: 'X' }), '--i--'].join('\r\n');
    const inner = eml({ body: innerBody, contentType: 'multipart/mixed; boundary="i"', received: [] }).toString();
    const body = ['--b2', 'Content-Type: text/plain', '', 'See attached.', '--b2', 'Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="ballot.eml"', '', inner, '--b2--'].join('\r\n');
    const { facts, judgement } = await judge(eml({ from: 'Clerk <clerk@north-herts.gov.uk>', subject: 'Fwd: ballot', body, contentType: 'multipart/mixed; boundary="b2"' }));
    expect(facts.forwarded[0]?.papers.map((p) => p.origin)).toEqual(['attachment:ballot.txt']);
    expect(judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'forwarded' });
  });

  it('a forward from outside the roster still names the forwarded council', async () => {
    const body = `FYI\n\n---------- Forwarded message ---------\nFrom: Cllr Elliot Kirkland <leader@north-herts.gov.uk>\nDate: Wed, 31 Jan 2024\nSubject: ballot\n\n${paperText({ alty: 'X' })}`;
    const { judgement } = await judge(eml({ from: 'pa@gmail.example', subject: 'Fwd: ballot', body }));
    expect(judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'forwarded' });
    expect(judgement.council?.id).toBe('north-herts');
  });

  it('auto-replies, delivery reports and read receipts are not ballots', async () => {
    const cases = [
      eml({ body: paperText({ alty: 'X' }), headers: ['Auto-Submitted: auto-replied'] }),
      eml({ subject: 'Out of Office: ballot', body: 'Away until Monday.' }),
      eml({ from: 'MAILER-DAEMON@mx.ccin.example', subject: 'Undelivered Mail Returned to Sender', body: '--r\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--r--', contentType: 'multipart/report; report-type=delivery-status; boundary="r"' }),
      eml({ subject: 'Read: ballot', body: '--r\r\nContent-Type: text/plain\r\n\r\nread\r\n--r--', contentType: 'multipart/report; report-type=disposition-notification; boundary="r"' }),
    ];
    for (const c of cases) expect((await judge(c)).judgement.verdict.kind).toBe('not-a-ballot');
  });

  it('a cross or tick put where the box was deleted marks that candidate; beside anything else, and on its own, it is prose', async () => {
    const alty = '[ ] Cllr Jacky Alty (South Ribble Borough Council)';
    for (const line of ['X Cllr Jacky Alty (South Ribble Borough Council)', '1. X Cllr Jacky Alty (South Ribble Borough Council)', '- ✓ Cllr Jacky Alty (South Ribble Borough Council)', 'x Cllr Jacky Alty (South Ribble Borough Council)', '✓ Cllr Jacky Alty (South Ribble Borough Council)', 'X - Cllr Jacky Alty (South Ribble Borough Council)', 'Cllr Jacky Alty (South Ribble Borough Council) X', 'Cllr Jacky Alty (South Ribble Borough Council) ✔']) {
      const { judgement } = await judge(eml({ body: paperText({}).replace(alty, line) }));
      expect([judgement.verdict, judgement.choices], line).toEqual([{ kind: 'valid' }, ['alty']]);
    }
    // The evidence says there was no box.
    const shown = await judge(eml({ body: paperText({}).replace(alty, 'X Cllr Jacky Alty (South Ribble Borough Council)') }));
    expect(shown.judgement.papers[0]?.marks.find((k) => k.candidate === 'alty')).toMatchObject({ mark: 'X', reading: 'marked', bare: true });
    expect(shown.judgement.papers[0]?.marks.find((k) => k.candidate === 'williams')).not.toHaveProperty('bare');
    // A small x after a name may be a kiss: it is read as no cross, but a reader may take it for one,
    // so the paper cannot be read with certainty. A bullet is no mark.
    expect((await judge(eml({ body: paperText({}).replace(alty, 'Cllr Jacky Alty (South Ribble Borough Council) x') }))).judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect((await judge(eml({ body: paperText({}).replace(alty, '* Cllr Jacky Alty (South Ribble Borough Council)') }))).judgement.verdict).toEqual({ kind: 'rejected', reason: 'unmarked' });
    // Beside a marked box for another candidate it is a second vote; with its own box still there, two readings.
    expect((await judge(eml({ body: paperText({ williams: 'X' }).replace(alty, 'X Cllr Jacky Alty (South Ribble Borough Council)') }))).judgement.verdict).toEqual({ kind: 'rejected', reason: 'overvote' });
    expect((await judge(eml({ body: `${paperText({})}\nX Cllr Jacky Alty` }))).judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect((await judge(eml({ body: `${paperText({ williams: 'X' })}\nX marks the spot` }))).judgement.choices).toEqual(['williams']);
    // Prose that begins with an X makes no paper: a covering note is still no ballot paper.
    const note = await judge(eml({ body: 'X Factor results are in.\nCllr Jacky Alty X' }));
    expect(note.facts.papers).toEqual([]);
    expect(note.judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'no-ballot-paper' });
  });

  it('a box alone on its line, the name on the next (a table or paragraphs laid out a cell a line), marks that candidate', async () => {
    const split = (text: string): string => text.replace(/^(\[.?\]) (Cllr .*)$/gm, '$1\n$2');
    const text = await judge(eml({ body: split(paperText({ alty: 'X' })) }));
    expect([text.judgement.verdict, text.judgement.choices]).toEqual([{ kind: 'valid' }, ['alty']]);
    expect(text.judgement.papers[0]?.marks.map((k) => [k.candidate, k.reading, k.apart ?? false])).toEqual([
      ['willoughby', 'blank', true],
      ['williams', 'blank', true],
      ['alty', 'marked', true],
    ]);
    const paragraphs = paperText({ alty: '☒' }).split('\n').map((l) => {
      const m = /^\[(.?)\] (Cllr .*)$/.exec(l);
      return m ? `<p>${m[1] === '☒' ? '&#9746;' : '&#9744;'}</p><p>${m[2]}</p>` : `<p>${l}</p>`;
    });
    const html = await judge(eml({ body: paragraphs.join(''), contentType: 'text/html; charset=utf-8' }));
    expect([html.judgement.verdict, html.judgement.choices]).toEqual([{ kind: 'valid' }, ['alty']]);
    // Beside a line that names no candidate it is prose; and alone it makes no paper.
    expect((await judge(eml({ body: `${paperText({ williams: 'X' })}\n[X]\nPlease see attached.` }))).judgement.choices).toEqual(['williams']);
    const alone = await judge(eml({ body: 'Thanks.\n[X]\nRegards, Elliot' }));
    expect(alone.facts.papers).toEqual([]);
  });

  it('a box alone that a reader may take for another candidate\'s is doubted: a marked one under the last name (read with nothing, or the line after it), and a box under each name', async () => {
    const alty = '[ ] Cllr Jacky Alty (South Ribble Borough Council)';
    const verdict = async (body: string) => {
      const { judgement } = await judge(eml({ body }));
      return [judgement.verdict, judgement.choices, judgement.findings.filter((f) => f.code === 'void-for-uncertainty').map((f) => f.detail)];
    };
    // Under the last name, beside another mark or none: it was passed over (counted for Williams alone, or unmarked).
    for (const marks of [{ williams: 'X' }, {}]) {
      expect(await verdict(paperText(marks).replace(alty, `${alty}
[X]`))).toEqual([
        { kind: 'rejected', reason: 'void-for-uncertainty' },
        [],
        [expect.stringMatching(/line 11 has a mark \("X"\) alone, beside no candidate's name \("Signed off by the Council Leader or Mayor" below it\)/)],
      ]);
    }
    // A box under each name: read with the name below it, the X under Williams was counted for Alty.
    const under = paperText({ williams: 'X' }).replace(/^\[(.?)\] (Cllr .*)$/gm, '$2\n[$1]');
    expect(await verdict(under)).toEqual([{ kind: 'rejected', reason: 'void-for-uncertainty' }, [], [expect.stringMatching(/the box read with line 10 stands alone under Cllr Alistair Willoughby's name as well as over "Cllr Jason Williams"/)]]);
    // A cross on a line of its own, under or over a name, is such a mark too (it was passed over: unmarked).
    for (const line of ['Cllr Jason Williams (Westminster City Council)\nX', 'X\nCllr Jason Williams (Westminster City Council)', '[ ] Cllr Jason Williams (Westminster City Council)\n✓']) {
      expect(await verdict(paperText({}).replace('[ ] Cllr Jason Williams (Westminster City Council)', line))).toEqual([
        { kind: 'rejected', reason: 'void-for-uncertainty' },
        [],
        [expect.stringMatching(/^line (9|10) has a mark \("[X✓]"\) alone, beside no candidate's name: which candidate it marks cannot be read with certainty/)],
      ]);
    }
    // An empty box under the last name, or a box over each name under the instructions, is no doubt.
    expect(await verdict(paperText({ williams: 'X' }).replace(alty, `${alty}
[ ]`))).toEqual([{ kind: 'valid' }, ['williams'], []]);
    expect(await verdict(paperText({ williams: 'X' }).replace(/^(\[.?\]) (Cllr .*)$/gm, '$1\n$2'))).toEqual([{ kind: 'valid' }, ['williams'], []]);
  });

  it('a council written by its initials is the sender\'s council; a paper naming another roster council is still council-mismatch', async () => {
    for (const council of ['NHDC', 'N.H.D.C.', 'North Herts DC']) {
      const { judgement } = await judge(eml({ body: paperText({ alty: 'X' }, { council }) }));
      expect(judgement.verdict, council).toEqual({ kind: 'valid' });
    }
    const other = await judge(eml({ body: paperText({ alty: 'X' }, { council: 'Stockport Council' }) }));
    expect(other.judgement.verdict).toEqual({ kind: 'rejected', reason: 'council-mismatch' });
  });

  it('an unmarked copy of the paper beside a marked one does not void it; papers marked for different candidates still do', async () => {
    for (const [body, attached] of [
      [`The paper is attached.\n\n${paperText({})}`, paperText({ alty: 'X' })],
      [paperText({ alty: 'X' }), paperText({})],
    ] as const) {
      const { judgement } = await judge(withTxtAttachment(body, attached));
      expect(judgement.verdict).toEqual({ kind: 'valid' });
      expect(judgement.choices).toEqual(['alty']);
      expect(judgement.findings.map((f) => f.detail)).toContainEqual(expect.stringMatching(/^an unmarked copy of the paper \((body-text|attachment:ballot\.txt)\) beside the marked one \((attachment:ballot\.txt|body-text)\): the marked paper is read$/));
    }
    const differ = await judge(withTxtAttachment(paperText({ williams: 'X' }), paperText({ alty: 'X' })));
    expect(differ.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    // A doubtful mark is no blank: beside a clear one, the message is still uncertain.
    const doubtful = await judge(withTxtAttachment(paperText({ williams: '?' }), paperText({ alty: 'X' })));
    expect(doubtful.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    const bothBlank = await judge(withTxtAttachment(paperText({}), paperText({})));
    expect(bothBlank.judgement.verdict).toEqual({ kind: 'rejected', reason: 'unmarked' });
  });

  it('a blank paper with the vote written in words beside it is unmarked, and the finding says the words name a candidate', async () => {
    const words = await judge(withTxtAttachment('Dear Returning Officer,\n\nNorth Herts votes for Cllr Alty. Our paper is attached.\n\nElliot', paperText({})));
    // The lines of every own text that are no part of a paper (the paper's instructions among them).
    expect(words.facts.prose.slice(0, 3)).toEqual(['Dear Returning Officer,', 'North Herts votes for Cllr Alty. Our paper is attached.', 'Elliot']);
    expect(words.judgement.verdict).toEqual({ kind: 'rejected', reason: 'unmarked' });
    expect(words.judgement.findings.map((f) => f.detail)).toContain('the text beside the unmarked paper names Cllr Jacky Alty: a vote written in words? Only a marked paper counts; read it by eye (inspect)');
    // The whole name in the paper's own text, too; a surname alone in prose is too common a word.
    const whole = await judge(eml({ body: `We choose Jacky Alty.\n\n${paperText({})}` }));
    expect(whole.judgement.findings.map((f) => f.detail)).toContainEqual(expect.stringMatching(/^the text beside the unmarked paper names Cllr Jacky Alty:/));
    const surname = await judge(eml({ body: `Thanks, Sarah Williams (PA to the Leader)\n\n${paperText({})}` }));
    expect(surname.judgement.findings.map((f) => f.detail).join('\n')).not.toMatch(/text beside the unmarked paper/);
    // Words beside a marked paper that agree with it say nothing.
    const agrees = await judge(withTxtAttachment('We vote for Cllr Alty.', paperText({ alty: 'X' })));
    expect(agrees.facts.prose).toContain('We vote for Cllr Alty.');
    expect([agrees.judgement.verdict, agrees.judgement.findings.map((f) => f.detail).join('\n')]).toEqual([{ kind: 'valid' }, expect.not.stringMatching(/own words/)]);
    // A blank paper laid out a box a line: the names below its boxes are the paper's, not prose.
    const laidOut = await judge(eml({ body: paperText({}).replace(/^(\[.?\]) (Cllr .*)$/gm, '$1\n$2') }));
    expect(laidOut.judgement.verdict).toEqual({ kind: 'rejected', reason: 'unmarked' });
    expect(laidOut.facts.prose.join('\n')).not.toMatch(/Cllr/);
    expect(laidOut.judgement.findings.map((f) => f.detail).join('\n')).not.toMatch(/text beside the unmarked paper/);
  });

  it('a marked paper beside the sender\'s own words saying a vote for someone it does not mark counts, and the verdict and a finding say so; a mention that says no vote does not', async () => {
    const said = "the sender's own words beside the marked paper say a vote for Cllr Jacky Alty, whom the paper does not mark: the paper is counted as marked; read the message by eye (inspect) before declaring";
    for (const body of [
      `Dear Returning Officer,\n\nOur council votes for Cllr Jacky Alty.\n\n${paperText({ williams: 'X' })}`,
      `${paperText({ williams: 'X' })}\nSorry, please count Cllr Alty instead.\n`,
    ]) {
      const { judgement } = await judge(eml({ body }));
      expect([judgement.verdict, judgement.choices]).toEqual([{ kind: 'valid', inWords: ['alty'] }, ['williams']]);
      expect(judgement.findings.map((f) => f.detail)).toContain(said);
    }
    // A mention that says no vote (good wishes, a signature of a candidate who leads the council) is nothing.
    for (const body of [`Good luck to Cllr Jacky Alty and all the candidates.\n\n${paperText({ williams: 'X' })}`, `${paperText({ williams: 'X' })}\n--\nCllr Jacky Alty\nLeader, South Ribble Borough Council\n`]) {
      const { judgement } = await judge(eml({ body }));
      expect(judgement.verdict).toEqual({ kind: 'valid' });
    }
  });

  it('a paper marked inside the quoted text of a reply is not counted, and the officer is told it is there', async () => {
    const officer = '________________________________\nFrom: CCIN Returning Officer <ballots@ccin.example>\nSent: 18 January 2024 09:00\nTo: Leader <leader@north-herts.gov.uk>\nSubject: CCIN ballot\n\nPlease find the ballot paper below.\n\n';
    const filledInside = await judge(eml({ subject: 'RE: CCIN ballot', body: `Our vote is below.\n\nElliot\n\n${officer}${paperText({ alty: 'X' })}`.replace(/\n/g, '\r\n') }));
    expect(filledInside.facts.quotedPapers).toBe(1);
    expect(filledInside.judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'no-ballot-paper' });
    expect(filledInside.judgement.findings.find((f) => f.code === 'no-ballot-paper')?.detail).toBe(
      'no ballot paper found in the body or attachments; the quoted reply text holds a paper marked → alty, which is not counted: was it filled in inside the reply? Read it by eye (inspect)',
    );
    // The blank paper quoted back, with a vote in words above it: no marks to speak of.
    const blank = await judge(eml({ subject: 'RE: CCIN ballot', body: `We vote for Cllr Alty.\n\n${officer}${paperText({})}`.replace(/\n/g, '\r\n') }));
    expect(blank.judgement.findings.find((f) => f.code === 'no-ballot-paper')?.detail).toBe('no ballot paper found in the body or attachments');
    // Only a few quoted papers are kept to look at, however many a reply quotes.
    const many = await read(eml({ subject: 'RE: CCIN ballot', body: Array.from({ length: 20 }, () => `> ${paperText({ williams: 'X' }).split('\n').join('\r\n> ')}`).join('\r\n') }));
    expect([many.quotedPapers, many.quotedSample.length]).toEqual([20, 3]);
  });

  it("the returning officer's own mail in the export is not a ballot", async () => {
    const { judgement } = await judge(eml({ from: 'CCIN Returning Officer <ballots@ccin.example>', body: paperText({}) }));
    expect(judgement.verdict).toEqual({ kind: 'not-a-ballot', why: 'from-ballot-address' });
  });

  it("the officer's own mail forwarding a council's marked paper (sent to the wrong address) goes to adjudication as any forward does; forwarding the blank paper is no ballot", async () => {
    const forward = (paper: string): Buffer =>
      eml({
        from: 'CCIN Returning Officer <ballots@ccin.example>',
        subject: 'Fwd: CCIN ballot',
        body: `Received at my own address.\n\n---------- Forwarded message ---------\nFrom: Cllr Elliot Kirkland <leader@north-herts.gov.uk>\nDate: Wed, 31 Jan 2024 09:00:00 +0000\nSubject: CCIN ballot\n\n${paper}`.replace(/\n/g, '\r\n'),
      });
    const marked = await judge(forward(paperText({ alty: 'X' })));
    expect(marked.judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'forwarded' });
    expect(marked.judgement.council?.id).toBe('north-herts');
    expect((await judge(forward(paperText({})))).judgement.verdict).toEqual({ kind: 'not-a-ballot', why: 'from-ballot-address' });
  });

  it('the Date header is used (and said to be) when no receiving server added a Received header; no time at all is unreadable', async () => {
    const f = await read(eml({ body: 'x', received: ['from a by mail.elsewhere.example; Wed, 31 Jan 2024 09:00:00 +0000'] }));
    expect(f.receivedAtSource).toBe('date-header');
    expect(f.receiptNote).toMatch(/no Received header was added by mx\.ccin\.example/);
    const none = await judge(eml({ body: paperText({ alty: 'X' }), received: [], date: 'sometime next week' }));
    expect(none.judgement.verdict).toEqual({ kind: 'rejected', reason: 'unreadable' });
    const noConfig = await read(eml({ body: 'x' }), null);
    expect(noConfig.receivedAtSource).toBe('date-header');
  });

  it('takes the top-most Received header added by a receivedBy host', async () => {
    const f = await read(
      eml({
        body: 'x',
        received: [
          'from localhost by mx.ccin.example (Postfix); Thu, 1 Feb 2024 12:05:00 +0000',
          'from mail.a by mx.ccin.example (Postfix); Thu, 1 Feb 2024 12:04:00 +0000',
          'from forged by mx.ccin.example; Thu, 1 Feb 2024 09:00:00 +0000',
        ],
      }),
    );
    expect(f.receivedAt).toBe('2024-02-01T12:05:00Z');
  });
  it("reads the server's own timestamp, the first after the \";\", whatever a line of the message folded into its header adds after it", async () => {
    // A message that began with a line of white space: it continues the header the server wrote on
    // top, and the last ";" of that header had been read as the time of arrival.
    const raw = eml({ body: 'x', received: ['from mail.a by mx.ccin.example (Postfix) with ESMTPS id 4TQX; Thu, 1 Feb 2024 12:05:00 +0000'] }).toString('latin1');
    const stamp = 'Thu, 1 Feb 2024 12:05:00 +0000';
    for (const tail of ['\t; Thu, 1 Feb 2024 11:00:00 +0000', ' Thu, 1 Feb 2024 11:00:00 +0000', ' (comment; with a semicolon) ; Mon, 1 Jan 2024 09:00:00 +0000']) {
      const f = await read(Buffer.from(raw.replace(stamp, `${stamp}\r\n${tail}`), 'latin1'));
      expect({ tail, at: f.receivedAt, source: f.receivedAtSource }).toEqual({ tail, at: '2024-02-01T12:05:00Z', source: 'received' });
      expect(f.receiptNote).toMatch(/text follows its timestamp .*which is not the server's/);
    }
    // A comment holding a ";" before the stamp is no stamp; a comment after the date is no trailing text.
    const commented = await read(Buffer.from(raw.replace('(Postfix)', '(Postfix; a comment)').replace(stamp, `${stamp} (UTC)`), 'latin1'));
    expect({ at: commented.receivedAt, note: commented.receiptNote }).toEqual({ at: '2024-02-01T12:05:00Z', note: 'Received header 1 (by mx.ccin.example)' });
  });
  it('what the sending side names itself in the header the server writes (its HELO: a ";", a "(", a "by") moves neither the time nor the host, so a forged Received header lower down is never taken for the server\'s', async () => {
    // The server's header (late), with the sender's own Received header below it (before the deadline).
    const forged = 'from x by mx.ccin.example (Postfix); Wed, 31 Jan 2024 09:00:00 +0000';
    for (const helo of ['x;y', 'x;Wed, 31 Jan 2024 09:00:00 +0000', 'x(y', 'x by mx.ccin.example; Wed, 31 Jan 2024 09:00:00 +0000 (y', 'x\\)y', '"x;y"']) {
      const f = await read(eml({ body: 'x', received: [`from ${helo} (unknown [203.0.113.9]) by mx.ccin.example (Postfix) with ESMTP id 4TQX; Fri, 2 Feb 2024 10:00:03 +0000`, forged] }));
      expect({ helo, at: f.receivedAt, source: f.receivedAtSource, note: f.receiptNote?.slice(0, 39) }).toEqual({ helo, at: '2024-02-02T10:00:03Z', source: 'received', note: 'Received header 1 (by mx.ccin.example)' });
    }
  });
  it("a Received header \"by\" the ballot server that the sender wrote, below a stamp the sender wrote too, never makes the stamp the server's", async () => {
    const stamp = 'Authentication-Results: mx.ccin.example; dkim=pass header.d=north-herts.gov.uk';
    const read = (bytes: Buffer) => readMessage(raw(bytes), { receivedBy: ['mx.ccin.example'], trustedAuthservIds: ['mx.ccin.example'], limits: DEFAULT_READ_LIMITS });
    const f = await read(eml({ body: 'x', headers: [stamp, 'Received: from x by mx.ccin.example (Postfix); Wed, 31 Jan 2024 09:00:00 +0000'] }));
    expect(f.authResults.map((a) => [a.trusted, a.why])).toEqual([[false, "it stands below the ballot address's own Received header, so the sender wrote it"]]);
    // Written by the server, on top of its Received header, or between two of its own one after the other, it is trusted.
    const onTop = await read(Buffer.concat([Buffer.from(`${stamp}\r\n`), eml({ body: 'x' })]));
    expect(onTop.authResults.map((a) => a.trusted)).toEqual([true]);
    const between = await read(Buffer.concat([Buffer.from(`Received: from localhost by mx.ccin.example (Postfix); Wed, 31 Jan 2024 10:00:05 +0000\r\n${stamp}\r\n`), eml({ body: 'x' })]));
    expect(between.authResults.map((a) => a.trusted)).toEqual([false]);
  });
});

describe('a message the mail client had deleted, or filed as spam', () => {
  it('is read and judged like any other, with a note: a Thunderbird mbox message expunged but not compacted, a Maildir file flagged T, a Takeout message labelled Spam', async () => {
    const paper = paperText({ williams: 'X' });
    const deletedNote = (f: MessageFacts): string | undefined => f.notes.find((n) => n.includes('marked this message deleted'));
    for (const [status, deleted] of [['0009', true], ['0001', false], ['8000', false], ['000d', true], ['zz', false]] as const) {
      const f = await read(eml({ body: paper, headers: [`X-Mozilla-Status: ${status}`] }));
      expect({ status, note: deletedNote(f) !== undefined }).toEqual({ status, note: deleted });
    }
    const bytes = eml({ body: paper });
    for (const [file, deleted] of [['box/cur/1706003600.M1P4242.ballots:2,ST', true], ['box/cur/1706003600.M1P4242.ballots:2,S', false], ['box/new/1706003600.M1P4242.ballots', false]] as const) {
      const f = await readMessage({ ...raw(bytes), source: { file, kind: 'maildir', index: null, line: null } }, { receivedBy: ['mx.ccin.example'], limits: DEFAULT_READ_LIMITS });
      expect({ file, note: deletedNote(f) !== undefined }).toEqual({ file, note: deleted });
      const j = judgeMessage(f, election, roster);
      expect(j.verdict).toEqual({ kind: 'valid' });
      expect(j.choices).toEqual(['williams']);
    }
    expect(deletedNote(await read(eml({ body: paper, headers: ['X-Mozilla-Status: 0009'] })))).toMatch(/read and judged like any other message .*adjudications file/);
    // A Google Takeout message Gmail had filed as Spam: a council's ballot misfiled still counts.
    const spam = await read(eml({ body: paper, headers: ['X-Gmail-Labels: Spam,Category Updates'] }));
    expect(spam.notes.find((n) => n.startsWith('Gmail had filed this message in Spam'))).toMatch(/read and judged like any other/);
    expect(judgeMessage(spam, election, roster).choices).toEqual(['williams']);
    expect((await read(eml({ body: paper, headers: ['X-Gmail-Labels: Inbox,Ballots'] }))).notes.some((n) => n.includes('Gmail had filed'))).toBe(false);
  });
});

describe('a message sent as text and HTML (multipart/alternative, fixtures/alternative)', () => {
  const fixture = (name: string): Buffer => readFileSync(join(ROOT, 'fixtures', 'alternative', `${name}.eml`));
  const notes = (j: ReturnType<typeof judgeMessage>): string[] => j.findings.filter((x) => x.code === 'note').map((x) => x.detail);

  it('versions that agree: counted, with nothing to say', async () => {
    const { facts, judgement } = await judge(fixture('agree'));
    expect(facts.papers.map((p) => p.origin)).toEqual(['body-text']);
    expect(facts.htmlPapers).toHaveLength(1);
    expect(judgement.verdict).toEqual({ kind: 'valid' });
    expect(judgement.choices).toEqual(['williams']);
    expect(notes(judgement).filter((n) => n.includes('HTML'))).toEqual([]);
  });

  it('an HTML version (what the officer sees) that marks another candidate: void for uncertainty, naming both', async () => {
    const { judgement } = await judge(fixture('disagree'));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(judgement.choices).toEqual([]);
    expect(judgement.findings.find((x) => x.code === 'void-for-uncertainty')?.detail).toBe("the message's HTML version (what a mail client shows) marks alty, and its text version williams");
  });

  it('two HTML versions, the last (what a mail client shows) marking another candidate: void, though the first agrees with the text', async () => {
    const html = (choice: 'williams' | 'alty'): string => paperText({ [choice]: 'X' }).split('\n').map((l) => `<p>${l}</p>`).join('');
    const parts: [string, string][] = [['text/plain', paperText({ williams: 'X' })], ['text/html', html('williams')], ['text/html', html('alty')]];
    const body = [...parts.flatMap(([type, text]) => ['--a', `Content-Type: ${type}; charset=utf-8`, '', text]), '--a--', ''].join('\r\n');
    const { judgement } = await judge(eml({ body, contentType: 'multipart/alternative; boundary="a"' }));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(judgement.findings.find((x) => x.code === 'void-for-uncertainty')?.detail).toBe("the message's HTML version (what a mail client shows) marks alty, and its text version williams");
  });

  it('HTML that hides part of what it holds (display:none) is read as a mail client shows it too: when the two readings differ, no paper in it counts', async () => {
    const html = (text: string): string => text.split('\n').map((l) => `<p>${l}</p>`).join('');
    // Shown: Alty marked, Williams's box empty. Held: an X in Williams's box, and a hidden word that leaves Alty's line no box.
    const shows = html(paperText({}))
      .replace('<p>[ ] Cllr Jason Williams', '<p>[<span style="display: none">X</span> ] Cllr Jason Williams')
      .replace('<p>[ ] Cllr Jacky Alty', '<p><span style="DISPLAY:none">Note: </span>[X] Cllr Jacky Alty');
    const alternative = (htmlPart: string): Buffer => {
      const body = ['--a', 'Content-Type: text/plain; charset=utf-8', '', paperText({ williams: 'X' }), '--a', 'Content-Type: text/html; charset=utf-8', '', htmlPart, '--a--', ''].join('\r\n');
      return eml({ body, contentType: 'multipart/alternative; boundary="a"' });
    };
    // Beside a text version marking Williams: the HTML held agrees with it, the HTML shown does not.
    const beside = await judge(alternative(shows));
    expect(beside.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(beside.judgement.findings.find((x) => x.code === 'void-for-uncertainty')?.detail).toMatch(/HTML version .* marks alty, and its text version williams/);
    // As the body of an HTML-only message: held, it marked Williams.
    const alone = await judge(eml({ body: shows, contentType: 'text/html; charset=utf-8' }));
    expect(alone.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(notes(alone.judgement).join(' ')).toMatch(/hides some of what it holds/);
    // A <template>'s content is never shown either.
    const template = await judge(eml({ body: html(paperText({ williams: 'X' })).replace('<p>[ ] Cllr Jacky Alty', '<template>[X] Cllr Jacky Alty (South Ribble Borough Council)</template><p>[ ] Cllr Jacky Alty'), contentType: 'text/html; charset=utf-8' }));
    expect(template.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    // A hidden preview line (a preheader) changes no paper: counted, nothing said.
    for (const bytes of [alternative(`<div style="display:none">Our ballot</div>${html(paperText({ williams: 'X' }))}`), eml({ body: `<div hidden>Our ballot</div>${html(paperText({ williams: 'X' }))}`, contentType: 'text/html; charset=utf-8' })]) {
      const { judgement } = await judge(bytes);
      expect([judgement.verdict, judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
    }
  });

  it('HTML whose stylesheet hides a mark or writes one in, or whose conditional comments show Outlook another paper: no paper in it counts; an Outlook-styled paper counts', async () => {
    const html = (text: string): string => text.split('\n').map((l) => `<p class="MsoNormal">${l}</p>`).join('\n');
    const outlookStyle = '<style><!--\n/* Font Definitions */\n@font-face {font-family:"Cambria Math";}\np.MsoNormal, li.MsoNormal {margin:0cm; font-size:11.0pt; font-family:"Calibri",sans-serif;}\nspan.EmailStyle17 {mso-style-type:personal-compose;}\n.MsoChpDefault {mso-style-type:export-only;}\n@page WordSection1 {size:612.0pt 792.0pt;}\ndiv.WordSection1 {page:WordSection1;}\n--></style><!--[if gte mso 9]><xml>\n<o:shapedefaults v:ext="edit" spidmax="1026" />\n</xml><![endif]-->';
    const htmlOnly = (body: string): Buffer => eml({ body, contentType: 'text/html; charset=utf-8' });
    const alternative = (htmlPart: string): Buffer => {
      const body = ['--a', 'Content-Type: text/plain; charset=utf-8', '', paperText({ williams: 'X' }), '--a', 'Content-Type: text/html; charset=utf-8', '', htmlPart, '--a--', ''].join('\r\n');
      return eml({ body, contentType: 'multipart/alternative; boundary="a"' });
    };
    const williams = html(paperText({ williams: 'X' }));
    const marked = (how: string): string => williams.replace('[X] Cllr Jason Williams', `[<span class="k">X</span>] Cllr Jason Williams`).replace('[ ] Cllr Jacky Alty', `[${how}] Cllr Jacky Alty`);
    const cases: [string, string][] = [
      // The X in Williams's box hidden by a class; Alty's box holds a tick written by a rule.
      ['a class hidden by the stylesheet', `<style>.k {display:none}</style>${williams.replace('[X] Cllr Jason Williams', '[<span class="k">X</span>] Cllr Jason Williams').replace('[ ] Cllr Jacky Alty', '[<span class="k">.</span>X] Cllr Jacky Alty')}`],
      ['a descendant selector of zero font size, in @media', `<style>@media screen { div.w p span.k {font-size:0px} }</style><div class="w">${marked('<span class="k">.</span>X')}</div>`],
      ['a tick written by ::after', `<style>.k {color: rgba(0,0,0,0)} .t::after {content:"\\2713"}</style>${marked('<span class="t"></span>')}`],
    ];
    for (const [what, body] of cases) {
      for (const bytes of [htmlOnly(outlookStyle + body), alternative(outlookStyle + body)]) {
        const { judgement } = await judge(bytes);
        expect([what, judgement.verdict]).toEqual([what, { kind: 'rejected', reason: 'void-for-uncertainty' }]);
      }
    }
    // Outlook's Word engine shows what <!--[if mso]> holds, and not what <!--[if !mso]><!--> holds.
    const conditional = williams
      .replace('[X] Cllr Jason Williams', '[<!--[if !mso]><!-->X<!--<![endif]--><!--[if mso]> <![endif]-->] Cllr Jason Williams')
      .replace('[ ] Cllr Jacky Alty', '[<!--[if mso]>X<![endif]--><!--[if !mso]><!--> <!--<![endif]-->] Cllr Jacky Alty');
    // A ticked checkbox (which a conversion to text leaves out) beside Alty, in an HTML-only body that
    // also marks Williams: the body is read as every client shows it, two marks for one vacancy.
    const ticked = await judge(htmlOnly(williams.replace('[ ] Cllr Jacky Alty', '<input type="checkbox" checked> Cllr Jacky Alty')));
    expect(ticked.judgement.verdict).toEqual({ kind: 'rejected', reason: 'overvote' });
    expect(notes(ticked.judgement).join(' ')).not.toMatch(/leaves out \(a form control/);
    // Alone, a ticked checkbox (or radio button) in an HTML-only body is the vote every client shows.
    for (const control of ['checkbox', 'radio']) {
      const only = await judge(htmlOnly(paperText({}).split('\n').map((l) => `<div>${l.replace('&', '&amp;').replace('[ ] Cllr Jacky Alty', `<input type="${control}" checked> Cllr Jacky Alty`).replace(/^\[ \] /, `<input type="${control}"> `)}</div>`).join('')));
      expect([only.judgement.verdict, only.judgement.choices], control).toEqual([{ kind: 'valid' }, ['alty']]);
    }
    // Shown right to left by an override, brackets mirrored: "…rllC [X]" is stored, "[X] Cllr …" is shown (the "Trojan Source" trick, by markup).
    const reversed = await judge(htmlOnly(williams.replace('[X] Cllr Jason Williams (Westminster City Council)', '<bdo dir="rtl">(licnuoC ytiC retsnimtseW) smailliW nosaJ rllC [X]</bdo>')));
    expect(reversed.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
        const outlook = await judge(htmlOnly(conditional));
    expect(outlook.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(notes(outlook.judgement).join(' ')).toMatch(/as Outlook shows it, hides some of what it holds, writes in what it does not/);
    // `inspect` shows the officer each reading: what the machine read, and what a mail client shows.
    const officer = await readForOfficer(raw(htmlOnly(`<style>.k {display:none}</style>${marked('X')}`)), DEFAULT_READ_LIMITS);
    expect('own' in officer && officer.own).toMatch(/\[X\] Cllr Jason Williams/);
    expect('own' in officer && officer.shown.map((v) => [v.client, /\[\] Cllr Jason Williams/.test(v.text ?? ''), /\[X\] Cllr Jacky Alty/.test(v.text ?? '')])).toEqual([['a mail client', true, true]]);
    // A page title naming the paper (which html-to-text writes, and no client shows) changes no paper: counted.
    const titled = await judge(htmlOnly(`<title>CCIN BALLOT PAPER</title>${williams}`));
    expect([titled.judgement.verdict, titled.judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
    // An Outlook-styled paper, with a hidden preview line and a rule for links under a pointer: counted, nothing said.
    for (const bytes of [htmlOnly(`${outlookStyle}<style>.pre {display:none !important; max-height:0; overflow:hidden} a:hover {display:none}</style><div class="pre">Our ballot</div><div class="WordSection1">${williams}</div>`), alternative(`${outlookStyle}<div class="WordSection1">${williams}</div>`)]) {
      const { judgement } = await judge(bytes);
      expect([judgement.verdict, judgement.choices, notes(judgement).filter((n) => /HTML/.test(n))]).toEqual([{ kind: 'valid' }, ['williams'], []]);
    }
  });

  it('a blank text version: the HTML version is the body', async () => {
    const { facts, judgement } = await judge(fixture('blank-text'));
    expect(facts.papers.map((p) => p.origin)).toEqual(['body-html']);
    expect(facts.htmlPapers).toBeNull();
    expect(judgement.choices).toEqual(['williams']);
    const view = await readForOfficer(raw(fixture('blank-text')), DEFAULT_READ_LIMITS);
    expect('own' in view && view.own).toContain('[X] Cllr Jason Williams');
    expect('html' in view && view.html).toBeNull();
  });

  it('a paper laid out as a table in the HTML version is read a row a line: it agrees with the text version, or the paper is void naming both', async () => {
    const agree = await judge(fixture('table-html-agree'));
    expect([agree.judgement.verdict, agree.judgement.choices, notes(agree.judgement).filter((n) => /HTML/.test(n))]).toEqual([{ kind: 'valid' }, ['williams'], []]);
    expect(agree.facts.htmlPapers?.flatMap((p) => p.boxes.map((b) => b.mark))).toEqual(['☐', '☒', '☐']);
    // Before, the cells ran together ("☒Cllr Jacky Alty"): the HTML was "not read with certainty", and
    // the text version counted though the officer's mail client showed Alty marked.
    const { judgement } = await judge(fixture('table-html'));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(judgement.findings.find((x) => x.code === 'void-for-uncertainty')?.detail).toBe("the message's HTML version (what a mail client shows) marks alty, and its text version williams");
    // inspect shows the officer both versions, as read.
    const view = await readForOfficer(raw(fixture('table-html')), DEFAULT_READ_LIMITS);
    expect('html' in view && view.html).toContain('☒ Cllr Jacky Alty');
    expect('own' in view && view.own).toContain('[X] Cllr Jason Williams');
  });

  it('a message with no text version: the HTML is the body beside the logo its signature shows, or beside a file, and a table in it reads a row a line; HTML after a text part, no version of it, is more of the body', async () => {
    // mailparser converts only an HTML part at the message's root: before, the HTML beside a logo
    // (multipart/related) was no paper at all, and a table paper in an HTML-only message was void.
    const table = await judge(fixture('html-only-table'));
    expect(table.facts.papers.map((p) => p.origin)).toEqual(['body-html']);
    expect(table.facts.htmlPapers).toBeNull();
    expect([table.judgement.verdict, table.judgement.choices]).toEqual([{ kind: 'valid' }, ['alty']]);
    const attached = await judge(fixture('html-only-attachment'));
    expect(attached.facts.papers.map((p) => p.origin)).toEqual(['body-html']);
    expect([attached.judgement.verdict, attached.judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
    expect(notes(attached.judgement).join('\n')).toContain('photo.png');
    // A cross in a cell spanning two candidates' rows is beside both, as whoever opens the message sees: two marks for one vacancy.
    const rows = (mark: string) => `<tr><td>${mark}</td><td>Cllr Alistair Willoughby (North Hertfordshire District Council)</td></tr><tr><td rowspan="2">X</td><td>Cllr Jason Williams (Westminster City Council)</td></tr><tr><td>Cllr Jacky Alty (South Ribble Borough Council)</td></tr>`;
    const spanning = paperText({}).split('\n').filter((l) => !l.startsWith('[')).map((l) => `<p>${l.replace('&', '&amp;')}</p>`);
    const spanned = await judge(eml({ contentType: 'text/html; charset=utf-8', body: [...spanning.slice(0, 6), `<table>${rows('&#9744;')}</table>`, ...spanning.slice(6)].join('') }));
    expect(spanned.judgement.verdict).toEqual({ kind: 'rejected', reason: 'overvote' });
    // A text part and an HTML part after it, not versions of each other (multipart/mixed): both are
    // the body. mailparser wrote the HTML's table run together into its text, and the paper was void.
    const mixed = await judge(fixture('mixed-note-and-html'));
    expect([mixed.judgement.verdict, mixed.judgement.choices, mixed.facts.papers.map((p) => p.origin), mixed.facts.htmlPapers]).toEqual([{ kind: 'valid' }, ['alty'], ['body-html'], null]);
    // Such an HTML part that cannot be read (nested past the limit) leaves the text part read, with a note.
    const deep = eml({ contentType: 'multipart/mixed; boundary="b"', body: ['--b', 'Content-Type: text/plain; charset=utf-8', '', paperText({ alty: 'X' }), '--b', 'Content-Type: text/html; charset=utf-8', '', `${'<b>'.repeat(1200)}footer`, '--b--', ''].join('\r\n') });
    const deepJudged = await judge(deep);
    expect([deepJudged.judgement.verdict, deepJudged.judgement.choices]).toEqual([{ kind: 'valid' }, ['alty']]);
    expect(notes(deepJudged.judgement)).toContain("the message's HTML part could not be read (HTML nested deeper than 1000 levels): only its text part was");
    const mixedView = await readForOfficer(raw(fixture('mixed-note-and-html')), DEFAULT_READ_LIMITS);
    expect('own' in mixedView && [mixedView.own.includes('Our ballot paper follows.'), mixedView.own.includes('☒ Cllr Jacky Alty'), mixedView.html]).toEqual([true, true, null]);
    for (const name of ['html-only-table', 'html-only-attachment']) {
      const view = await readForOfficer(raw(fixture(name)), DEFAULT_READ_LIMITS);
      expect('own' in view && view.own, name).toContain('Name: Cllr Elliot Kirkland');
      expect('html' in view && view.html, name).toBeNull();
    }
  });

  it('an HTML version whose mark is a checked checkbox (which html-to-text leaves out) is read as every mail client shows it: it agrees with the text version, and nothing is said', async () => {
    const { facts, judgement } = await judge(fixture('html-mark-lost'));
    expect([judgement.verdict, judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
    expect(facts.htmlPapers?.flatMap((p) => p.boxes.map((b) => b.mark))).toEqual(['☐', '☑', '☐']);
    expect(notes(judgement).filter((n) => /HTML/.test(n))).toEqual([]);
  });

  it('an HTML version that shows no mark where the text version has one: the text version counts, with a note', async () => {
    const body = ['--a', 'Content-Type: text/plain; charset=utf-8', '', paperText({ williams: 'X' }), '--a', 'Content-Type: text/html; charset=utf-8', '', paperText({}).split('\n').map((l) => `<div>${l}</div>`).join(''), '--a--', ''].join('\r\n');
    const { judgement } = await judge(eml({ body, contentType: 'multipart/alternative; boundary="a"' }));
    expect([judgement.verdict, judgement.choices]).toEqual([{ kind: 'valid', compareHtml: true }, ['williams']]);
    expect(notes(judgement)).toContain("the message's HTML version (what a mail client shows) shows no candidate marked, and its text version marks williams: the marks counted are those; compare them by eye");
  });

  it.each(['text/enriched', 'text/richtext', 'text/watch-html', 'text/x-amp-html'])('another version of the body in %s (which some mail clients show instead) is read: one that marks otherwise voids the paper, one that agrees does not', async (type) => {
    const version = (marks: Parameters<typeof paperText>[0]): string => {
      const lines = paperText(marks).split('\n');
      if (type === 'text/enriched') return lines.map((l) => l.replace(/</g, '<<').replace('[X]', '[<bold>X</bold>]')).join('\r\n\r\n');
      if (type === 'text/richtext') return lines.map((l) => l.replace(/</g, '<lt>').replace('[X]', '[<bold>X</bold>]')).join('<nl>\r\n');
      return lines.map((l) => `<p>${l.replace(/&/g, '&amp;')}</p>`).join('');
    };
    const message = (other: Parameters<typeof paperText>[0]): Buffer =>
      eml({
        body: ['--a', 'Content-Type: text/plain; charset=utf-8', '', paperText({ williams: 'X' }), '--a', `Content-Type: ${type}; charset=utf-8`, '', version(other), '--a--', ''].join('\r\n'),
        contentType: 'multipart/alternative; boundary="a"',
      });
    const other = await judge(message({ alty: 'X' }));
    expect(other.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(other.facts.attachments[0]).toMatchObject({ contentType: type, handling: 'read-as-text' });
    const same = await judge(message({ williams: 'X' }));
    expect([same.judgement.verdict, same.judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
  });
  it('an HTML file attached (a form saved as a web page) is read as a browser shows it: its paper counts, beside the body\'s must agree, and one shown otherwise goes to the officer', async () => {
    const asHtml = (marks: Parameters<typeof paperText>[0], style = ''): string =>
      `<html><body>${paperText(marks).split('\n').map((l) => `<p>${l.replace('[X]', `[<span${style}>X</span>]`)}</p>`).join('')}</body></html>`;
    const message = (note: string, html: string): Buffer =>
      eml({
        body: ['--m', 'Content-Type: text/plain; charset=utf-8', '', note, '--m', 'Content-Type: text/html; charset=utf-8', 'Content-Disposition: attachment; filename="ballot.html"', '', html, '--m--', ''].join('\r\n'),
        contentType: 'multipart/mixed; boundary="m"',
      });
    const alone = await judge(message('Our ballot paper is attached.', asHtml({ alty: 'X' })));
    expect([alone.judgement.verdict, alone.judgement.choices]).toEqual([{ kind: 'valid' }, ['alty']]);
    expect(alone.facts.attachments[0]).toMatchObject({ handling: 'read-as-text' });
    const both = await judge(message(paperText({ williams: 'X' }), asHtml({ alty: 'X' })));
    expect(both.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    // The X hidden by a style: a browser shows the box empty, so the file is left to the officer.
    const hidden = await judge(message('Our ballot paper is attached.', asHtml({ alty: 'X' }, ' style="display:none"')));
    expect(hidden.facts.attachments[0]).toMatchObject({ handling: 'not-read', note: expect.stringMatching(/^an HTML file whose paper cannot be read with certainty: a mail client shows it otherwise/) });
    expect(hidden.judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'unreadable-attachment' });
    // Each is charged at its length before it is converted: past the message's text budget, the rest are unreadable unread.
    const big = `<p>${'<b></b>'.repeat(115_000)}</p>`;
    const many = eml({
      body: ['--m', 'Content-Type: text/plain; charset=utf-8', '', paperText({ williams: 'X' }), ...[1, 2, 3].flatMap((i) => ['--m', 'Content-Type: text/html; charset=utf-8', `Content-Disposition: attachment; filename="notes-${i}.html"`, '', big]), '--m--', ''].join('\r\n'),
      contentType: 'multipart/mixed; boundary="m"',
    });
    const charged = await judge(many);
    expect(charged.facts.attachments.map((a) => a.handling)).toEqual(['read-as-text', 'read-as-text', 'unreadable']);
    expect([charged.judgement.verdict, charged.judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
  });
  it('an Apple Watch version of the body that a mail client shows otherwise than it holds goes to the officer, as an HTML file attached does', async () => {
    const watch = paperText({ williams: 'X' }).split('\n').map((l) => `<p>${l.replace('[X]', '[<span style="display:none">X</span>]')}</p>`).join('');
    const body = ['--a', 'Content-Type: text/plain; charset=utf-8', '', 'Our ballot is in the other version.', '--a', 'Content-Type: text/watch-html; charset=utf-8', '', watch, '--a--', ''].join('\r\n');
    const r = await judge(eml({ body, contentType: 'multipart/alternative; boundary="a"' }));
    expect(r.facts.attachments[0]).toMatchObject({ handling: 'not-read', note: expect.stringMatching(/^another version of the message's body \(text\/watch-html\).* whose paper cannot be read with certainty: a mail client shows it otherwise/) });
    expect(r.judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'unreadable-attachment' });
  });
  it('reads text/enriched and text/richtext as a mail client draws them: commands out, escapes in, their own line breaks', async () => {
    const { enrichedAsText, richtextAsText } = await import('../src/read/enriched.js');
    expect(enrichedAsText('<bold>[X]</bold> Cllr\r\nJacky Alty\r\n\r\n<<x> <color><param>red</param>A</color>\n\n\nB')).toBe('[X] Cllr Jacky Alty\n<x> A\n\nB');
    expect(richtextAsText('[ ] A<nl>\r\n[<bold>X</bold>] B<lt>C<np>D')).toBe('[ ] A\n [X] B<C\nD');
    // A parameter in any case is no text; one never closed runs to the end.
    expect(enrichedAsText('a<param>x</param>b<PARAM>y</Param>c<param>z')).toBe('abc');
  });
  it('a paper only in the HTML version: to the officer, who is told where it is', async () => {
    const { judgement } = await judge(fixture('paper-only-in-html'));
    expect(judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'no-ballot-paper' });
    expect(notes(judgement)).toContain('the HTML version of the message (what a mail client shows) holds a ballot paper that its text version does not: read it by eye (inspect)');
  });

  it('a paper in an attachment: set against a paper the HTML version of the body shows; a covering note in both versions says nothing', async () => {
    const disagree = await judge(fixture('attachment-and-html-disagree'));
    expect(disagree.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(disagree.judgement.findings.find((x) => x.code === 'void-for-uncertainty')?.detail).toBe(
      "the message's HTML version (what a mail client shows) marks alty, and the paper in attachment:ballot.txt williams",
    );
    const covering = await judge(fixture('covering-note'));
    expect(covering.judgement.verdict).toEqual({ kind: 'valid' });
    expect(covering.judgement.choices).toEqual(['williams']);
    expect(notes(covering.judgement).filter((n) => n.includes('HTML'))).toEqual([]);
  });

  it("a mail system's banner ([EXTERNAL] …) in both versions is no paper in either", async () => {
    const { facts, judgement } = await judge(fixture('banner-both'));
    expect(facts.htmlPapers).toHaveLength(2); // the banner's line and the paper, as found; the judge sets the banner aside
    expect(judgement.verdict).toEqual({ kind: 'valid' });
    expect(notes(judgement).filter((n) => n.includes('HTML'))).toEqual([]);
  });

  it('an HTML version over the limits is noted, never a crash, and the text version counts', async () => {
    const alternative = (html: string): Buffer =>
      eml({
        contentType: 'multipart/alternative; boundary="alt"',
        body: ['--alt', 'Content-Type: text/plain; charset=utf-8', '', paperText({ alty: 'X' }), '--alt', 'Content-Type: text/html; charset=utf-8', '', html, '--alt--', ''].join('\r\n'),
      });
    for (const [html, why] of [
      ['<b>'.repeat(5000) + 'x', /nested deeper/],
      ['<p>' + 'x'.repeat(2_100_000) + '</p>', /too long/],
    ] as const) {
      const { facts, judgement } = await judge(alternative(html));
      expect(facts.notes.join(' ')).toMatch(why);
      expect(facts.htmlPapers).toBeNull();
      expect(judgement.choices).toEqual(['alty']);
    }
  });
});

describe('bad and hostile messages become rows, never crashes', () => {
  const hostile: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['binary noise', Buffer.from(createHash('sha512').update('x').digest())],
    ['NUL bytes', Buffer.from('From: a@b\r\n\r\n\u0000\u0000\u0000')],
    ['truncated multipart', eml({ body: '--x\r\nContent-Type: text/plain\r\n\r\nhalf', contentType: 'multipart/mixed; boundary="x"' })],
    ['unknown charset', eml({ body: paperText({ alty: 'X' }), contentType: 'text/plain; charset=x-klingon' })],
    ['bad base64', eml({ body: '!!!!not base64!!!!', headers: ['Content-Transfer-Encoding: base64'] })],
    ['deeply nested multiparts', eml({ body: Array.from({ length: 150 }, (_, i) => `--n${i}\r\nContent-Type: multipart/mixed; boundary="n${i + 1}"\r\n\r\n`).join(''), contentType: 'multipart/mixed; boundary="n0"' })],
    ['a huge header', Buffer.concat([Buffer.from('Subject: '), Buffer.alloc(3_000_000, 97), Buffer.from('\r\nFrom: a@b\r\n\r\nbody')])],
    ['escape sequences in headers', eml({ from: '"\u001b[2J\u001b[31mEvil" <leader@north-herts.gov.uk>', subject: '\u001b]0;pwned\u0007', body: paperText({ alty: 'X' }) })],
    ['a body line 5 MB long', eml({ body: 'x'.repeat(5_000_000) })],
    // Lines shaped to make a backtracking pattern take quadratic time.
    ...['a[ ', 'a ', 'Name: ', 'On ', 'From: ', '[ ] a'].map((p): [string, Buffer] => [`2,000 lines of "${p}"`, eml({ body: Array(2000).fill(p.repeat(200).slice(0, 499)).join('\n') })]),
  ];
  it.each(hostile)('%s', async (_name, bytes) => {
    const f = await read(bytes);
    const j = judgeMessage(f, election, roster);
    expect(['rejected', 'not-a-ballot', 'needs-adjudication', 'valid']).toContain(j.verdict.kind);
  });
  it(`a message of more than ${MAX_MESSAGE_LINES} lines is unreadable before it is parsed, and says so; at the limit it is read`, async () => {
    // A line to a line feed is what a MIME parser takes at a time: 12 million of them took 29 s and 2.7 GB.
    const paper = eml({ body: paperText({ alty: 'X' }) });
    const lineFeeds = paper.toString('latin1').split('\n').length - 1;
    const padded = (lines: number): Buffer => Buffer.concat([paper, Buffer.alloc(lines - lineFeeds, 0x0a)]);
    const over = await judge(padded(MAX_MESSAGE_LINES + 1));
    expect(over.facts.unreadable).toBe(`message has more than ${MAX_MESSAGE_LINES} lines, over the limit (a MIME parser reads a message a line at a time)`);
    expect(over.judgement.verdict).toEqual({ kind: 'rejected', reason: 'unreadable' });
    expect(await readForOfficer(raw(padded(MAX_MESSAGE_LINES + 1)), DEFAULT_READ_LIMITS)).toEqual({ unreadable: over.facts.unreadable });
    const at = await judge(padded(MAX_MESSAGE_LINES));
    expect(at.facts.unreadable).toBeNull();
    expect(at.judgement.choices).toEqual(['alty']);
  });

  it(`text past ${MAX_TEXT_CHARS} characters in one message is not read for papers, and says so`, async () => {
    const long = ('x'.repeat(999) + '\n').repeat(MAX_TEXT_CHARS / 1000 + 1);
    // The body: the message is unreadable (what is past the limit may be a paper).
    const body = await judge(eml({ body: paperText({ alty: 'X' }) + long }));
    expect(body.facts.unreadable).toMatch(/^its body is 2001\d{3} characters of text, over the 2000000 read for ballot papers in one message/);
    expect(body.judgement.verdict).toEqual({ kind: 'rejected', reason: 'unreadable' });
    // Alike but for the text not read: not the same message (duplicate copies are found by identity).
    const other = await read(eml({ body: paperText({ alty: 'X' }) + long.replace(/x\n$/, 'y\n') }));
    expect(other.identity).not.toBe(body.facts.identity);
    // A text attachment past what the body left is not read, and the paper in the body counts.
    const mixed = (part: string[]): Buffer =>
      eml({ contentType: 'multipart/mixed; boundary="m"', body: ['--m', 'Content-Type: text/plain; charset=utf-8', '', paperText({ williams: 'X' }), '--m', ...part, '--m--', ''].join('\r\n') });
    const attached = await judge(mixed(['Content-Type: text/plain; charset=utf-8', 'Content-Disposition: attachment; filename="minutes.txt"', '', long]));
    expect(attached.facts.attachments.map((a) => [a.filename, a.handling, a.note])).toEqual([
      ['minutes.txt', 'unreadable', expect.stringMatching(/^the attachment is 2001\d{3} characters of text, over the 2000000/)],
    ]);
    expect(attached.judgement.choices).toEqual(['williams']);
    expect(attached.judgement.findings.map((x) => x.detail).join(' ')).toMatch(/attachments not read by machine \(the paper above was\): minutes\.txt/);
    // A forwarded message's body counts against the same budget: not read, and said of the attachment.
    const forwarded = await judge(mixed(['Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="fwd.eml"', '', eml({ body: paperText({ alty: 'X' }) + long }).toString('utf8')]));
    expect(forwarded.facts.attachments.map((a) => [a.handling, a.note])).toEqual([['unreadable', expect.stringMatching(/^the forwarded message's body is 2001\d{3} characters of text, over the 2000000/)]]);
    expect(forwarded.facts.forwarded).toEqual([]);
    expect(forwarded.judgement.choices).toEqual(['williams']);
  });

  it('too many MIME parts is unreadable, and says which limit', async () => {
    const parts = Array.from({ length: 300 }, (_, i) => `--z\r\nContent-Type: text/plain\r\n\r\n${i}\r\n`).join('') + '--z--';
    const f = await read(eml({ body: parts, contentType: 'multipart/mixed; boundary="z"' }));
    expect(f.unreadable).toMatch(/MIME parts, over the limit of 200/);
  });
});

describe('the text/plain scan on the bytes', () => {
  // The pattern it replaces, over the message read as Latin-1.
  const byPattern = (bytes: Buffer): boolean => {
    const latin = bytes.toString('latin1');
    return /^content-type:\s*text\/plain/im.test(latin) || !/^content-type:/im.test(latin);
  };
  const pieces = ['Content-Type:', 'content-type:', 'CONTENT-TYPE:', 'Content-Typ', 'ontent-type:', ':', ' ', '\t', '\r', '\n', '\r\n ', '\u000b', '\u00a0', '\u0085', 'text/plain', 'TEXT/Plain', 'text/plai', 'text/html', 'x', 'é', 'K'];
  it('says what /^content-type:\\s*text\\/plain/im (or no Content-Type line) says, on generated headers', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), (parts) => {
        const bytes = Buffer.from(parts.join(''), 'latin1');
        expect(hasTextPlain(bytes)).toBe(byPattern(bytes));
      }),
      { seed: 8, numRuns: 3000 },
    );
  });
  it('on the bundled example\'s messages', async () => {
    for await (const m of walkSources([MAILBOX], DEFAULT_LIMITS).messages) expect(hasTextPlain(m.bytes)).toBe(byPattern(m.bytes));
  });
  it('and the multipart/alternative scan says what /^content-type:\\s*multipart\\/alternative/im says', () => {
    const alternative = ['multipart/alternative', 'Multipart/Alternative', 'multipart/alternativ', 'multipart/mixed'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces, ...alternative), { maxLength: 40 }), (parts) => {
        const bytes = Buffer.from(parts.join(''), 'latin1');
        expect(hasAlternative(bytes)).toBe(/^content-type:\s*multipart\/alternative/im.test(bytes.toString('latin1')));
      }),
      { seed: 9, numRuns: 3000 },
    );
  });
});
