/**
 * What people do with the count (issue 9): the spreadsheet, the declaration, the tally sheet.
 */
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeAtomicPieces } from '../src/cli/outputs.js';
import { neutralise } from '../src/report/csv.js';
import { ADJUDICATIONS, ELECTION, ISSUED, KEYS, MAILBOX, ROSTER, eml, paperText, run, tempDir } from './helpers.js';

const COMMON = ['--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS];

describe('--csv', () => {
  it('one row per message, UTF-8 with BOM, formula cells neutralised, written by a CSV library', async () => {
    const t = tempDir();
    try {
      const box = join(t.dir, 'box');
      mkdirSync(box);
      writeFileSync(join(box, 'hostile.eml'), eml({ subject: '=HYPERLINK("http://x.example","click")', body: paperText({ williams: 'X' }), messageId: '<hostile@north-herts.gov.uk>' }));
      const csv = join(t.dir, 'r.csv');
      const json = join(t.dir, 'r.json');
      const r = await run(['tally', MAILBOX, box, ...COMMON, '--csv', csv, '--json', json]);
      expect([0, 3]).toContain(r.code);
      const bytes = readFileSync(csv);
      expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      const rows = parse(bytes, { bom: true, columns: true }) as Record<string, string>[];
      const result = JSON.parse(readFileSync(json, 'utf8')) as { messages: { sha256: string; disposition: string }[] };
      expect(rows).toHaveLength(result.messages.length);
      expect(rows.map((x) => [x.sha256, x.disposition])).toEqual(result.messages.map((m) => [m.sha256, m.disposition]));
      const hostile = rows.find((x) => x.message_id === '<hostile@north-herts.gov.uk>');
      expect(hostile?.subject).toBe('\'=HYPERLINK("http://x.example","click")');
      expect(bytes.toString('utf8')).toContain('\r\n');
      expect(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', 'plain'].map(neutralise)).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", 'plain']);
    } finally {
      t.cleanup();
    }
  });
});

describe('the tally sheet and receipts', () => {
  const SECRET = join(ELECTION, '..', 'secret.txt');
  it('every counted paper is a line "hash  choices" sorted by hash; each council finds its own with sha256sum; the totals re-add; verify checks it', async () => {
    const t = tempDir();
    try {
      const sheet = join(t.dir, 'sheet.txt');
      const json = join(t.dir, 'r.json');
      const receipts = join(t.dir, 'receipts');
      const r = await run(['tally', MAILBOX, ...COMMON, '--tally-sheet', sheet, '--secret-file', SECRET, '--json', json]);
      expect(r.code).toBe(0);
      const result = JSON.parse(readFileSync(json, 'utf8')) as { tally: { candidate: string; votes: number }[]; tallySheet: { sha256: string; lines: number }; messages: { sha256: string; council: string | null; disposition: string; reason: string | null; choices: string[]; evidence: { findings: { code: string; detail: string }[] } }[] };
      const text = readFileSync(sheet, 'utf8');
      const lines = text.trimEnd().split('\n');
      expect(lines).toHaveLength(result.tally.reduce((a, x) => a + x.votes, 0));
      expect(lines).toEqual([...lines].sort());
      for (const l of lines) expect(l).toMatch(/^[0-9a-f]{64} {2}[a-z+]+$/);
      // Anyone re-adds the totals from the sheet alone.
      const added = new Map<string, number>();
      for (const l of lines) for (const c of l.split('  ')[1]!.split('+')) added.set(c, (added.get(c) ?? 0) + 1);
      for (const x of result.tally) expect(added.get(x.candidate) ?? 0).toBe(x.votes);
      expect(result.tallySheet.sha256).toBe(createHash('sha256').update(text).digest('hex'));
      expect(r.stdout).toContain(`Tally sheet of receipts: ${lines.length} lines, SHA-256 ${result.tallySheet.sha256}`);
      expect(readFileSync(json, 'utf8')).not.toContain(readFileSync(SECRET, 'utf8').trim());

      const rc = await run(['receipts', MAILBOX, ...COMMON, '--secret-file', SECRET, '--out', receipts]);
      expect(rc.code).toBe(0);
      const sent = new Set(result.messages.filter((m) => m.council !== null).map((m) => m.council));
      const files = readdirSync(receipts);
      expect(files.filter((f) => f.endsWith('.txt')).map((f) => f.replace(/\.txt$/, '')).sort()).toEqual([...sent].sort());
      expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(sent.size);
      // Each council that had a paper counted finds its line, with printf and sha256sum alone.
      for (const m of result.messages.filter((x) => x.disposition === 'counted')) {
        const notice = readFileSync(join(receipts, `${m.council}.txt`), 'utf8');
        const command = /^ {2}(printf '%s' '[^']+' \| sha256sum)$/m.exec(notice)?.[1];
        expect(command, m.council ?? '').toBeDefined();
        const hash = execSync(command!, { encoding: 'utf8', shell: '/bin/sh' }).split(' ')[0];
        expect(lines, m.council ?? '').toContain(`${hash}  ${m.choices.join('+')}`);
      }
      // Each message not counted says why, as its deciding finding does, in its council's notice.
      for (const m of result.messages.filter((x) => x.council !== null && x.disposition !== 'counted' && x.disposition !== 'duplicate-copy')) {
        const decided = m.evidence.findings.find((f) => f.code === (m.reason ?? m.disposition));
        if (decided === undefined) continue;
        const notice = readFileSync(join(receipts, `${m.council}.txt`), 'utf8');
        expect(notice, m.sha256).toContain(`: ${m.disposition}${m.reason ? ` (${m.reason})` : ''}\n      ${decided.detail.slice(0, 60)}`);
      }
      expect(readFileSync(join(receipts, 'glasgow.txt'), 'utf8')).toMatch(/: rejected \(not-eligible\)\n {6}Glasgow City Council is an Associate member; eligible: Full\n/);
      const eml = readFileSync(join(receipts, 'westminster.eml'), 'utf8');
      expect(eml).toMatch(/^From: ballots@ccin\.example\r\nTo: leader@westminster\.gov\.uk\r\n/);

      // verify checks the published sheet too.
      const ok = await run(['verify', json, MAILBOX, ...COMMON, '--tally-sheet', sheet, '--secret-file', SECRET]);
      expect(ok.code).toBe(0);
      // A second person, without the secret, checks all but the line hashes: the result, the sheet's SHA-256, its totals.
      const publicCheck = await run(['verify', json, MAILBOX, ...COMMON, '--tally-sheet', sheet]);
      expect(publicCheck.code).toBe(0);
      expect(publicCheck.stdout).toMatch(/note: the tally sheet's line hashes were not recomputed \(no secret given\)/);
      expect(publicCheck.stdout).toMatch(/VERIFIED/);
      writeFileSync(sheet, text.replace(/ {2}williams\n/, '  alty\n'));
      const bad = await run(['verify', json, MAILBOX, ...COMMON, '--tally-sheet', sheet, '--secret-file', SECRET]);
      expect(bad.code).toBe(4);
      expect(bad.stdout).toMatch(/the tally sheet .* is not the one the recount makes/);
      const badPublic = await run(['verify', json, MAILBOX, ...COMMON, '--tally-sheet', sheet]);
      expect(badPublic.code).toBe(4);
      expect(badPublic.stdout).toMatch(/the result names a tally sheet with sha256 [0-9a-f]{64}, not/);
      expect(badPublic.stdout).toMatch(/the tally sheet gives williams \d+ votes; the recount \d+/);
      // A line that is not a hash and this election's candidate ids is named, not silently added.
      writeFileSync(sheet, text + `${'0'.repeat(64)}  mallory\nnot a line\n`);
      const odd = await run(['verify', json, MAILBOX, ...COMMON, '--tally-sheet', sheet]);
      expect(odd.code).toBe(4);
      expect(odd.stdout).toMatch(/line \d+ of the tally sheet is not "<hash> {2}<candidate ids>" of this election: "0{64} {2}mallory"/);
      expect(odd.stdout).toMatch(/line \d+ of the tally sheet is not .*"not a line"/);
    } finally {
      t.cleanup();
    }
  });
});

describe('a flood of forged papers', () => {
  it('the alert near the top shows twenty of the unauthenticated papers in a council\'s name and counts the rest', async () => {
    const { runCount } = await import('../src/cli/pipeline.js');
    const { unauthenticatedAlert } = await import('../src/report/terminal.js');
    const result = await runCount({ paths: [MAILBOX], election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED, adjudications: ADJUDICATIONS, generator: 'test', jobs: 1 });
    const real = result.summary.authentication.unauthenticatedInCouncilName;
    expect(real.length).toBeGreaterThan(0);
    // The example's own entries, repeated as a flood of 45 from three councils would make them.
    const flood = Array.from({ length: 45 }, (_, i) => ({ ...real[i % real.length]!, council: `c${i % 3}`, sha256: createHash('sha256').update(String(i)).digest('hex') }));
    const lines = unauthenticatedAlert({ ...result, summary: { ...result.summary, authentication: { ...result.summary.authentication, unauthenticatedInCouncilName: flood } } });
    expect(lines).toHaveLength(22);
    expect(lines[0]).toMatch(/^ {2}! 45 UNAUTHENTICATED paper\(s\)/);
    expect(lines.slice(1, 21).map((l) => l.trim().slice(0, 16))).toEqual(flood.slice(0, 20).map((u) => `${u.council}: ${u.sha256.slice(0, 12)}`.slice(0, 16)));
    expect(lines[21]).toBe('    … and 25 more, from 3 council(s) in all: every one is in the message list, and in the JSON (summary.authentication.unauthenticatedInCouncilName)');
    // Twenty or fewer are all shown.
    expect(unauthenticatedAlert(result)).toHaveLength(1 + real.length);
  });
});

describe('files written piece by piece', () => {
  it('hold exactly the UTF-8 of the pieces joined, whatever the pieces (split surrogate pairs, lone halves, pieces larger than the block)', () => {
    const t = tempDir();
    try {
      const path = join(t.dir, 'out.txt');
      const unit = fc.oneof(
        fc.constantFrom('a', 'é', '€', '\ud83d', '\ude00', '\ud83d\ude00', '\n', '"'),
        fc.string({ unit: 'binary', maxLength: 40 }),
      );
      const piece = fc.oneof({ weight: 8, arbitrary: fc.array(unit, { maxLength: 30 }).map((us) => us.join('')) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 400_000 }).map((n) => 'ü'.repeat(n)) });
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
          writeAtomicPieces(path, (write) => pieces.forEach((p) => write(p)));
          expect(readFileSync(path).equals(Buffer.from(pieces.join(''), 'utf8'))).toBe(true);
        }),
        { seed: 20261202, numRuns: 150 },
      );
      // Many small pieces across several blocks, a pair split at every boundary.
      const many = Array.from({ length: 300_000 }, (_, i) => (i % 2 === 0 ? `x${i}\ud83d` : '\ude00'));
      writeAtomicPieces(path, (write) => many.forEach((p) => write(p)));
      expect(readFileSync(path).equals(Buffer.from(many.join(''), 'utf8'))).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});
