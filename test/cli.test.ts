import { execFile, spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ADJUDICATIONS, ELECTION, EXAMPLE, ISSUED, KEYS, MAILBOX, ROOT, ROSTER, eml, paperText, run, tempDir } from './helpers.js';

const exec = promisify(execFile);
const BIN = join(ROOT, 'bin', 'ccin-tally');

describe('exit codes and input errors', () => {
  it('0 for a final result, 3 for a provisional one', async () => {
    expect((await run(['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS])).code).toBe(0);
    expect((await run(['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED])).code).toBe(3);
  });
  it('2 for usage mistakes', async () => {
    expect((await run(['tally', MAILBOX, '--roster', ROSTER])).code).toBe(2);
    expect((await run(['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--bogus'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
  });
  it('2 for a bad input file, naming file, line and field, before anything is counted', async () => {
    const t = tempDir();
    try {
      const roster = join(t.dir, 'roster.csv');
      writeFileSync(roster, readFileSync(ROSTER, 'utf8').replace('lambeth,London Borough of Lambeth,Full', 'lambeth,London Borough of Lambeth,Gold'));
      const r = await run(['tally', MAILBOX, '--election', ELECTION, '--roster', roster]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/roster\.csv:5 \(column membership\): must be Full, Associate or Affiliate \(value: "Gold"\)/);
      const missing = await run(['tally', MAILBOX, '--election', join(t.dir, 'nope.json'), '--roster', ROSTER]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/nope\.json: election file not found/);
      const adj = join(t.dir, 'adj.csv');
      writeFileSync(adj, 'message,decision,choices,reason\n<ccin-2024-001@north-herts.gov.uk>,reject,,changed my mind\n');
      const notPending = await run(['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', adj]);
      expect(notPending.code).toBe(2);
      expect(notPending.stderr).toMatch(/adj\.csv:2 \(column message\): .*does not need adjudication/);
      expect((await run(['tally', join(t.dir, 'no-such-mailbox'), '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED])).code).toBe(2);
    } finally {
      t.cleanup();
    }
  });
});

describe('verify', () => {
  it('reproduces an honest result, and names what differs in a doctored one', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'result.json');
      await run(['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS, '--json', out]);
      const ok = await run(['verify', out, MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/VERIFIED/);

      // Doctored: a rejected message turned into a vote, and the figures changed to match, digest recomputed.
      const r = JSON.parse(readFileSync(out, 'utf8'));
      const m = r.messages.find((x: { messageId: string }) => x.messageId === '<ccin-2024-037@nottinghamcity.gov.uk>');
      Object.assign(m, { disposition: 'counted', reason: null, choices: ['willoughby'] });
      r.tally[0].votes += 1;
      const { resultDigest } = await import('../src/model/canonical.js');
      r.digest = resultDigest(r);
      const doctored = join(t.dir, 'doctored.json');
      writeFileSync(doctored, JSON.stringify(r, null, 2));
      const bad = await run(['verify', doctored, MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS]);
      expect(bad.code).toBe(4);
      expect(bad.stdout).toMatch(/NOT VERIFIED/);
      expect(bad.stdout).toMatch(/[0-9a-f]{12} \(mailbox\/ballots\.mbox#30\): result says counted \[willoughby\], recount says rejected: sign-off-mismatch/);
      expect(bad.stdout).toMatch(/willoughby: result says 8 votes, recount 7/);

      // What a doctored file says reaches the terminal as text, never as escape sequences.
      r.messages[0].disposition = '\u001b[2Jcounted';
      r.digest = resultDigest(r);
      writeFileSync(doctored, JSON.stringify(r, null, 2));
      const hostile = await run(['verify', doctored, MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS]);
      expect(hostile.stdout).not.toContain('\u001b[2J');
      expect(hostile.stdout).toContain('\\x1b[2Jcounted');

      // Edited by hand without recomputing the digest: said plainly.
      r.tally[1].votes = 99;
      writeFileSync(doctored, JSON.stringify(r, null, 2));
      const edited = await run(['verify', doctored, MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS]);
      expect(edited.code).toBe(4);
      expect(edited.stdout).toMatch(/changed after it was made/);

      // Recounted without the adjudications: the inputs differ and so do the dispositions.
      const noAdj = await run(['verify', out, MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED]);
      expect(noAdj.code).toBe(4);
      expect(noAdj.stdout).toMatch(/adjudications differ/);
    } finally {
      t.cleanup();
    }
  });
  it('a result file that is not a result is an input error', async () => {
    const r = await run(['verify', ROSTER, MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/roster\.csv:1/);
  });
});

describe('a reader that stops early', () => {
  it('`ccin-tally tally … | head`: no error, and the files asked for are still written', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'r.json');
      const child = spawn(BIN, ['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS, '--json', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // The reading end closed before the report is written, as when head has had its lines.
      child.stdout.destroy();
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8')).final).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});

describe('determinism', () => {
  it('byte-identical JSON whatever the time zone, locale, argument order and working directory', async () => {
    const t = tempDir();
    try {
      // A second copy of the example, so that the folder itself differs too.
      const copy = join(t.dir, 'elsewhere', 'ccin-2024');
      cpSync(EXAMPLE, copy, { recursive: true });
      const a = join(t.dir, 'a.json');
      const b = join(t.dir, 'b.json');
      const c = join(t.dir, 'c.json');
      const env = { ...process.env, NO_COLOR: '1' };
      await exec(BIN, ['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--json', a], { env: { ...env, TZ: 'UTC', LC_ALL: 'C' } }).catch((e: { code: number }) => expect(e.code).toBe(3));
      await exec(
        BIN,
        ['tally', join('ccin-2024', 'mailbox', 'outlook'), join('ccin-2024', 'mailbox', 'maildir'), join('ccin-2024', 'mailbox', 'eml'), join('ccin-2024', 'mailbox', 'ballots.mbox'), '--roster', join('ccin-2024', 'roster.csv'), '--election', join('ccin-2024', 'election.json'), '--keys', join('ccin-2024', 'keys.zone'), '--issued', join('ccin-2024', 'issued', 'issued.csv'), '--json', b],
        { env: { ...env, TZ: 'Pacific/Kiritimati', LC_ALL: 'tr_TR.UTF-8', LANG: 'ja_JP.UTF-8' }, cwd: join(t.dir, 'elsewhere') },
      ).catch((e: { code: number }) => expect(e.code).toBe(3));
      const rel = relative(ROOT, MAILBOX);
      await exec(BIN, ['tally', join(rel, 'ballots.mbox'), join(rel, 'maildir'), join(rel, 'eml'), join(rel, 'outlook'), '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--json', c], { env: { ...env, TZ: 'America/St_Johns' }, cwd: ROOT }).catch(
        (e: { code: number }) => expect(e.code).toBe(3),
      );
      const ba = readFileSync(a);
      // Given as the mailbox folder or as its three parts, the inputs are named differently; the messages are the same.
      const rb = JSON.parse(readFileSync(b, 'utf8'));
      const rc = JSON.parse(readFileSync(c, 'utf8'));
      expect(readFileSync(b).equals(readFileSync(c))).toBe(true);
      const ra = JSON.parse(ba.toString());
      const strip = (r: { messages: { source: unknown }[] }) => r.messages.map((m) => ({ ...m, source: null }));
      expect(strip(rb)).toEqual(strip(ra));
      expect(rc.tally).toEqual(ra.tally);
      // And the same command twice is byte-identical.
      await exec(BIN, ['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--json', b], { env: { ...env, TZ: 'Asia/Kolkata', LC_ALL: 'de_DE.UTF-8' } }).catch((e: { code: number }) => expect(e.code).toBe(3));
      expect(readFileSync(b).equals(ba)).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});

describe('the terminal report', () => {
  it('has no colour when NO_COLOR is set or the output is not a terminal, and colour on a terminal', async () => {
    const args = ['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS];
    expect((await run(args, {}, false)).stdout).not.toMatch(/\u001b\[/);
    expect((await run(args, { NO_COLOR: '1' }, true)).stdout).not.toMatch(/\u001b\[/);
    expect((await run(args, {}, true)).stdout).toMatch(/\u001b\[/);
  });
  it('no control character or escape sequence from an email reaches the terminal', async () => {
    const t = tempDir();
    try {
      const evil = eml({
        from: '"\u001b[2J\u001b[1;1H\u202eEvil\u0007" <leader@north-herts.gov.uk>',
        subject: '\u001b]0;pwned\u0007',
        messageId: '<\u001b[31mred@x>',
        body: paperText({ williams: 'X' }, { name: 'Cllr Elliot Kirkland\u001b[8m' }),
      });
      writeFileSync(join(t.dir, 'evil.eml'), evil);
      for (const cmd of ['tally', 'inspect']) {
        const r = await run([cmd, join(t.dir, 'evil.eml'), '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED], {}, true);
        const withoutOurColours = r.stdout.replace(/\u001b\[(?:\d+;)*\d*m/g, '');
        expect(withoutOurColours, cmd).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
        expect(r.stdout).not.toContain('\u001b[2J');
        if (cmd === 'inspect') expect(r.stdout).toContain('\\x1b[2J');
      }
    } finally {
      t.cleanup();
    }
  });
  it('shows the declaration, rejected papers by reason, councils that did not vote and every message', async () => {
    const r = await run(['example']);
    expect(r.code).toBe(0);
    for (const s of ['DECLARATION OF RESULT', 'Cllr Jason Williams', 'ELECTED', 'Turnout: 36 of 43 eligible councils', 'STATEMENT OF REJECTED PAPERS', 'late', 'ambiguous-sender', 'unauthenticated-change', 'wrong-reference', 'AUTHENTICATION (dkim: prefer)', 'signature present and FAILS', 'ELIGIBLE COUNCILS THAT DID NOT VOTE (7)', 'Nottingham City Council', 'MESSAGES: 68 read = 36 counted + 24 rejected + 2 superseded + 1 duplicate-copy + 5 not-a-ballot + 0 needs-adjudication']) {
      expect(r.stdout).toContain(s);
    }
  });
  it('writes a self-contained HTML declaration', async () => {
    const t = tempDir();
    try {
      const html = join(t.dir, 'r.html');
      await run(['example', '--html', html]);
      const text = readFileSync(html, 'utf8');
      expect(text).toMatch(/^<!DOCTYPE html>/);
      expect(text).toContain('<svg');
      expect(text).toContain('Statement of rejected ballot papers');
      expect(text).toContain('@page{size:A4');
      expect(text).not.toMatch(/(?:src|href)="https?:/);
    } finally {
      t.cleanup();
    }
  });
});

describe('a tie at the boundary, end to end', () => {
  const tied = [join(MAILBOX, 'maildir', 'cur', '1706003600.M1P4242.ballots:2,S'), join(MAILBOX, 'maildir', 'cur', '1706007200.M2P4242.ballots:2,S')];
  it('is decided by the lot, with the seed and every hash printed for anyone to redo', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'r.json');
      const r = await run(['tally', ...tied, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--json', out]);
      expect(r.code).toBe(0);
      const result = JSON.parse(readFileSync(out, 'utf8'));
      const { createHash } = await import('node:crypto');
      const h = (id: string) => createHash('sha256').update(`co-operative values 2024-02-01:${id}`).digest('hex');
      const expectedWinner = h('williams') < h('willoughby') ? 'williams' : 'willoughby';
      expect(result.lot.order.map((o: { candidate: string; sha256: string }) => [o.candidate, o.sha256]).sort()).toEqual([
        ['williams', h('williams')],
        ['willoughby', h('willoughby')],
      ]);
      expect(result.lot.elected).toEqual([expectedWinner]);
      expect(result.tally.find((x: { elected: boolean }) => x.elected).candidate).toBe(expectedWinner);
      expect(r.stdout).toContain('Tie decided by lot. Seed: "co-operative values 2024-02-01"');
      expect(r.stdout).toContain(h('williams'));
    } finally {
      t.cleanup();
    }
  });
  it('without a seed leaves the result provisional (exit 3)', async () => {
    const t = tempDir();
    try {
      const e = JSON.parse(readFileSync(ELECTION, 'utf8'));
      delete e.tieBreak;
      const path = join(t.dir, 'election.json');
      writeFileSync(path, JSON.stringify(e));
      const r = await run(['tally', ...tied, '--election', path, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED]);
      expect(r.code).toBe(3);
      expect(r.stdout).toContain('PROVISIONAL RESULT');
      expect(r.stdout).toMatch(/tie at the boundary between willoughby, williams and the election file gives no lot seed/);
    } finally {
      t.cleanup();
    }
  });
});
