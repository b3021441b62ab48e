import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISPOSITIONS, REJECTION_REASONS, ADJUDICATION_REASONS } from '../src/model/reasons.js';
import type { ResultModel } from '../src/model/result.js';
import { ADJUDICATIONS, ELECTION, ISSUED, KEYS, MAILBOX, ROSTER, run, tempDir } from './helpers.js';

async function tally(extra: string[] = []): Promise<{ result: ResultModel; code: number; stdout: string }> {
  const t = tempDir();
  try {
    const out = join(t.dir, 'r.json');
    const r = await run(['tally', MAILBOX, '--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--json', out, ...extra]);
    return { result: JSON.parse(readFileSync(out, 'utf8')) as ResultModel, code: r.code, stdout: r.stdout };
  } finally {
    t.cleanup();
  }
}

/** The example counted under its own election file with some keys changed. */
async function tallyWithElection(changes: Record<string, unknown>): Promise<ResultModel> {
  const t = tempDir();
  try {
    const path = join(t.dir, 'election.json');
    writeFileSync(path, JSON.stringify({ ...(JSON.parse(readFileSync(ELECTION, 'utf8')) as Record<string, unknown>), ...changes }));
    const out = join(t.dir, 'r.json');
    await run(['tally', MAILBOX, '--election', path, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--json', out]);
    return JSON.parse(readFileSync(out, 'utf8')) as ResultModel;
  } finally {
    t.cleanup();
  }
}

const byId = (r: ResultModel, id: string) => {
  const m = r.messages.find((x) => x.messageId === id);
  if (!m) throw new Error(`no message ${id}`);
  return m;
};

describe('the bundled 2024 example', () => {
  it('gives every message exactly one disposition, and they add up', async () => {
    const { result } = await tally();
    const sum = Object.values(result.summary.dispositions).reduce((a, b) => a + b, 0);
    expect(result.summary.read).toBe(68);
    expect(result.messages).toHaveLength(68);
    expect(sum).toBe(68);
    expect(result.summary.accounted).toBe(68);
    expect(new Set(result.messages.map((m) => `${m.sha256}@${m.source.file}#${m.source.index}`)).size).toBe(68);
  });

  it('holds every disposition and every reason this version decides', async () => {
    const { result } = await tally();
    for (const d of DISPOSITIONS) expect(result.summary.dispositions[d], d).toBeGreaterThan(0);
    // conflicting-duplicates needs duplicates: reject, and unauthenticated dkim: require (both tested below on the same mailbox).
    for (const r of REJECTION_REASONS.filter((x) => x !== 'conflicting-duplicates' && x !== 'unauthenticated')) expect(result.summary.rejected[r], r).toBeGreaterThan(0);
    for (const r of ADJUDICATION_REASONS) expect(result.summary.needsAdjudication[r], r).toBeGreaterThan(0);
    // Each form a paper comes back in: body, HTML, .txt, filled PDF, Word, scan, image, Outlook .msg.
    const origins = new Set(result.messages.flatMap((m) => m.evidence.papers.map((p) => p.origin.replace(/:.*\./, ':*.'))));
    for (const o of ['body-text', 'body-html', 'attachment:*.txt', 'attachment:*.pdf', 'attachment:*.docx']) expect(origins, o).toContain(o);
    expect(result.messages.some((m) => m.source.kind === 'msg' && m.disposition === 'counted')).toBe(true);
    expect(result.messages.filter((m) => m.reason === 'unreadable-attachment').map((m) => m.evidence.attachments[0]?.contentType).sort()).toEqual(['application/pdf', 'image/jpeg']);
  });

  it('judges each case as the spec prescribes', async () => {
    const { result, code } = await tally();
    expect(code).toBe(3); // provisional: eight messages need adjudication
    const expectations: [string, string, string | null, string[]?][] = [
      ['<ccin-2024-001@north-herts.gov.uk>', 'counted', null, ['willoughby']],
      ['<ccin-2024-002@westminster.gov.uk>', 'counted', null, ['williams']],
      ['<ccin-2024-013@liverpool.gov.uk>', 'counted', null, ['willoughby']],
      ['<ccin-2024-014@camden.gov.uk>', 'counted', null, ['alty']],
      ['<ccin-2024-015@islington.gov.uk>', 'counted', null, ['williams']],
      ['<ccin-2024-016@kirklees.gov.uk>', 'counted', null, ['alty']],
      ['<ccin-2024-017@cardiff.gov.uk>', 'counted', null, ['williams']],
      ['<ccin-2024-018@southwark.gov.uk>', 'counted', null, ['willoughby']],
      ['<ccin-2024-019@royalgreenwich.gov.uk>', 'counted', null, ['alty']],
      ['<ccin-2024-020@salford.gov.uk>', 'counted', null, ['williams']],
      ['<ccin-2024-021@barnsley.gov.uk>', 'counted', null, ['alty']],
      ['<ccin-2024-022@bradford.gov.uk>', 'counted', null, ['williams']],
      ['<ccin-2024-023@wakefield.gov.uk>', 'counted', null, ['willoughby']],
      ['<ccin-2024-024@knowsley.gov.uk>', 'counted', null, ['alty']],
      ['<ccin-2024-025@sefton.gov.uk>', 'superseded', null, ['willoughby']],
      ['<ccin-2024-026@sefton.gov.uk>', 'counted', null, ['williams']],
      ['<ccin-2024-027@wirral.gov.uk>', 'counted', null, ['alty']],
      ['<ccin-2024-028@wirral.gov.uk>', 'rejected', 'no-sign-off'],
      ['<ccin-2024-030@gmail.example>', 'rejected', 'unknown-sender'],
      ['<ccin-2024-031@glasgow.gov.uk>', 'rejected', 'not-eligible'],
      ['<ccin-2024-032@gateshead.gov.uk>', 'rejected', 'late'],
      ['<ccin-2024-033@southtyneside.gov.uk>', 'rejected', 'late'],
      ['<ccin-2024-034@exeter.gov.uk>', 'rejected', 'early'],
      ['<ccin-2024-035@cheshirewestandchester.gov.uk>', 'rejected', 'no-sign-off'],
      ['<ccin-2024-036@telford.gov.uk>', 'rejected', 'no-sign-off'],
      ['<ccin-2024-037@nottinghamcity.gov.uk>', 'rejected', 'sign-off-mismatch'],
      ['<ccin-2024-038@hastings.gov.uk>', 'rejected', 'council-mismatch'],
      ['<ccin-2024-039@brent.gov.uk>', 'rejected', 'unmarked'],
      ['<ccin-2024-040@calderdale.gov.uk>', 'rejected', 'overvote'],
      ['<ccin-2024-041@croydon.gov.uk>', 'rejected', 'void-for-uncertainty'],
      ['<ccin-2024-042@sunderland.gov.uk>', 'rejected', 'void-for-uncertainty'],
      ['<ccin-2024-043@stockport.gov.uk>', 'not-a-ballot', null],
      ['<dsn-0001@mx.ccin.example>', 'not-a-ballot', null],
      ['<ccin-2024-044@oldham.gov.uk>', 'not-a-ballot', null],
      ['<ccin-2024-045@localgov.example>', 'not-a-ballot', null],
      ['<ccin-2024-046@edinburgh.gov.uk>', 'not-a-ballot', null],
      ['<ccin-2024-047@rochdale.gov.uk>', 'needs-adjudication', 'no-ballot-paper'],
      ['<ccin-2024-048@northtyneside.gov.uk>', 'needs-adjudication', 'sign-off-near-miss'],
      ['<ccin-2024-050@lewisham.gov.uk>', 'needs-adjudication', 'forwarded'],
      ['<ccin-2024-051@towerhamlets.gov.uk>', 'needs-adjudication', 'unreadable-attachment'],
      // dkim: prefer. Stockport's paper altered after signing would change its signed vote (059);
      // Brent's unsigned paper would give a vote to a council whose signed paper was unmarked (039).
      ['<ccin-2024-052@stockport.gov.uk>', 'needs-adjudication', 'unauthenticated-change'],
      ['<ccin-2024-053@brent.gov.uk>', 'needs-adjudication', 'unauthenticated-change'],
      ['<ccin-2024-054@newham.gov.uk>', 'counted', null, ['alty']],
      ['<ccin-2024-055@exeter.gov.uk>', 'counted', null, ['williams']],
      ['<ccin-2024-056@cheshirewestandchester.gov.uk>', 'counted', null, ['alty']],
      ['<ccin-2024-057@croydon.gov.uk>', 'needs-adjudication', 'unreadable-attachment'],
      ['<ccin-2024-058@hastings.gov.uk>', 'rejected', 'wrong-reference'],
      ['<ccin-2024-outlook-telford@telford.gov.uk>', 'counted', null, ['alty']],
      ['<ccin-2024-059@stockport.gov.uk>', 'counted', null, ['willoughby']],
      // Unsigned, through the same server, the other candidate marked: the signed paper (002) stands.
      ['<ccin-2024-060@westminster.gov.uk>', 'needs-adjudication', 'unauthenticated-change'],
      // Unsigned, but agreeing with the signed paper: superseded, changes nothing.
      ['<ccin-2024-061@north-herts.gov.uk>', 'superseded', null, ['willoughby']],
      ['<ccin-2024-062@lambeth.gov.uk>', 'rejected', 'ambiguous-sender'],
      ['<ccin-2024-063@gmail.example>', 'rejected', 'unknown-sender'],
      ['<ccin-2024-064@xn--prston-4of.gov.uk>', 'rejected', 'unknown-sender'],
      ['<ccin-2024-065@nottinghamcity.gov.uk>', 'rejected', 'void-for-uncertainty'],
    ];
    for (const [id, disposition, reason, choices] of expectations) {
      const m = byId(result, id);
      expect({ id, disposition: m.disposition, reason: m.reason }).toEqual({ id, disposition, reason });
      if (choices) expect({ id, choices: m.choices }).toEqual({ id, choices });
    }
    // The wirral paper without sign-off came later but never supersedes the valid one.
    expect(byId(result, '<ccin-2024-027@wirral.gov.uk>').disposition).toBe('counted');
    // Received at 12:00:00 exactly is on time; a forged lower Received header does not move the time.
    expect(byId(result, '<ccin-2024-023@wakefield.gov.uk>').receivedAt).toBe('2024-02-01T12:00:00Z');
    expect(byId(result, '<ccin-2024-033@southtyneside.gov.uk>').receivedAt).toBe('2024-02-01T12:41:00Z');
    // Without a Received header from the CCIN server, the Date header is used and said to be.
    expect(byId(result, '<ccin-2024-024@knowsley.gov.uk>').receivedAtSource).toBe('date-header');
    expect(byId(result, '<ccin-2024-001@north-herts.gov.uk>').receivedAtSource).toBe('received');
    // Every council's ballot is DKIM-signed and verified offline against the pinned keys.
    expect(byId(result, '<ccin-2024-001@north-herts.gov.uk>').evidence.authentication).toMatchObject({ authenticated: true, decidedBy: 'signature' });
    expect(byId(result, '<ccin-2024-001@north-herts.gov.uk>').evidence.authentication.signatures[0]).toMatchObject({ domain: 'north-herts.gov.uk', keySource: 'pinned', result: 'pass' });
    expect(byId(result, '<ccin-2024-054@newham.gov.uk>').evidence.authentication).toMatchObject({ authenticated: true, decidedBy: 'trusted-header', failing: true });
    expect(byId(result, '<ccin-2024-052@stockport.gov.uk>').evidence.authentication.summary).toMatch(/body hash did not verify/);
    expect(byId(result, '<ccin-2024-053@brent.gov.uk>').evidence.authentication.ignoredHeaders[0]?.why).toMatch(/below the ballot address's own Received header/);
    expect(result.inputs.keys).toMatchObject({ file: 'keys.zone', records: 45 });
    // The ambiguous message is attributed to no council; the look-alike and the display name are named as such.
    expect(byId(result, '<ccin-2024-062@lambeth.gov.uk>').council).toBeNull();
    expect(byId(result, '<ccin-2024-064@xn--prston-4of.gov.uk>').evidence.findings.find((f) => f.code === 'unknown-sender')?.detail).toMatch(/LOOKS LIKE preston\.gov\.uk/);
    expect(byId(result, '<ccin-2024-063@gmail.example>').evidence.findings.some((f) => /display name "leader@oldham\.gov\.uk" looks like an address/.test(f.detail))).toBe(true);
    // 1,500 invented candidate lines: void, with the evidence kept short.
    const padded = byId(result, '<ccin-2024-065@nottinghamcity.gov.uk>');
    expect(padded.evidence.papers[0]?.marks.length).toBe(100);
    expect(padded.evidence.papers[0]?.marksOmitted).toBe(1503 - 100);
    expect(padded.evidence.findings.find((f) => f.code === 'void-for-uncertainty')?.detail).toMatch(/and 1490 more such line/);
    // Said beside the declaration: unsigned papers in the name of councils that sent signed ones.
    expect(result.summary.authentication.unauthenticatedInCouncilName.map((u) => [u.council, u.disposition]).sort()).toEqual([
      ['brent', 'needs-adjudication'],
      ['north-herts', 'superseded'],
      ['stockport', 'needs-adjudication'],
      ['westminster', 'needs-adjudication'],
    ]);
  });

  it('under dkim: require, every paper nothing authenticates is rejected unauthenticated', async () => {
    const result = await tallyWithElection({ dkim: 'require' });
    for (const id of ['<ccin-2024-052@stockport.gov.uk>', '<ccin-2024-053@brent.gov.uk>', '<ccin-2024-060@westminster.gov.uk>', '<ccin-2024-061@north-herts.gov.uk>']) {
      expect({ id, d: byId(result, id).disposition, r: byId(result, id).reason }).toEqual({ id, d: 'rejected', r: 'unauthenticated' });
    }
    expect(byId(result, '<ccin-2024-002@westminster.gov.uk>').disposition).toBe('counted');
  });

  it('counts the overlapping .eml export of a message once', async () => {
    const { result } = await tally();
    const copies = result.messages.filter((m) => m.messageId === '<ccin-2024-029@tameside.gov.uk>');
    expect(copies.map((m) => m.disposition).sort()).toEqual(['counted', 'duplicate-copy']);
    const copy = copies.find((m) => m.disposition === 'duplicate-copy');
    expect(copy?.evidence.duplicateOf).toBe(copies.find((m) => m.disposition === 'counted')?.sha256);
  });

  it('the hostile MIME bomb is a rejected row, not a crash', async () => {
    const { result } = await tally();
    const bomb = result.messages.filter((m) => m.reason === 'unreadable');
    expect(bomb).toHaveLength(1);
    expect(bomb[0]?.evidence.findings[0]?.detail).toMatch(/MIME parts, over the limit/);
  });

  it('with the adjudications file the result is final and shows each decision beside the automatic finding', async () => {
    const { result, code, stdout } = await tally(['--adjudications', ADJUDICATIONS]);
    expect(code).toBe(0);
    expect(result.final).toBe(true);
    expect(result.summary.dispositions['needs-adjudication']).toBe(0);
    const nt = byId(result, '<ccin-2024-048@northtyneside.gov.uk>');
    expect(nt.disposition).toBe('counted');
    expect(nt.choices).toEqual(['alty']);
    expect(nt.adjudication).toMatchObject({ automatic: { reason: 'sign-off-near-miss' }, decision: 'count' });
    const ro = byId(result, '<ccin-2024-047@rochdale.gov.uk>');
    expect(ro.disposition).toBe('rejected');
    expect(ro.adjudication?.automatic.reason).toBe('no-ballot-paper');
    expect(result.tally).toEqual([
      { candidate: 'willoughby', name: 'Cllr Alistair Willoughby', votes: 7, elected: false },
      { candidate: 'williams', name: 'Cllr Jason Williams', votes: 15, elected: true },
      { candidate: 'alty', name: 'Cllr Jacky Alty', votes: 14, elected: false },
    ]);
    expect(result.turnout).toEqual({ voted: 36, eligible: 43, text: '36 of 43 eligible councils' });
    expect(stdout).toContain('DECLARATION OF RESULT');
    expect(stdout).toContain('36 of 43 eligible councils');
    expect(stdout).toMatch(/DECLARATION OF RESULT\n {2}! 4 UNAUTHENTICATED paper\(s\) sent in the name of a council/);
    expect(byId(result, '<ccin-2024-060@westminster.gov.uk>')).toMatchObject({ disposition: 'rejected', reason: 'unauthenticated-change', adjudication: { automatic: { reason: 'unauthenticated-change' }, decision: 'reject' } });
    expect(stdout).toContain('ADJUDICATED BY THE RETURNING OFFICER');
  });

  it('under duplicates: reject, a council whose valid papers disagree has all rejected conflicting-duplicates', async () => {
    const result = await tallyWithElection({ duplicates: 'reject' });
    const sefton = result.messages.filter((m) => m.council === 'sefton');
    expect(sefton.map((m) => [m.disposition, m.reason])).toEqual([
      ['rejected', 'conflicting-duplicates'],
      ['rejected', 'conflicting-duplicates'],
    ]);
    expect(result.councilsNotVoted.map((c) => c.council)).toContain('sefton');
  });
});
