/**
 * An officer's slips, tried with the bundled example's own files (issue 10): each ends in exit 2 or
 * 3 with a sentence a person can act on, before anything is counted or written, and no input changes.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ELECTION, EXAMPLE, ISSUED, KEYS, MAILBOX, ROSTER, eml, paperText, run, tempDir } from './helpers.js';

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const COMMON = ['--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED];

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const t = tempDir();
  try {
    await fn(t.dir);
  } finally {
    t.cleanup();
  }
}

describe('no declaration from a count that cannot be right', () => {
  it('an empty folder is an input error, not "0 votes, ELECTED"', async () => {
    await withDir(async (dir) => {
      const r = await run(['tally', dir, ...COMMON]);
      expect(r.code).toBe(2);
      expect(r.stdout).not.toMatch(/DECLARATION|ELECTED/);
      expect(r.stderr).toMatch(/\[NO_MESSAGES\].*no message was read/);
    });
  });

  it('a folder of mail that holds no vote (the wrong folder: a newsletter, a stranger) is provisional and elects nobody, not "0 votes, ELECTED" by lot', async () => {
    await withDir(async (dir) => {
      // The example's newsletter and its stranger's paper: read, and none of them a vote.
      const all = readFileSync(join(MAILBOX, 'ballots.mbox'), 'latin1').split(/^(?=From )/m);
      const stranger = all.find((m) => /^From: .*j\.bloggs@gmail\.example/m.test(m));
      expect(stranger).toBeDefined();
      const box = join(dir, 'Junk');
      mkdirSync(box);
      writeFileSync(join(box, 'wrong.mbox'), Buffer.from(stranger!, 'latin1'));
      cpSync(join(MAILBOX, 'maildir', 'cur', '1706032400.M9P4242.ballots:2,S'), join(box, 'newsletter.eml'));
      const json = join(dir, 'r.json');
      const r = await run(['tally', box, ...COMMON, '--json', json]);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/PROVISIONAL RESULT/);
      expect(r.stdout).not.toMatch(/DECLARATION OF RESULT|ELECTED|duly elected|Tie decided by lot/);
      expect(r.stdout).toMatch(/no paper was counted \(2 message\(s\) read, none of them a vote\), so no candidate is elected/);
      const result = JSON.parse(readFileSync(json, 'utf8'));
      expect(result).toMatchObject({ final: false, lot: null });
      expect(result.tally.every((t: { elected: boolean; votes: number }) => !t.elected && t.votes === 0)).toBe(true);
    });
  });

  it('receivedBy naming a server no ballot passed through (a typo) is provisional: every receipt time would be the sender\'s', async () => {
    await withDir(async (dir) => {
      const typo = join(dir, 'election.json');
      writeFileSync(typo, JSON.stringify({ ...JSON.parse(readFileSync(ELECTION, 'utf8')), receivedBy: ['mx.ccin.exmaple'] }));
      const common = COMMON.map((a) => (a === ELECTION ? typo : a));
      const box = join(MAILBOX, 'eml');
      const wrong = await run(['tally', box, ...common]);
      expect(wrong.code).toBe(3);
      expect(wrong.stdout).toMatch(/no ballot carries a Received header from mx\.ccin\.exmaple, so every receipt time is the sender's own Date header/);
      const right = await run(['tally', box, ...COMMON]);
      expect(right.code).toBe(0);
      expect(right.stdout).toMatch(/DECLARATION OF RESULT/);
    });
  });

  it('a mailbox in which the ballot server stamped nothing after the deadline is said, beside the declaration, to need exporting after it', async () => {
    await withDir(async (dir) => {
      const box = join(dir, 'box');
      mkdirSync(box);
      const stamp = (at: string): string[] => [`from mail.north-herts.gov.uk by mx.ccin.example (Postfix); ${at}`];
      writeFileSync(join(box, 'a.eml'), eml({ body: paperText({ alty: 'X' }), received: stamp('Thu, 1 Feb 2024 11:58:30 +0000') }));
      const early = await run(['tally', box, ...COMMON]);
      expect(early.stdout).toMatch(/! Nothing in the mailbox was received after the deadline \(the latest stamp of mx\.ccin\.example: 2024-02-01 11:58:30 GMT\): make sure the mailbox was exported after the deadline \(2024-02-01 12:00:00 GMT\), or a paper delivered between the export and the deadline is missing\./);
      // Anything stamped after the deadline, even a message that is no ballot, shows the export came after it.
      writeFileSync(join(box, 'b.eml'), eml({ from: 'newsletter@elsewhere.example', body: 'News', messageId: '<n@elsewhere.example>', received: stamp('Thu, 1 Feb 2024 12:00:01 +0000') }));
      expect((await run(['tally', box, ...COMMON])).stdout).not.toMatch(/Nothing in the mailbox was received after the deadline/);
      // A Date header is the sender's: it shows nothing of when the mailbox was exported.
      writeFileSync(join(box, 'b.eml'), eml({ from: 'newsletter@elsewhere.example', body: 'News', messageId: '<n@elsewhere.example>', received: [], date: 'Fri, 2 Feb 2024 09:00:00 +0000' }));
      expect((await run(['tally', box, ...COMMON])).stdout).toMatch(/Nothing in the mailbox was received after the deadline \(the latest stamp of mx\.ccin\.example: 2024-02-01 11:58:30 GMT\)/);
    });
  });

  it('a .zip, a .pst or an .mbx given as the mailbox says what it is and how to get the mail out', async () => {
    await withDir(async (dir) => {
      const zip = join(dir, 'mailbox.zip');
      writeFileSync(zip, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100)]));
      const pst = join(dir, 'ballots.pst');
      writeFileSync(pst, Buffer.concat([Buffer.from('!BDN'), Buffer.alloc(100)]));
      const mbx = join(dir, 'Inbox.mbx');
      writeFileSync(mbx, Buffer.concat([Buffer.from([0x4a, 0x4d, 0x46, 0x36]), Buffer.alloc(100)]));
      const cases: [string, RegExp][] = [
        [zip, /a zip archive .*unzip it and give the folder/],
        [pst, /an Outlook data file \(\.pst\).*drag them into a folder/],
        [mbx, /\.mbx mailbox that is not in mbox form.*Thunderbird/],
      ];
      for (const [path, why] of cases) {
        const r = await run(['tally', path, ...COMMON]);
        expect({ path, code: r.code }).toEqual({ path, code: 2 });
        expect(r.stderr).toMatch(/\[NOT_MAIL\]/);
        expect(r.stderr).toMatch(why);
      }
      // In a folder with real mail, such a file is listed as skipped, with the same explanation.
      const folder = join(dir, 'export');
      mkdirSync(folder);
      cpSync(zip, join(folder, 'takeout.zip'));
      cpSync(join(MAILBOX, 'eml'), join(folder, 'eml'), { recursive: true });
      const json = join(dir, 'r.json');
      await run(['tally', folder, ...COMMON, '--json', json]);
      const result = JSON.parse(readFileSync(json, 'utf8'));
      expect(result.inputs.mailbox.find((f: { file: string }) => f.file === 'export/takeout.zip').note).toMatch(/zip archive.*unzip it/);
    });
  });

  it('dkim: require with no key source, or an empty keys file, is an input error; prefer with none says so at the top', async () => {
    await withDir(async (dir) => {
      const election = join(dir, 'election.json');
      writeFileSync(election, JSON.stringify({ ...JSON.parse(readFileSync(ELECTION, 'utf8')), dkim: 'require' }));
      const none = await run(['tally', MAILBOX, '--election', election, '--roster', ROSTER, '--issued', ISSUED]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/\[NO_KEYS\]/);
      const empty = join(dir, 'empty.zone');
      writeFileSync(empty, '; nothing here\n');
      const emptyRun = await run(['tally', MAILBOX, '--election', election, '--roster', ROSTER, '--issued', ISSUED, '--keys', empty]);
      expect(emptyRun.code).toBe(2);
      expect(emptyRun.stderr).toMatch(/empty\.zone.*holds no DKIM key/);
      const prefer = await run(['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--issued', ISSUED]);
      expect(prefer.code).toBe(3);
      const top = prefer.stdout.split('STATEMENT OF REJECTED PAPERS')[0] ?? '';
      expect(top).toMatch(/No DKIM keys were given \(--keys\) and live DNS was not asked for/);
      writeFileSync(election, JSON.stringify({ ...JSON.parse(readFileSync(ELECTION, 'utf8')), dkim: 'off' }));
      const off = await run(['tally', MAILBOX, '--election', election, '--roster', ROSTER, '--issued', ISSUED]);
      expect(off.stdout.split('STATEMENT OF REJECTED PAPERS')[0] ?? '').toMatch(/"dkim": "off": no sender was authenticated/);
    });
  });

  it('without --issued the report says references were not checked; with "references": "required" it is an input error', async () => {
    await withDir(async (dir) => {
      const plain = await run(['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS]);
      expect((plain.stdout.split('STATEMENT OF REJECTED PAPERS')[0] ?? '')).toMatch(/References were not checked: no --issued file was given/);
      const election = join(dir, 'election.json');
      writeFileSync(election, JSON.stringify({ ...JSON.parse(readFileSync(ELECTION, 'utf8')), references: 'required' }, null, 2));
      const r = await run(['tally', MAILBOX, '--election', election, '--roster', ROSTER, '--keys', KEYS]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/\[ISSUED_REQUIRED\] .*election\.json:\d+ \(field "references"\).*add --issued FILE/);
      // With --issued, a paper without its reference line is wrong-reference (Liverpool removed it).
      const json = join(dir, 'r.json');
      await run(['tally', MAILBOX, '--election', election, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--json', json]);
      const result = JSON.parse(readFileSync(json, 'utf8'));
      expect(result.messages.find((m: { messageId: string }) => m.messageId === '<ccin-2024-013@liverpool.gov.uk>')).toMatchObject({ disposition: 'rejected', reason: 'wrong-reference' });
    });
  });

  it('an issued.csv of another election (last year\'s, by mistake) is an input error, not every paper rejected wrong-reference', async () => {
    await withDir(async (dir) => {
      const lastYear = join(dir, 'issued.csv');
      writeFileSync(lastYear, readFileSync(ISSUED, 'utf8').replaceAll('CCIN-VPB-2024-', 'CCIN-VPB-2023-'));
      const r = await run(['tally', MAILBOX, ...COMMON.map((a) => (a === ISSUED ? lastYear : a))]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/\[ISSUED_OTHER_ELECTION\] .*issued\.csv:2 \(column reference\): the references were issued for election ccin-vpb-2023, not this one \(ccin-vpb-2024\)/);
      // References made some other way (not the shape papers writes) are taken as they are.
      const own = join(dir, 'own.csv');
      writeFileSync(own, 'council_id,reference\nnorth-herts,REF-0001\nwestminster,REF-0002\n');
      const taken = await run(['tally', join(MAILBOX, 'eml'), ...COMMON.map((a) => (a === ISSUED ? own : a))]);
      expect(taken.stderr).toBe('');
      expect(taken.stdout).toMatch(/PROVISIONAL RESULT|DECLARATION OF RESULT/);
      // A column named as a person might type it is named in the error, with what it must be called.
      const typed = join(dir, 'typed.csv');
      writeFileSync(typed, 'Council ID,Reference\nnorth-herts,REF-0001\n');
      const wrong = await run(['tally', join(MAILBOX, 'eml'), ...COMMON.map((a) => (a === ISSUED ? typed : a))]);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/\[CSV_HEADER\] .*typed\.csv:1: missing column\(s\): council_id \("council id" must be named council_id\)\n/);
    });
  });

  it('most papers rejected for one reason is said beside the declaration', async () => {
    await withDir(async (dir) => {
      const election = join(dir, 'election.json');
      // A slip in the election file: the deadline a year early.
      writeFileSync(election, JSON.stringify({ ...JSON.parse(readFileSync(ELECTION, 'utf8')), opens: '2023-01-18T09:00', deadline: '2023-02-01T12:00' }));
      const r = await run(['tally', MAILBOX, '--election', election, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED]);
      expect((r.stdout.split('STATEMENT OF REJECTED PAPERS')[0] ?? '')).toMatch(/Most ballots \(\d+ of \d+\) were rejected late/);
    });
  });
});

describe('outputs are checked before anything is counted, and written whole', () => {
  it('a missing folder, a folder, an input file, or a file inside the mailbox: exit 2, nothing printed, no input changed', async () => {
    await withDir(async (dir) => {
      const before = sha(ELECTION);
      const cases: [string[], RegExp][] = [
        [['--json', join(dir, 'nowhere', 'out.json')], /--json: the folder .*nowhere does not exist/],
        [['--html', dir], /--html names a folder; give a file name in it, such as .*result\.html/],
        [['--json', ELECTION], /--json would overwrite an input of this count/],
        [['--json', join(MAILBOX, 'result.json')], /--json would be written inside the mailbox export/],
        [['--json', join(dir, 'same'), '--html', join(dir, 'same')], /--html and --json name the same file/],
      ];
      for (const [extra, why] of cases) {
        const r = await run(['tally', MAILBOX, ...COMMON, ...extra]);
        expect({ extra, code: r.code, stdout: r.stdout }).toEqual({ extra, code: 2, stdout: '' });
        expect(r.stderr).toMatch(/\[OUTPUT_INVALID\]/);
        expect(r.stderr).toMatch(why);
      }
      expect(sha(ELECTION)).toBe(before);
      expect(existsSync(join(MAILBOX, 'result.json'))).toBe(false);
      // What is written leaves no temporary file behind.
      const ok = await run(['tally', MAILBOX, ...COMMON, '--json', join(dir, 'r.json'), '--html', join(dir, 'r.html')]);
      expect(ok.code).toBe(3);
      expect(readdirSync(dir).sort()).toEqual(['r.html', 'r.json']);
    });
  });
});

describe('folders a command writes into', () => {
  it('receipts --out and inspect --save-attachments inside the mailbox export, or naming a file, are refused before counting', async () => {
    const secret = join(EXAMPLE, 'secret.txt');
    const inside = await run(['receipts', MAILBOX, ...COMMON, '--secret-file', secret, '--out', join(MAILBOX, 'receipts')]);
    expect(inside.code).toBe(2);
    expect(inside.stdout).toBe('');
    expect(inside.stderr).toMatch(/--out would be written inside the mailbox export/);
    expect(existsSync(join(MAILBOX, 'receipts'))).toBe(false);
    const file = await run(['inspect', MAILBOX, ...COMMON, '--save-attachments', ELECTION]);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/--save-attachments names a file, not a folder/);
  });
});

describe('papers never overwrites an issued set', () => {
  it('refuses a folder that holds issued.csv; --force replaces it and keeps the old one', async () => {
    await withDir(async (dir) => {
      const out = join(dir, 'issued');
      const secretA = join(dir, 'a.txt');
      const secretB = join(dir, 'b.txt');
      writeFileSync(secretA, 'a first secret of the officer');
      writeFileSync(secretB, 'another secret entirely, by mistake');
      const args = ['papers', '--election', ELECTION, '--roster', ROSTER, '--out', out];
      expect((await run([...args, '--secret-file', secretA])).code).toBe(0);
      const first = readFileSync(join(out, 'issued.csv'));
      const again = await run([...args, '--secret-file', secretB]);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/\[PAPERS_EXIST\].*already issued into this folder.*--force/);
      expect(readFileSync(join(out, 'issued.csv'))).toEqual(first);
      const forced = await run([...args, '--secret-file', secretB, '--force']);
      expect(forced.code).toBe(0);
      const kept = readdirSync(out).filter((f) => f.startsWith('issued-replaced-'));
      expect(kept).toHaveLength(1);
      expect(readFileSync(join(out, kept[0]!))).toEqual(first);
      expect(readFileSync(join(out, 'issued.csv'))).not.toEqual(first);
    });
  });
});

describe('adjudication an officer can do', () => {
  it('the provisional report lists each pending message with a line to paste; --pending writes the file to fill in', async () => {
    await withDir(async (dir) => {
      const pending = join(dir, 'pending.csv');
      const r = await run(['tally', MAILBOX, ...COMMON, '--pending', pending]);
      expect(r.code).toBe(3);
      const template = readFileSync(pending, 'utf8');
      const rows = template.split('\n').filter((l) => /^[0-9a-f]{16},,,$/.test(l));
      expect(rows).toHaveLength(8);
      for (const row of rows) expect(r.stdout).toContain(`${row.slice(0, 16)},reject,,"<why, in your words>"`);
      expect(template).toMatch(/# Candidate ids: willoughby, williams, alty/);
      // Left blank, the template decides nothing: the count stays provisional, with no error.
      const blank = await run(['tally', MAILBOX, ...COMMON, '--adjudications', pending]);
      expect(blank.code).toBe(3);
      // Filled in: each row decides its message; the rest stay pending.
      const filled = template.replace(rows[0]!, `${rows[0]!.slice(0, 16)},reject,,"Confirmed by phone: not sent by the council"`);
      writeFileSync(pending, filled);
      const one = join(dir, 'one.json');
      await run(['tally', MAILBOX, ...COMMON, '--adjudications', pending, '--json', one]);
      expect(JSON.parse(readFileSync(one, 'utf8')).summary.dispositions['needs-adjudication']).toBe(7);
      // An unknown candidate id is refused with the valid ones listed.
      writeFileSync(pending, template.replace(rows[1]!, `${rows[1]!.slice(0, 16)},count,wiliams,"typo"`));
      const typo = await run(['tally', MAILBOX, ...COMMON, '--adjudications', pending]);
      expect(typo.code).toBe(2);
      expect(typo.stderr).toMatch(/unknown candidate id\(s\): wiliams; the candidate ids are willoughby, williams, alty/);
    });
  });

  it('the file to fill in is safe to open in a spreadsheet: what a sender wrote stays inside its "#" comment line', async () => {
    await withDir(async (dir) => {
      // A paper forwarded below a header the sender wrote: the officer's note quotes its From line.
      const from = 'Leader, =HYPERLINK("http://attacker.example/","click") "x" <leader@north-herts.gov.uk>';
      const body = `Please count the paper below.\n\n---------- Forwarded message ---------\nFrom: ${from}\nDate: Wed, 31 Jan 2024 09:00\nSubject: Ballot\nTo: ballots@ccin.example\n\n${paperText({ williams: 'X' })}`;
      const mailbox = join(dir, 'mailbox');
      mkdirSync(mailbox);
      writeFileSync(join(mailbox, 'fw.eml'), eml({ body, from: 'Clerk <clerk@north-herts.gov.uk>' }));
      const pending = join(dir, 'pending.csv');
      const r = await run(['tally', mailbox, ...COMMON, '--pending', pending]);
      expect(r.code).toBe(3);
      const template = readFileSync(pending, 'utf8');
      expect(template).toMatch(/forwarded: .*=HYPERLINK\('http/);
      // Each message's "#" line is one field of one record: no comma, no double quote, so no cell of its own can begin "=".
      const notes = template.split('\n').filter((l) => l.startsWith('# ') && l.includes(' · '));
      expect(notes).toHaveLength(1);
      for (const line of notes) expect(line).not.toMatch(/[,"]/);
    });
  });

  it('inspect takes the ids the report prints, shows the text to judge, and saves a scan to open', async () => {
    await withDir(async (dir) => {
      const r = await run(['inspect', MAILBOX, '<ccin-2024-047@rochdale.gov.uk>', 'ballots.mbox#2', ...COMMON]);
      expect(r.code).toBe(0);
      expect(r.stdout.match(/⇒ /g)).toHaveLength(2);
      expect(r.stdout).toMatch(/what the sender wrote ──\n(?:.*\n)*.*Rochdale Borough Council votes for Cllr Jason Williams\./);
      const json = join(dir, 'r.json');
      await run(['tally', MAILBOX, ...COMMON, '--json', json]);
      const croydon = JSON.parse(readFileSync(json, 'utf8')).messages.find((m: { messageId: string }) => m.messageId === '<ccin-2024-057@croydon.gov.uk>');
      const saved = join(dir, 'scans');
      const s = await run(['inspect', MAILBOX, croydon.sha256.slice(0, 12), ...COMMON, '--save-attachments', saved]);
      expect(s.code).toBe(0);
      const files = readdirSync(saved);
      expect(files).toEqual([`${croydon.sha256.slice(0, 12)}-1-croydon-signed.pdf`]);
      expect(readFileSync(join(saved, files[0]!)).subarray(0, 5).toString()).toBe('%PDF-');
      const missing = await run(['inspect', MAILBOX, 'deadbeefdeadbeef', ...COMMON]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/neither a path nor the id of a message/);
    });
  });
});

describe('one clock, and the same figures everywhere', () => {
  it("times in the election's zone with GMT/BST; Date-header times flagged; terminal and JSON agree on authentication", async () => {
    await withDir(async (dir) => {
      const json = join(dir, 'r.json');
      const r = await run(['tally', MAILBOX, ...COMMON, '--json', json]);
      const result = JSON.parse(readFileSync(json, 'utf8'));
      expect(r.stdout).toMatch(/ 2024-02-01 12:00:00 GMT {2}counted Cllr Alistair Willoughby/); // Wakefield, on time to the second
      expect(r.stdout).toMatch(/knowsley .* 2024-02-01 09:30:00 GMT \(sender's Date header\)/);
      const a = result.summary.authentication;
      expect(r.stdout).toContain(`${a.authenticated} of ${a.ballots} ballots authenticated`);
      expect(a.ballots).toBe(result.summary.read - result.summary.dispositions['not-a-ballot'] - result.summary.dispositions['duplicate-copy']);
      // A counted message in the failing list says why it still counts.
      expect(r.stdout).toMatch(/newham .*→ counted — counts: authenticated by the ballot server's own Authentication-Results/);
    });
  });
});

describe('the README commands are the example files', () => {
  it('the example folder holds every file the README names', () => {
    for (const f of ['election.json', 'roster.csv', 'keys.zone', 'adjudications.csv', 'issued/issued.csv', 'mailbox']) expect(existsSync(join(EXAMPLE, f)), f).toBe(true);
  });
});
