/**
 * Who sent a message, and whether its paper is the issued one: each forgery SECURITY.md names, as a
 * message read and judged (issue 7). The count-level cases (an unsigned paper against a signed one)
 * are in count.test.ts, example.test.ts and properties.test.ts.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { describe, expect, it } from 'vitest';
import { runCount } from '../src/cli/pipeline.js';
import { KEY_NOT_LOOKED_UP } from '../src/read/dkim.js';
import { parseElection } from '../src/inputs/election.js';
import { sha256Hex } from '../src/inputs/files.js';
import { councilForAddress, lookalikeOf, parseRoster } from '../src/inputs/roster.js';
import { judgeMessage } from '../src/judge/judge.js';
import { isNameShaped, matchCandidate, readPaperMarks } from '../src/judge/marks.js';
import { readAddress, showAddress } from '../src/model/address.js';
import { findPapers } from '../src/read/paper.js';
import { DEFAULT_READ_LIMITS, readMessage } from '../src/read/message.js';
import { safeAddress } from '../src/report/sanitize.js';
import { ELECTION, EXAMPLE, KEYS, MAILBOX, ROSTER, eml, paperText, tempDir } from './helpers.js';

const election = parseElection({ name: 'e', path: ELECTION, bytes: readFileSync(ELECTION), sha256: '' });
const roster = parseRoster({ name: 'r', path: ROSTER, bytes: readFileSync(ROSTER), sha256: '' });

async function judge(bytes: Buffer) {
  const facts = await readMessage(
    { source: { file: 't.eml', kind: 'eml', index: null, line: null }, bytes, size: bytes.length, sha256: sha256Hex(bytes), oversize: false },
    { receivedBy: ['mx.ccin.example'], limits: DEFAULT_READ_LIMITS },
  );
  return { facts, judgement: judgeMessage(facts, election, roster) };
}
const paper = paperText({ williams: 'X' });
const notes = (j: Awaited<ReturnType<typeof judge>>['judgement']): string => j.findings.map((f) => f.detail).join('\n');

describe('one sender or none', () => {
  it('two From headers, the council first or second: ambiguous-sender, attributed to nobody', async () => {
    for (const order of [0, 1]) {
      const stranger = 'From: Helper <helper@mailer.example>';
      const bytes = eml({ body: paper, headers: order === 0 ? [stranger] : [] });
      const text = order === 0 ? bytes : Buffer.from(bytes.toString('utf8').replace('From: ', `${stranger}\r\nFrom: `), 'utf8');
      const { facts, judgement } = await judge(text);
      expect(facts.fromHeaders).toBe(2);
      expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'ambiguous-sender' });
      expect(judgement.council).toBeNull();
      expect(notes(judgement)).toMatch(/leader@north-herts\.gov\.uk \(north-herts\)/);
    }
  });

  it('one From header with two addresses, or a group of two: ambiguous-sender', async () => {
    for (const from of ['leader@north-herts.gov.uk, someone@attacker.example', 'Council: leader@north-herts.gov.uk, other@north-herts.gov.uk;']) {
      const { judgement } = await judge(eml({ from, body: paper }));
      expect({ from, v: judgement.verdict }).toEqual({ from, v: { kind: 'rejected', reason: 'ambiguous-sender' } });
    }
  });

  it('a From header of thousands of addresses is ambiguous-sender, its evidence kept short', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `x${i}@evil.example`).join(', ');
    const { judgement } = await judge(eml({ from: `leader@north-herts.gov.uk, ${many}`, body: paper }));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'ambiguous-sender' });
    const detail = judgement.findings.find((f) => f.code === 'ambiguous-sender')!.detail;
    expect(detail).toMatch(/naming 3001 address\(es\): leader@north-herts\.gov\.uk \(north-herts\).* and 2991 more/);
    expect(detail.length).toBeLessThan(1000);
  });

  it('two From headers and no paper, one of them an eligible council: still ambiguous-sender, not a quiet not-a-ballot', async () => {
    const { judgement } = await judge(eml({ body: 'We vote for Cllr Jason Williams.', headers: ['From: x@attacker.example'] }));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'ambiguous-sender' });
  });

  it('a display name that is a council address never makes the message the council’s', async () => {
    const { judgement } = await judge(eml({ from: '"leader@north-herts.gov.uk" <someone@attacker.example>', body: paper }));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'unknown-sender' });
    expect(notes(judgement)).toMatch(/display name "leader@north-herts\.gov\.uk" looks like an address of north-herts/);
  });

  it('an address written inside an encoded word (which mail servers and DMARC do not read as the council’s) names no sender', async () => {
    for (const from of ['Leader <=?utf-8?q?leader=40north-herts.gov.uk?=>', '=?utf-8?b?bGVhZGVyQG5vcnRoLWhlcnRzLmdvdi51aw==?=', 'Leader <=?utf-8?q?leader?=@north-herts.gov.uk>']) {
      const { facts, judgement } = await judge(eml({ from, body: paper }));
      expect(facts.from, from).toBeNull();
      expect(judgement.council, from).toBeNull();
      expect(judgement.verdict, from).toEqual({ kind: 'rejected', reason: 'unknown-sender' });
    }
    const { judgement } = await judge(eml({ from: 'Leader <=?utf-8?q?leader=40north-herts.gov.uk?=>', body: paper }));
    expect(notes(judgement)).toContain('is not written in the From header as an address (it was decoded from an encoded word');
    // The same address written plainly, with an encoded display name, in capitals, or with spaces round the "@", is the council's.
    for (const from of ['=?utf-8?q?Cllr_Elliot_K=C3=AFrkland?= <leader@north-herts.gov.uk>', 'LEADER@NORTH-HERTS.GOV.UK', 'Leader <leader @ north-herts.gov.uk>']) {
      const { judgement: j } = await judge(eml({ from, body: paper }));
      expect(j.council?.id, from).toBe('north-herts');
    }
  });

  it('a From header that is not one mailbox as RFC 5322 writes it (parsers part ways over it) names no sender', async () => {
    for (const from of [
      '<leader@north-herts.gov.uk>@attacker.example',
      'Leader <leader@north-herts.gov.uk attacker@attacker.example>',
      'Leader <@attacker.example:leader@north-herts.gov.uk>',
      '"Leader" <leader@north-herts.gov.uk> <attacker@attacker.example>',
      'Leader <leader@north-herts.gov.uk',
      'Leader (unclosed <leader@north-herts.gov.uk>',
    ]) {
      const { facts, judgement } = await judge(eml({ from, body: paper }));
      expect(facts.from, from).toBeNull();
      expect(judgement.council, from).toBeNull();
      expect(judgement.verdict.kind, from).toBe('rejected');
    }
    const { judgement } = await judge(eml({ from: '<leader@north-herts.gov.uk>@attacker.example', body: paper }));
    expect(notes(judgement)).toContain('the From header is not one mailbox as RFC 5322 writes it (text follows the address\'s closing ">" ("@attacker.example"))');
    // Written as RFC 5322 allows: a comment, a quoted display name holding specials, a group of one, white space round the "@".
    for (const from of [
      'leader@north-herts.gov.uk (Cllr Elliot Kirkland)',
      '"Kirkland, Elliot <Leader>" <leader@north-herts.gov.uk>',
      'Cllr Elliot Kirkland <leader@north-herts.gov.uk> (via the Leader\'s office)',
      'Leader\'s Office: Cllr Elliot Kirkland <leader@north-herts.gov.uk>;',
      'Leader <leader @ north-herts.gov.uk>',
      '=?utf-8?q?Cllr_Elliot_K=C3=AFrkland?= <LEADER@north-herts.gov.uk>',
      '"Elliot \\"E>\\" Kirkland" <leader@north-herts.gov.uk> (Leader (North Herts) \\) <x@y>)',
    ]) {
      const { judgement: j } = await judge(eml({ from, body: paper }));
      expect(j.council?.id, from).toBe('north-herts');
    }
  });

  it('a display name of 200,000 characters is read in one pass', async () => {
    const { judgement } = await judge(eml({ from: `"${'a'.repeat(200_000)}" <someone@attacker.example>`, body: paper }));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'unknown-sender' });
  });

  it('Sender: and Reply-To: are recorded and never decide', async () => {
    const { judgement } = await judge(eml({ from: 'Someone <someone@attacker.example>', body: paper, headers: ['Sender: leader@north-herts.gov.uk', 'Reply-To: leader@north-herts.gov.uk'] }));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'unknown-sender' });
    expect(notes(judgement)).toMatch(/Sender: leader@north-herts\.gov\.uk differs from From; it is recorded, never used/);
    expect(notes(judgement)).toMatch(/Reply-To: .* never used/);
    // And the other way round: a council's From with a stranger's Sender is the council's (DKIM decides whether it is proved).
    const own = await judge(eml({ body: paper, headers: ['Sender: bulk@mailer.example'] }));
    expect(own.judgement.council?.id).toBe('north-herts');
  });

  it('a message re-sent by someone else (Resent-From, a mail client\'s Redirect) is judged as its From\'s, and says it was re-sent; a copy of one met first is still one message', async () => {
    const resent = ['Resent-From: Officer <officer@elsewhere.example>', 'Resent-Date: Thu, 1 Feb 2024 11:30:00 +0000', 'Resent-To: ballots@ccin.example'];
    const { facts, judgement } = await judge(eml({ body: paper, headers: resent }));
    expect(facts.resent).toEqual({ from: 'Officer <officer@elsewhere.example>', date: 'Thu, 1 Feb 2024 11:30:00 +0000' });
    expect(judgement.council?.id).toBe('north-herts');
    expect(judgement.verdict).toEqual({ kind: 'valid' });
    expect(notes(judgement)).toContain(
      're-sent (Resent-From: Officer <officer@elsewhere.example>; Resent-Date: Thu, 1 Feb 2024 11:30:00 +0000): someone put this message back into the mail after its author sent it; it is judged as From\'s, and its receipt time is when this copy arrived',
    );
    expect(notes((await judge(eml({ body: paper }))).judgement)).not.toMatch(/re-sent/);
    // The council's message and the copy redirected later: one message, received when it first came.
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'a.eml'), eml({ body: paper }));
      writeFileSync(join(t.dir, 'b.eml'), eml({ body: paper, headers: resent, received: ['from elsewhere by mx.ccin.example (Postfix); Thu, 1 Feb 2024 11:30:02 +0000', 'from mail.example by mx.ccin.example (Postfix); Wed, 31 Jan 2024 10:00:03 +0000'] }));
      const r = await runCount({ paths: [t.dir], election: ELECTION, roster: ROSTER, generator: 'test', jobs: 1 });
      expect(r.messages.map((m) => [m.source.file.split('/').pop(), m.disposition])).toEqual([['a.eml', 'counted'], ['b.eml', 'duplicate-copy']]);
    } finally {
      t.cleanup();
    }
  });

  it('look-alike domains (Cyrillic letters, punycode, the Kelvin sign) belong to no council, and are named as look-alikes', async () => {
    const cases = [
      'leader@n\u043erth-herts.gov.uk', // Cyrillic о, as UTF-8
      `leader@${new URL('http://n\u043erth-herts.gov.uk').hostname}`, // the same as punycode (xn--)
      'leader@\u212Anowsley.gov.uk', // Kelvin sign: toLowerCase() would make it "knowsley"
    ];
    for (const from of cases) {
      const { judgement } = await judge(eml({ from: `Leader <${from}>`, body: paper }));
      expect({ from, v: judgement.verdict, c: judgement.council }).toEqual({ from, v: { kind: 'rejected', reason: 'unknown-sender' }, c: null });
      expect(notes(judgement)).toMatch(/LOOKS LIKE (north-herts|knowsley)\.gov\.uk/);
    }
    expect(councilForAddress(roster, 'LEADER@NORTH-HERTS.GOV.UK')?.council.id).toBe('north-herts'); // ASCII case still folds
    expect(councilForAddress(roster, 'leader@north-herts.gov.uk@attacker.example')).toBeNull();
    expect(readAddress('leader@north-herts.gov.uk@attacker.example')).toMatchObject({ ok: false });
    expect(lookalikeOf(roster, 'leader@north-herts.gov.uk')).toBeNull();
  });

  it('reports show an address outside ASCII escaped, so a look-alike is visible', () => {
    expect(showAddress('leader@n\u043erth-herts.gov.uk')).toBe('leader@n\\u{43e}rth-herts.gov.uk');
    expect(safeAddress('a@\u212Anowsley.gov.uk\u001b[2J')).toBe('a@\\u{212a}nowsley.gov.uk\\x1b[2J');
  });
});

describe('only the issued paper', () => {
  const C = election.candidates;
  it('a name that merely begins like a candidate’s is not the candidate', () => {
    expect(matchCandidate('Cllr Jason Williams-Smith', C)).toBeNull();
    expect(matchCandidate('Cllr Jason Williams Junior', C)).toBeNull();
    expect(matchCandidate('Cllr J\u0430son Williams', C)).toBeNull(); // Cyrillic а
    expect(matchCandidate('Cllr Jason Williams Westminster City Council', C)?.id).toBe('williams');
    expect(matchCandidate('Cllr Jason Williams (Westminster City Council)', C)?.id).toBe('williams');
    // An initial and the surname name the one candidate who has both; any other initial or word, none.
    expect(matchCandidate('Cllr J. Williams', C)?.id).toBe('williams');
    expect(matchCandidate('J Williams (Westminster City Council)', C)?.id).toBe('williams');
    expect(matchCandidate('Cllr K. Williams', C)).toBeNull();
    expect(matchCandidate('Cllr J. Williams Junior', C)).toBeNull();
    const twins = [
      { id: 'a', name: 'Cllr Jo Smith', council: 'A Council' },
      { id: 'b', name: 'Cllr Jay Smith', council: 'B Council' },
    ];
    expect(matchCandidate('J. Smith', twins)).toBeNull();
    expect(matchCandidate('Jo Smith', twins)?.id).toBe('a');
    // One candidate's name beside another's council in brackets names neither; beside its own, a
    // shortening, or words no candidate's council has, it names the candidate.
    expect(matchCandidate('Cllr Jason Williams (South Ribble Borough Council)', C)).toBeNull();
    expect(matchCandidate('Williams (South Ribble)', C)).toBeNull();
    expect(matchCandidate('Cllr J. Williams (Ribble Borough Council)', C)).toBeNull();
    for (const own of ['(Westminster)', '(WCC)', '(Westminster City Council, Labour)', '(Westminster & South Ribble)']) expect(matchCandidate(`Cllr Jason Williams ${own}`, C)?.id, own).toBe('williams');
    expect(matchCandidate('Jo Smith (B Council)', twins)).toBeNull();
  });

  it('candidate-shaped lines that are not candidates, marked or not, void the paper', () => {
    const variants = [
      paper.replace('[ ] Cllr Jacky Alty', '[ ] Cllr Person 17\n[ ] Cllr Jacky Alty'), // invented, unmarked
      paper.replace('[ ] Cllr Jacky Alty', '[ ] Cllr J\u0430son Williams\n[ ] Cllr Jacky Alty'), // homoglyph of a real name
      paper.replace('[ ] Cllr Jacky Alty', '[ ] Jane Doe\n[ ] Cllr Jacky Alty'), // write-in line
      paper.replace('[ ] Cllr Jacky Alty', '[X] Mx Someone Else\n[ ] Cllr Jacky Alty'), // marked write-in
    ];
    for (const text of variants) {
      const [p] = findPapers(text, 'body-text');
      const r = readPaperMarks(p!, C);
      expect({ text: text.split('\n').slice(7, 11).join('|'), doubts: r.uncertain.length > 0 }).toEqual({ text: text.split('\n').slice(7, 11).join('|'), doubts: true });
    }
  });

  it('a paper whose reader may see a mark the machine would pass over is void: a second box or a tick beside a name, text reordered on screen, a line too long to read', async () => {
    const alty = '[ ] Cllr Jacky Alty (South Ribble Borough Council)';
    const shown = [
      `${alty}      [X]`, // two boxes on Alty's line: the second marked
      `${alty} ✓`,
      `${alty} \u202e]X[`, // stored "]X[", shown as "[X]" after the name
      `${alty}${' then'.repeat(150)} [X]`, // a box at the end of a line of 750 characters
    ];
    for (const line of shown) {
      const { judgement } = await judge(eml({ body: paper.replace(alty, line) }));
      expect({ line: line.slice(-12), verdict: judgement.verdict, choices: judgement.choices }).toEqual({ line: line.slice(-12), verdict: { kind: 'rejected', reason: 'void-for-uncertainty' }, choices: [] });
    }
    // The same in the HTML version a mail client shows beside an honest text one: the versions disagree, or the HTML is uncertain.
    const html = `<p>CCIN BALLOT PAPER</p><p>[X] Cllr Jason Williams (Westminster City Council)</p><p>${alty} [X]</p>`;
    const boundary = 'alt';
    const body = [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', paper, `--${boundary}`, 'Content-Type: text/html; charset=utf-8', '', html, `--${boundary}--`, ''].join('\r\n');
    const { judgement } = await judge(eml({ body, contentType: `multipart/alternative; boundary="${boundary}"` }));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(notes(judgement)).toMatch(/HTML version .* has 1 mark\(s\) outside the candidates' boxes/);
    // A numbered covering note above an honest paper, in both versions, is no mark on it.
    const note = '(1) Please find our paper below.\n(2) Our Leader has signed it.\n\n';
    const honestHtml = `<p>(1) Please find our paper below.</p><p>(2) Our Leader has signed it.</p>${paper.split('\n').map((l) => `<p>${l}</p>`).join('')}`;
    const both = [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', note + paper, `--${boundary}`, 'Content-Type: text/html; charset=utf-8', '', honestHtml, `--${boundary}--`, ''].join('\r\n');
    const honest = await judge(eml({ body: both, contentType: `multipart/alternative; boundary="${boundary}"` }));
    expect([honest.judgement.verdict, honest.judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
  });

  it('an HTML paper whose mark a style may draw beside another candidate (positioned, shifted, transformed) or clip out of sight is void; beside an honest text version, the text is counted and the officer told to compare', async () => {
    const asHtml = (text: string): string => text.split('\n').map((l) => `<p style="margin:0">${l}</p>`).join('');
    // Pushed out of a box too small for it: shown blank.
    const clipped = asHtml(paper.replace('[X]', '[<span style="display:inline-block;width:10px;overflow:hidden">&nbsp;&nbsp;&nbsp;&nbsp;X</span>]'));
    expect((await judge(eml({ body: clipped, contentType: 'text/html; charset=utf-8' }))).judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    for (const style of ['position:relative;top:1.3em', 'position:absolute;top:212px;left:9px', 'transform:translateY(1.2em)']) {
      // Read on Williams's line, drawn in Alty's box below it.
      const html = asHtml(paper.replace('[X]', `[<span style="${style}">X</span>]`));
      const alone = await judge(eml({ body: html, contentType: 'text/html; charset=utf-8' }));
      expect([style, alone.judgement.verdict, alone.judgement.choices]).toEqual([style, { kind: 'rejected', reason: 'void-for-uncertainty' }, []]);
      expect(notes(alone.judgement)).toMatch(/in another order or place/);
      const body = ['--alt', 'Content-Type: text/plain; charset=utf-8', '', paper, '--alt', 'Content-Type: text/html; charset=utf-8', '', html, '--alt--', ''].join('\r\n');
      const both = await judge(eml({ body, contentType: 'multipart/alternative; boundary="alt"' }));
      expect([both.judgement.verdict, both.judgement.choices]).toEqual([{ kind: 'valid', compareHtml: true }, ['williams']]);
      expect(notes(both.judgement)).toMatch(/cannot be read with certainty; its text version was counted: compare them by eye/);
    }
    // Word's margins and a position without an offset move nothing: the paper counts.
    const word = `<table style="margin-left:-5.4pt;position:relative">${paper.split('\n').map((l) => `<tr><td><p class=MsoNormal style="margin:0cm;text-indent:-18pt">${l}</p></td></tr>`).join('')}</table>`;
    const honest = await judge(eml({ body: word, contentType: 'text/html; charset=utf-8' }));
    expect([honest.judgement.verdict, honest.judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
  });

  it('an HTML paper marked for one candidate with a tick drawn in another\'s box (an SVG, a picture as a background, a video\'s poster) is void, never counted for the typed mark alone', async () => {
    const asHtml = (text: string): string => text.split('\n').map((l) => `<p>${l}</p>`).join('');
    const alty = '[ ] Cllr Jacky Alty (South Ribble Borough Council)';
    expect(paper).toContain(alty);
    for (const drawing of ['<svg width="10" height="10"><path d="M0 5 L4 9 L10 0" stroke="black"/></svg>', '<span style="display:inline-block;width:10px;height:10px;background-image:url(cid:tick@x)"></span>', '<video poster="cid:tick@x" width="10" height="10"></video>']) {
      const html = asHtml(paper.replace(alty, `[${drawing}] Cllr Jacky Alty (South Ribble Borough Council)`));
      const r = await judge(eml({ body: html, contentType: 'text/html; charset=utf-8' }));
      expect([drawing, r.judgement.verdict, r.judgement.choices]).toEqual([drawing, { kind: 'rejected', reason: 'void-for-uncertainty' }, []]);
    }
  });

  it('an HTML paper with a struck-through mark (<s>, <del>, a line-through style) or in a font the message supplies is void, as the same paper struck through in plain text is; a corrected paper is not read as two marks', async () => {
    const asHtml = (text: string, line: (l: string) => string): string => text.split('\n').map((l) => `<p>${line(l)}</p>`).join('');
    const williams = '[X] Cllr Jason Williams (Westminster City Council)';
    const bodies = [
      asHtml(paper, (l) => l.replace('[X]', '[<s>X</s>]')),
      asHtml(paper, (l) => l.replace('[X]', '[<span style="text-decoration:line-through">X</span>]')),
      // Williams struck out, Alty marked: what the council meant is for the officer, not two marks.
      asHtml(paperText({ williams: 'X', alty: 'X' }), (l) => (l === williams ? `<del>${l}</del>` : l)),
    ];
    for (const body of bodies) {
      const { judgement } = await judge(eml({ body, contentType: 'text/html; charset=utf-8' }));
      expect([judgement.verdict, judgement.choices]).toEqual([{ kind: 'rejected', reason: 'void-for-uncertainty' }, []]);
    }
    // A font the message supplies may draw the X as nothing and the empty box as a cross.
    const font = `<style>@font-face {font-family: Ballot; src: url(data:font/woff2;base64,d09GMgABAAAA) format("woff2")} body {font-family: Ballot, Calibri, sans-serif}</style>`;
    const fonts = await judge(eml({ body: `${font}<body>${asHtml(paper, (l) => l)}</body>`, contentType: 'text/html; charset=utf-8' }));
    expect([fonts.judgement.verdict, fonts.judgement.choices]).toEqual([{ kind: 'rejected', reason: 'void-for-uncertainty' }, []]);
    expect(notes(fonts.judgement)).toMatch(/shows it in a font of its own/);
    const plain = await judge(eml({ body: paper.replace('[X]', '[X\u0336]') }));
    expect(plain.judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    // Struck text away from the paper changes nothing.
    const note = await judge(eml({ body: `<p>Please find our <s>postal</s> ballot below.</p>${asHtml(paper, (l) => l)}`, contentType: 'text/html; charset=utf-8' }));
    expect([note.judgement.verdict, note.judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
  });

  it('a bracketed tag beside prose (an external-mail banner) and a numbered covering note are not ballot lines', async () => {
    const banner = '[EXTERNAL] This email originated from outside the organisation. Do not click links unless you recognise the sender.\n\n';
    const { judgement } = await judge(eml({ body: banner + paper }));
    expect(judgement.verdict).toEqual({ kind: 'valid' });
    const list = '(1) Please find our paper below.\n(2) Our Leader has signed it.\n\n';
    const two = await judge(eml({ body: list + paper }));
    expect(two.judgement.verdict).toEqual({ kind: 'valid' });
    expect(two.judgement.choices).toEqual(['williams']);
    expect(isNameShaped('This email originated from outside the organisation. Do not click links.')).toBe(false);
    expect(isNameShaped('Cllr Person 17')).toBe(true);
    const long = '[CAUTION: external sender [https://intranet.example/mail-policy]] Think before you click.\n\n';
    expect((await judge(eml({ body: long + paper }))).judgement.verdict).toEqual({ kind: 'valid' });
  });

  it('a picture or link in brackets (as html-to-text and Outlook write them) is no box: before a signatory’s name it is prose; where a candidate’s box would be, the paper is void', async () => {
    for (const logo of ['[cid:image001.png@01DA4F2B.5E3C8A10]', '[cid:logo]', '[https://www.north-herts.gov.uk/]', '[image: North Herts Council]']) {
      const { judgement } = await judge(eml({ body: `${paper}\nKind regards\n${logo} Cllr Elliot Kirkland\n` }));
      expect({ logo, verdict: judgement.verdict, choices: judgement.choices }).toEqual({ logo, verdict: { kind: 'valid' }, choices: ['williams'] });
    }
    expect((await judge(eml({ body: paper.replace('[ ] Cllr Jacky Alty', '[image: tick] Cllr Jacky Alty') }))).judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    const { judgement } = await judge(eml({ body: paper.replace('[ ] Cllr Jacky Alty', '[https://ccin.example/tick.png] Cllr Jacky Alty') }));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    expect(judgement.findings.find((f) => f.code === 'void-for-uncertainty')?.detail).toMatch(/a picture or link \("https:\/\/ccin.example\/tick.png"\) where Cllr Jacky Alty's box would be/);
  });

  it('a candidate’s box holding what no mark is (an image or a link, as html-to-text writes them) is read as a box, not lost as the line before it wrapped', async () => {
    for (const box of ['[tick [https://ccin.example/tick.png]]', '[[cid:tick@01DA]]', '[X [https://ccin.example/x.png]]', '[a tick drawn here by our Leader]']) {
      const body = paper.replace('[ ] Cllr Jacky Alty', `${box} Cllr Jacky Alty`);
      expect(body).toContain(box);
      const { judgement } = await judge(eml({ body }));
      expect({ box, verdict: judgement.verdict }).toEqual({ box, verdict: { kind: 'rejected', reason: 'void-for-uncertainty' } });
    }
  });

  it('thousands of invented lines: void, with evidence of bounded size', async () => {
    const fake = Array.from({ length: 5000 }, (_, i) => `[ ] Cllr Person ${i}`).join('\n');
    const { judgement } = await judge(eml({ body: paper.replace('[ ] Cllr Jacky Alty', `${fake}\n[ ] Cllr Jacky Alty`) }));
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'void-for-uncertainty' });
    const reading = judgement.papers[0]!;
    expect(reading.marks).toHaveLength(100);
    expect(reading.marksOmitted).toBe(5003 - 100);
    expect(reading.uncertain).toHaveLength(10);
    expect(reading.uncertainOmitted).toBe(4990);
    expect(judgement.findings.find((f) => f.code === 'void-for-uncertainty')!.detail.length).toBeLessThan(2000);
  });

  it("a paper naming another election is said to, so that a replayed paper is noticed", async () => {
    const { judgement } = await judge(eml({ body: paper.replace('Election: Values & Principles Board: VP Membership', 'Election: Values & Principles Board 2022') }));
    expect(notes(judgement)).toMatch(/names the election "Values & Principles Board 2022", not "Values & Principles Board: VP Membership"/);
    const same = await judge(eml({ body: paper.replace('Election: Values & Principles Board: VP Membership', 'ELECTION: values and principles board - vp membership') }));
    expect(notes(same.judgement)).not.toMatch(/another election/);
  });

  it("another election's paper in the same message (a council returning two ballots at once) is set aside, not read against this one's candidates", async () => {
    const other = ['CCIN BALLOT PAPER', 'Election: Finance Board: Treasurer', 'Council: North Hertfordshire District Council', '', '[X] Cllr Mary Jones (Oldham Council)', '[ ] Cllr Peter Brown (Leeds City Council)', '', 'Name: Cllr Elliot Kirkland', 'Position: Leader', ''].join('\n');
    const both = await judge(eml({ body: `${paper}\n${other}` }));
    expect([both.judgement.verdict, both.judgement.choices]).toEqual([{ kind: 'valid' }, ['williams']]);
    expect(notes(both.judgement)).toMatch(/1 paper\(s\) of another election \("Finance Board: Treasurer"\), naming none of this election's candidates: set aside/);
    // Only the other election's paper: this election's paper is missing, for the officer to see.
    const alone = await judge(eml({ body: other }));
    expect(alone.judgement.verdict).toEqual({ kind: 'needs-adjudication', reason: 'no-ballot-paper' });
    // A paper naming another election but this one's candidates is read (a replay is what references catch).
    const replay = await judge(eml({ body: paper.replace('Election: Values & Principles Board: VP Membership', 'Election: Finance Board: Treasurer') }));
    expect(replay.judgement.choices).toEqual(['williams']);
  });
});

describe('machine-made mail that carries a vote', () => {
  const autoGenerated = (from: string, body: string, messageId?: string): Buffer => eml({ from, body, headers: ['Auto-Submitted: auto-generated'], ...(messageId ? { messageId } : {}) });

  it('is not counted, but an eligible council\'s marked paper in it is named in its verdict and findings; a blank or outside paper is not', async () => {
    const marked = await judge(autoGenerated('Cllr Elliot Kirkland <leader@north-herts.gov.uk>', paperText({ williams: 'X' })));
    expect(marked.judgement.verdict).toEqual({ kind: 'not-a-ballot', why: 'auto-reply', marked: ['williams'] });
    expect(notes(marked.judgement)).toMatch(/yet it carries a marked ballot paper \(→ williams\) of North Hertfordshire District Council, an eligible council: machine-made mail is not counted/);
    // A delivery report whose own text holds a marked paper is alike.
    const report = await judge(eml({ body: `--r\r\nContent-Type: text/plain\r\n\r\n${paperText({ alty: 'X', williams: 'X' })}\r\n--r--`, contentType: 'multipart/report; report-type=delivery-status; boundary="r"' }));
    expect(report.judgement.verdict).toEqual({ kind: 'not-a-ballot', why: 'delivery-report', marked: ['williams', 'alty'] });
    // An out-of-office reply that quotes the issued paper unmarked, and a marked paper from a sender
    // that is no eligible council, are machine-made mail and nothing more.
    for (const bytes of [
      autoGenerated('Cllr Elliot Kirkland <leader@north-herts.gov.uk>', `I am away until Monday.\n\n${paperText({})}`),
      autoGenerated('someone@elsewhere.example', paperText({ williams: 'X' })),
    ]) {
      const { judgement } = await judge(bytes);
      expect(judgement.verdict).toEqual({ kind: 'not-a-ballot', why: 'auto-reply' });
      expect(notes(judgement)).not.toMatch(/marked ballot paper/);
    }
  });

  it('is named beside the declaration, with whether the council has a vote counted, spilled or not', async () => {
    const t = tempDir();
    try {
      const box = join(t.dir, 'box');
      mkdirSync(box);
      writeFileSync(join(box, 'a-auto.eml'), autoGenerated('Cllr Elliot Kirkland <leader@north-herts.gov.uk>', paperText({ williams: 'X' }), '<auto@north-herts.gov.uk>'));
      writeFileSync(join(box, 'b-vote.eml'), eml({ from: 'Leader <leader@knowsley.gov.uk>', body: paperText({ alty: 'X' }, { council: 'Knowsley Council', name: 'Cllr Graham Mooney' }), messageId: '<vote@knowsley.gov.uk>' }));
      writeFileSync(join(box, 'c-auto.eml'), autoGenerated('Leader <leader@knowsley.gov.uk>', paperText({ willoughby: 'X' }, { council: 'Knowsley Council', name: 'Cllr Graham Mooney' }), '<auto@knowsley.gov.uk>'));
      const req = { paths: [box], election: ELECTION, roster: ROSTER, generator: 'test', jobs: 1 };
      const whole = await runCount(req);
      expect(whole.messages.map((m) => [m.council, m.disposition, m.choices])).toEqual([
        ['north-herts', 'not-a-ballot', []],
        ['knowsley', 'counted', ['alty']],
        ['knowsley', 'not-a-ballot', []],
      ]);
      const notice = whole.notices.find((n) => n.includes('machine made'));
      expect(notice).toMatch(/^2 message\(s\) that their headers say a machine made .* carry an eligible council's marked ballot paper, and are not counted: /);
      expect(notice).toContain(`north-herts ${whole.messages[0]!.sha256.slice(0, 12)} (→ williams; the council has NO paper counted)`);
      expect(notice).toContain(`knowsley ${whole.messages[2]!.sha256.slice(0, 12)} (→ willoughby; the council has a paper counted)`);
      const spilled = await runCount({ ...req, spillAfter: 0 });
      expect(spilled.notices).toEqual(whole.notices);
      expect(spilled.digest).toBe(whole.digest);
      // Many are named five at a time, those of councils with no paper counted first, and counted in full.
      for (let i = 0; i < 7; i++) {
        writeFileSync(join(box, `d-auto-${i}.eml`), autoGenerated('Leader <leader@knowsley.gov.uk>', paperText({ williams: 'X' }, { council: 'Knowsley Council', name: 'Cllr Graham Mooney' }), `<auto-${i}@knowsley.gov.uk>`));
      }
      const many = (await runCount(req)).notices.find((n) => n.includes('machine made'))!;
      expect(many).toMatch(/^9 message\(s\) .*: north-herts [0-9a-f]{12} \(→ williams; the council has NO paper counted\), knowsley .* and 4 more, among the messages not-a-ballot\. Ask each council/);
      expect(many.length).toBeLessThan(1000);
    } finally {
      t.cleanup();
    }
  });
});

describe('a counted paper beside words that say another vote', () => {
  it('is named beside the declaration, spilled or not', async () => {
    const t = tempDir();
    try {
      const box = join(t.dir, 'box');
      mkdirSync(box);
      writeFileSync(join(box, 'a.eml'), eml({ body: `We vote for Cllr Jacky Alty.\n\n${paperText({ williams: 'X' })}`, messageId: '<a@north-herts.gov.uk>' }));
      writeFileSync(join(box, 'b.eml'), eml({ from: 'Leader <leader@knowsley.gov.uk>', body: `We vote for Cllr Jacky Alty.\n\n${paperText({ alty: 'X' }, { council: 'Knowsley Council', name: 'Cllr Graham Mooney' })}`, messageId: '<b@knowsley.gov.uk>' }));
      const req = { paths: [box], election: ELECTION, roster: ROSTER, generator: 'test', jobs: 1 };
      const whole = await runCount(req);
      expect(whole.messages.map((m) => [m.council, m.disposition, m.choices])).toEqual([
        ['north-herts', 'counted', ['williams']],
        ['knowsley', 'counted', ['alty']],
      ]);
      expect(whole.notices.filter((n) => n.includes('say a vote'))).toEqual([
        `1 counted paper(s) beside words of their sender's that say a vote for a candidate the paper does not mark: north-herts ${whole.messages[0]!.sha256.slice(0, 12)} (paper → williams; words → alty). The marks were counted, as the rules say; read each message (\`ccin-tally inspect\`) before declaring.`,
      ]);
      const spilled = await runCount({ ...req, spillAfter: 0 });
      expect(spilled.notices).toEqual(whole.notices);
      expect(spilled.digest).toBe(whole.digest);
    } finally {
      t.cleanup();
    }
  });
});

describe('a council whose mail is signed', () => {
  it('gets no vote from an unsigned paper alone when the officer pinned its key; without a pinned key, prefer counts it', async () => {
    const t = tempDir();
    try {
      const box = join(t.dir, 'box');
      mkdirSync(box);
      // Knowsley sends nothing else in this mailbox; its key is in the example's keys.zone.
      writeFileSync(join(box, 'forged.eml'), eml({ from: 'Leader <leader@knowsley.gov.uk>', body: paperText({ williams: 'X' }, { council: 'Knowsley Council', name: 'Cllr Graham Mooney' }), messageId: '<forged@knowsley.gov.uk>' }));
      const req = { paths: [box], election: ELECTION, roster: ROSTER, generator: 'test' };
      const pinned = await runCount({ ...req, keys: join(ELECTION, '..', 'keys.zone') });
      const m = pinned.messages[0]!;
      expect(m).toMatchObject({ disposition: 'needs-adjudication', reason: 'unauthenticated-change' });
      expect(m.evidence.findings.find((f) => f.code === 'unauthenticated-change')?.detail).toMatch(/a DKIM key for knowsley\.gov\.uk is pinned in the keys file/);
      expect(pinned.final).toBe(false);
      const empty = join(t.dir, 'other.zone');
      writeFileSync(empty, '$ORIGIN unrelated.example.\nsel._domainkey IN TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"\n');
      const unpinned = await runCount({ ...req, keys: empty });
      expect(unpinned.messages[0]?.disposition).toBe('counted');
    } finally {
      t.cleanup();
    }
  });
});

describe('a signature nobody checked', () => {
  it('a ballot signed by its council whose key was neither pinned nor looked up leaves the result provisional (a forgotten --keys); a key DNS says does not exist, or a signed newsletter, does not', async () => {
    const t = tempDir();
    try {
      // Tameside's signed paper, counted with no keys, with a keys file that lacks its key, with live
      // DNS that has none, and with its key.
      const box = join(t.dir, 'box');
      mkdirSync(box);
      copyFileSync(join(MAILBOX, 'eml', 'tameside-ballot.eml'), join(box, 'tameside.eml'));
      const other = join(t.dir, 'other.zone');
      writeFileSync(other, '$ORIGIN unrelated.example.\nsel._domainkey IN TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"\n');
      const req = { paths: [box], election: ELECTION, roster: ROSTER, generator: 'test' };
      for (const keys of [undefined, other]) {
        const r = await runCount({ ...req, keys });
        const m = r.messages[0]!;
        expect(m).toMatchObject({ council: 'tameside', disposition: 'counted' });
        expect(m.evidence.authentication.signatures[0]).toMatchObject({ domain: 'tameside.gov.uk', result: 'neutral', reason: KEY_NOT_LOOKED_UP, authenticates: false });
        expect(r.final).toBe(false);
        expect(r.provisional.join('\n')).toMatch(keys === undefined ? /1 ballot\(s\) signed by their council's domain were not checked: no key for tameside\.gov\.uk \(no --keys given\)/ : /no key for tameside\.gov\.uk in .*other\.zone, and live DNS not asked/);
      }
      const nxdomain = { resolveTxt: () => Promise.reject(Object.assign(new Error('no such name'), { code: 'ENOTFOUND' })), fetched: new Map<string, string[][]>() };
      const looked = await runCount({ ...req, keys: other, dns: nxdomain });
      expect(looked.messages[0]?.evidence.authentication.signatures[0]).toMatchObject({ result: 'neutral', reason: 'no key' });
      expect(looked.final).toBe(true);
      const pinned = await runCount({ ...req, keys: KEYS });
      expect(pinned.messages[0]?.evidence.authentication).toMatchObject({ authenticated: true });
      expect(pinned.final).toBe(true);
      // A newsletter signed by its own (unknown) domain: its key is nobody's business.
      const news = join(t.dir, 'news');
      mkdirSync(news);
      copyFileSync(join(box, 'tameside.eml'), join(news, 'tameside.eml'));
      const signed = readFileSync(join(box, 'tameside.eml'), 'latin1').replace(/^From: .*$/m, 'From: News <news@localgov.example>').replace(/d=tameside\.gov\.uk/, 'd=localgov.example');
      writeFileSync(join(news, 'news.eml'), Buffer.from(signed.replace(/CCIN BALLOT PAPER[\s\S]*$/, 'This week in local government.\r\n'), 'latin1'));
      const withNews = await runCount({ ...req, paths: [news], keys: KEYS });
      expect(withNews.messages.map((m) => m.disposition).sort()).toEqual(['counted', 'not-a-ballot']);
      expect(withNews.final).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});

describe('a replay of a council’s signed paper', () => {
  const sefton = { council: 'Sefton Council', name: 'Cllr Ian Maher-Quinn', position: 'Leader' };
  // Signed by mailauth with Sefton's key (pinned in the example's keys.zone), over From, To, Subject
  // and Date only: Message-ID is left out, as some signers leave it.
  // mailauth's signer takes its keys from signatureData and reads headerList only as a colon-separated
  // string (an array is taken for its default list); its type declarations say otherwise.
  const SIGNED = 'From:To:Subject:Date';
  const signed = async (id: string, date: string, marks: Parameters<typeof paperText>[0]): Promise<string> => {
    const key = readFileSync(join(EXAMPLE, 'dkim-keys', 'sefton.gov.uk', 'ccin2024.private'));
    const message = [`From: Cllr Ian Maher-Quinn <leader@sefton.gov.uk>`, 'To: ballots@ccin.example', 'Subject: CCIN ballot', `Date: ${date}`, `Message-ID: <${id}@sefton.gov.uk>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', paperText(marks, sefton).replace(/\n/g, '\r\n')].join('\r\n');
    const options = { canonicalization: 'relaxed/relaxed', signTime: new Date(date), headerList: SIGNED, signatureData: [{ signingDomain: 'sefton.gov.uk', selector: 'ccin2024', privateKey: key }] };
    const s = await dkimSign(message, options as unknown as Parameters<typeof dkimSign>[1]);
    return s.signatures + message;
  };
  const later = (at: string): string => `Received: from mail.attacker.example (mail.attacker.example [198.51.100.9]) by mx.ccin.example (Postfix) with ESMTPS id RPLY; ${at}\r\n`;

  it('delivered again after the council changed its vote: a copy of the first paper, which keeps its first receipt time, and the change stands', async () => {
    const t = tempDir();
    try {
      // Sefton's signed paper of 29 January (superseded by its signed paper of 30 January), sent to
      // the ballot address again on 31 January, byte for byte, in an export that sorts first.
      const first = readFileSync(join(MAILBOX, 'maildir', 'cur', '1706014400.M4P4242.ballots:2,S'));
      const box = join(t.dir, 'a-export');
      mkdirSync(box);
      writeFileSync(join(box, 'replay.eml'), Buffer.concat([Buffer.from(later('Wed, 31 Jan 2024 11:00:00 +0000')), first]));
      const r = await runCount({ paths: [box, MAILBOX], election: ELECTION, roster: ROSTER, keys: KEYS, issued: join(EXAMPLE, 'issued', 'issued.csv'), generator: 'test' });
      const mine = r.messages.filter((m) => m.council === 'sefton' || m.source.file.endsWith('replay.eml'));
      const replay = mine.find((m) => m.source.file.endsWith('replay.eml'))!;
      const original = mine.find((m) => m.source.file.includes('1706014400'))!;
      expect(replay.disposition).toBe('duplicate-copy');
      expect(replay.evidence.duplicateOf).toBe(original.sha256);
      expect(original).toMatchObject({ disposition: 'superseded', receivedAt: '2024-01-29T10:00:03Z' });
      expect(mine.find((m) => m.disposition === 'counted')?.choices).toEqual(['williams']);
    } finally {
      t.cleanup();
    }
  });

  it('with a header its signature does not sign changed (a new Message-ID): ordered by when the signed message first came, so the change stands; an altered copy that came first hides nothing', async () => {
    const t = tempDir();
    try {
      const first = await signed('first', 'Mon, 29 Jan 2024 10:00:00 +0000', { alty: 'X' });
      const second = await signed('second', 'Tue, 30 Jan 2024 10:00:00 +0000', { williams: 'X' });
      writeFileSync(join(t.dir, '1-first.eml'), later('Mon, 29 Jan 2024 10:00:03 +0000') + first);
      writeFileSync(join(t.dir, '2-second.eml'), later('Tue, 30 Jan 2024 10:00:03 +0000') + second);
      writeFileSync(join(t.dir, '0-replay.eml'), later('Wed, 31 Jan 2024 11:00:00 +0000') + first.replace('<first@sefton.gov.uk>', '<replayed@attacker.example>'));
      const r = await runCount({ paths: [t.dir], election: ELECTION, roster: ROSTER, keys: KEYS, generator: 'test' });
      const by = (name: string) => r.messages.find((m) => m.source.file.endsWith(name))!;
      // Another message (its Message-ID differs), authenticated, valid: but the council's signed
      // message it carries first came on 29 January, and that is where it stands among its papers.
      expect(by('0-replay.eml')).toMatchObject({ disposition: 'superseded', receivedAt: '2024-01-31T11:00:00Z' });
      expect(by('0-replay.eml').evidence.findings.map((f) => f.detail)).toContain(
        "the council's signed message first arrived at 2024-01-29T10:00:03Z (the same DKIM signature): this later delivery of it is ordered among the council's papers by that time",
      );
      expect(by('1-first.eml')).toMatchObject({ disposition: 'superseded' });
      expect(by('2-second.eml')).toMatchObject({ disposition: 'counted', choices: ['williams'] });
      expect(r.final).toBe(true);

      // Someone who had the council's signed paper first (a copy sent to them) sends it on, altered in
      // headers its signature leaves out (a second From header, an Auto-Submitted header), before the
      // council's own reaches the ballot address: each is judged as what it is, and the council's
      // own paper still counts.
      const t2 = tempDir();
      try {
        const only = await signed('only', 'Tue, 30 Jan 2024 10:00:00 +0000', { williams: 'X' });
        writeFileSync(join(t2.dir, 'council.eml'), later('Tue, 30 Jan 2024 10:05:00 +0000') + only);
        writeFileSync(join(t2.dir, 'two-from.eml'), later('Tue, 30 Jan 2024 10:01:00 +0000') + 'From: Someone <someone@attacker.example>\r\n' + only);
        writeFileSync(join(t2.dir, 'auto.eml'), later('Tue, 30 Jan 2024 10:02:00 +0000') + 'Auto-Submitted: auto-replied\r\n' + only.replace('<only@sefton.gov.uk>', '<auto@attacker.example>'));
        // The same, its Message-ID and all else left as the council wrote it.
        writeFileSync(join(t2.dir, 'auto-same-id.eml'), later('Tue, 30 Jan 2024 10:03:00 +0000') + 'Auto-Submitted: auto-replied\r\n' + only);
        const r2 = await runCount({ paths: [t2.dir], election: ELECTION, roster: ROSTER, keys: KEYS, generator: 'test' });
        const at = (name: string) => r2.messages.find((m) => m.source.file.endsWith(name))!;
        expect(at('two-from.eml')).toMatchObject({ disposition: 'rejected', reason: 'ambiguous-sender' });
        expect(at('auto.eml')).toMatchObject({ disposition: 'not-a-ballot' });
        expect(at('auto-same-id.eml')).toMatchObject({ disposition: 'not-a-ballot' });
        expect(at('council.eml')).toMatchObject({ disposition: 'counted', choices: ['williams'] });
      } finally {
        t2.cleanup();
      }
    } finally {
      t.cleanup();
    }
  });

  it('signed before this election opened (a past election’s paper, the same candidates standing again), sent after the council voted: it proves nothing, even with the ballot server’s dkim=pass, so it cannot replace the vote', async () => {
    const t = tempDir();
    try {
      const past = await signed('past', 'Fri, 20 Jan 2023 10:00:00 +0000', { alty: 'X' });
      const vote = await signed('vote', 'Tue, 30 Jan 2024 10:00:00 +0000', { williams: 'X' });
      // What the ballot server writes on top of a message it verified itself: its own dkim=pass.
      const stamp = 'Authentication-Results: mx.ccin.example; dkim=pass header.d=sefton.gov.uk header.s=ccin2024\r\n';
      writeFileSync(join(t.dir, 'vote.eml'), later('Tue, 30 Jan 2024 10:00:03 +0000') + vote);
      writeFileSync(join(t.dir, 'replay.eml'), stamp + later('Wed, 31 Jan 2024 11:00:00 +0000') + past);
      const r = await runCount({ paths: [t.dir], election: ELECTION, roster: ROSTER, keys: KEYS, generator: 'test' });
      const by = (name: string) => r.messages.find((m) => m.source.file.endsWith(name))!;
      const replay = by('replay.eml');
      expect(replay.evidence.authentication).toMatchObject({ authenticated: false });
      expect(replay.evidence.authentication.signatures[0]).toMatchObject({ result: 'pass', authenticates: false });
      expect(replay.evidence.authentication.signatures[0]?.why).toMatch(/^passes, but was made at 2023-01-20T10:00:00.*before voting opened/);
      expect(replay.evidence.authentication.trustedHeaders[0]).toMatchObject({ result: 'pass', authenticates: false });
      expect(replay).toMatchObject({ disposition: 'needs-adjudication', reason: 'unauthenticated-change' });
      expect(by('vote.eml')).toMatchObject({ disposition: 'counted', choices: ['williams'] });
      expect(r.final).toBe(false);
      expect(r.notices.join('\n')).not.toMatch(/no opening time/);
      // Without "opens" nothing tells a past signature from a present one: the report says so.
      const { opens: _opens, ...withoutOpens } = JSON.parse(readFileSync(ELECTION, 'utf8')) as Record<string, unknown>;
      const noOpens = join(t.dir, 'no-opens.json');
      writeFileSync(noOpens, JSON.stringify(withoutOpens));
      const open = await runCount({ paths: [join(t.dir, 'vote.eml')], election: noOpens, roster: ROSTER, keys: KEYS, generator: 'test' });
      expect(open.notices.join('\n')).toMatch(/The election gives no opening time \("opens"\): a signature made before this election proves a paper all the same/);
      // Signed without t= (as Exchange Online signs; dkimpy, fixtures/dkim/make.py), a signature is
      // dated by the Date header it signs: the council's paper of this election counts, the one it
      // signed a year before, delivered after it, does not.
      const dkimDir = join(EXAMPLE, '..', 'dkim');
      const untimed = await runCount({ paths: [join(dkimDir, 'messages', 'untimed.eml'), join(dkimDir, 'messages', 'past-untimed.eml')], election: ELECTION, roster: ROSTER, keys: join(dkimDir, 'keys.zone'), generator: 'test' });
      const [present, again] = ['untimed.eml', 'past-untimed.eml'].map((name) => untimed.messages.find((m) => m.source.file === name)!);
      expect(present).toMatchObject({ disposition: 'counted', choices: ['williams'] });
      expect(present?.evidence.authentication).toMatchObject({ authenticated: true });
      expect(again?.evidence.authentication.signatures[0]).toMatchObject({ result: 'pass', authenticates: false, signTime: null });
      expect(again?.evidence.authentication.signatures[0]?.why).toMatch(/^passes, but signs a Date header of 2023-01-20T10:00:00Z, before voting opened/);
      expect(again).toMatchObject({ disposition: 'needs-adjudication', reason: 'unauthenticated-change', choices: [] });
      // The council's own paper, signed a moment before voting opened and delivered after it, still proves its vote.
      const t2 = tempDir();
      try {
        writeFileSync(join(t2.dir, 'prompt.eml'), later('Thu, 18 Jan 2024 09:00:40 +0000') + (await signed('prompt', 'Thu, 18 Jan 2024 08:59:30 +0000', { williams: 'X' })));
        const r2 = await runCount({ paths: [t2.dir], election: ELECTION, roster: ROSTER, keys: KEYS, generator: 'test' });
        expect(r2.messages[0]).toMatchObject({ disposition: 'counted', choices: ['williams'] });
        expect(r2.messages[0]?.evidence.authentication).toMatchObject({ authenticated: true });
      } finally {
        t2.cleanup();
      }
    } finally {
      t.cleanup();
    }
  });

  it('with a header added above one its signature signs (a Content-Type naming the boundary of the earlier paper the council attached to its change of vote): the signature verifies, the reader sees the earlier paper, and it proves nothing', async () => {
    // dkimpy's signature (fixtures/dkim/make.py): mailauth verifies the bottom-most Content-Type, the
    // one the council signed; mailparser reads the top-most, added by whoever sent the copy.
    const dkimDir = join(EXAMPLE, '..', 'dkim');
    const t = tempDir();
    try {
      const replay = readFileSync(join(dkimDir, 'messages', 'content-type-added.eml'));
      // The ballot server, verifying the same signature the same way, stamps its own dkim=pass on top.
      const stamp = Buffer.from('Authentication-Results: mx.ccin.example; dkim=pass header.d=north-herts.gov.uk header.s=ccin2024 header.a=rsa-sha256\r\n');
      writeFileSync(join(t.dir, 'replay.eml'), Buffer.concat([stamp, replay]));
      copyFileSync(join(dkimDir, 'messages', 'change-of-vote.eml'), join(t.dir, 'change.eml'));
      const r = await runCount({ paths: [t.dir], election: ELECTION, roster: ROSTER, keys: join(dkimDir, 'keys.zone'), generator: 'test' });
      const by = (name: string) => r.messages.find((m) => m.source.file.endsWith(name))!;
      expect(by('change.eml')).toMatchObject({ disposition: 'counted', choices: ['alty'] });
      expect(by('change.eml').evidence.authentication).toMatchObject({ authenticated: true });
      const copy = by('replay.eml');
      expect(copy.evidence.authentication.signatures[0]).toMatchObject({ result: 'pass', authenticates: false });
      expect(copy.evidence.authentication.signatures[0]?.why).toMatch(/passes, but the message has 2 Content-Type headers, of which it signs 1: a reader takes the top-most/);
      expect(copy.evidence.authentication.trustedHeaders[0]).toMatchObject({ result: 'pass', authenticates: false });
      // What a reader makes of it is the earlier paper, for Williams: it goes to the officer, and never replaces the vote.
      expect(copy).toMatchObject({ disposition: 'needs-adjudication', reason: 'unauthenticated-change', choices: [] });
      expect(copy.evidence.papers.map((p) => p.choices)).toEqual([['williams']]);
      expect(r.final).toBe(false);
    } finally {
      t.cleanup();
    }
  });
});

describe('a counted paper whose HTML version a mail client may show otherwise', () => {
  it('is named beside the declaration, spilled or not, for the officer to compare by eye', async () => {
    const t = tempDir();
    try {
      const box = join(t.dir, 'box');
      mkdirSync(box);
      const alty = '[ ] Cllr Jacky Alty (South Ribble Borough Council)';
      const paper = paperText({ williams: 'X' });
      // A tick drawn in Alty's box in the HTML version; the text version marks Williams alone.
      const html = paper
        .replace(alty, '[<svg width="10" height="10"><path d="M0 5 L4 9 L10 0" stroke="black"/></svg>] Cllr Jacky Alty (South Ribble Borough Council)')
        .split('\n')
        .map((l) => `<p>${l}</p>`)
        .join('');
      const body = ['--alt', 'Content-Type: text/plain; charset=utf-8', '', paper, '--alt', 'Content-Type: text/html; charset=utf-8', '', html, '--alt--', ''].join('\r\n');
      writeFileSync(join(box, 'a.eml'), eml({ body, contentType: 'multipart/alternative; boundary="alt"', messageId: '<a@north-herts.gov.uk>' }));
      writeFileSync(join(box, 'b.eml'), eml({ from: 'Leader <leader@knowsley.gov.uk>', body: paperText({ alty: 'X' }, { council: 'Knowsley Council', name: 'Cllr Graham Mooney' }), messageId: '<b@knowsley.gov.uk>' }));
      const req = { paths: [box], election: ELECTION, roster: ROSTER, generator: 'test', jobs: 1 };
      const whole = await runCount(req);
      expect(whole.messages.map((m) => [m.council, m.disposition, m.choices])).toEqual([
        ['north-herts', 'counted', ['williams']],
        ['knowsley', 'counted', ['alty']],
      ]);
      expect(whole.notices.filter((n) => n.includes('HTML version'))).toEqual([
        `1 counted paper(s) whose HTML version, which a mail client shows, cannot be read with certainty by machine, or holds no paper or no mark: north-herts ${whole.messages[0]!.sha256.slice(0, 12)} (→ williams). The text version's marks were counted; compare the two versions of each by eye (\`ccin-tally inspect\`) before declaring.`,
      ]);
      const spilled = await runCount({ ...req, spillAfter: 0 });
      expect(spilled.notices).toEqual(whole.notices);
      expect(spilled.digest).toBe(whole.digest);
    } finally {
      t.cleanup();
    }
  });
});
