/**
 * Ballot mailboxes on Microsoft 365 and Google (issue 11): real-shaped messages made by
 * fixtures/services/make.py (dkimpy signatures, the services' header shapes), counted under
 * `dkim: require` with the service named in `receivedVia`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MessageRecord, ResultModel } from '../src/model/result.js';
import { ELECTION, ROOT, ROSTER, run, tempDir } from './helpers.js';

const DIR = join(ROOT, 'fixtures', 'services');
const KEYS = join(ROOT, 'fixtures', 'dkim', 'keys.zone');

async function count(paths: string[], election: Record<string, unknown>): Promise<{ result: ResultModel; code: number; stderr: string }> {
  const t = tempDir();
  try {
    const base = JSON.parse(readFileSync(ELECTION, 'utf8')) as Record<string, unknown>;
    delete base.receivedBy;
    const file = join(t.dir, 'election.json');
    writeFileSync(file, JSON.stringify({ ...base, dkim: 'require', ...election }, null, 2));
    const out = join(t.dir, 'r.json');
    const r = await run(['tally', ...paths, '--election', file, '--roster', ROSTER, '--keys', KEYS, '--json', out]);
    if (r.code === 2) return { result: undefined as unknown as ResultModel, code: r.code, stderr: r.stderr };
    return { result: JSON.parse(readFileSync(out, 'utf8')) as ResultModel, code: r.code, stderr: r.stderr };
  } finally {
    t.cleanup();
  }
}
const byId = (r: ResultModel, id: string): MessageRecord => {
  const m = r.messages.find((x) => x.messageId === `<${id}@north-herts.gov.uk>`);
  if (!m) throw new Error(`no message ${id}`);
  return m;
};

describe('Microsoft 365 (receivedVia: microsoft365)', () => {
  const files = ['signed.eml', 'banner-owa.eml', 'forged-stamps.eml'].map((f) => join(DIR, 'm365', f));

  it('a signed ballot authenticates by its signature; the receipt time is the tenant edge’s, not a later internal hop’s or the sender’s', async () => {
    const { result } = await count(files, { receivedVia: 'microsoft365' });
    const m = byId(result, 'm365-signed');
    // All three fixtures are North Herts's: one vote counts, the others are superseded; each is valid or not on its own.
    expect(m).toMatchObject({ disposition: 'superseded', choices: ['williams'], receivedAt: '2024-01-31T10:00:05Z', receivedAtSource: 'received' });
    expect(m.evidence.receipt).toMatch(/Microsoft 365 \(Exchange Online\)'s edge, by am4pepf00025f9b\.mail\.protection\.outlook\.com/);
    expect(m.evidence.authentication.decidedBy).toBe('signature');
  });

  it('an external-sender banner breaks the body hash; the tenant’s own stamp (no authserv-id, above its edge) authenticates — in .eml, in .msg, and for a council sending from Google Workspace', async () => {
    for (const file of ['banner-owa.eml', 'banner-outlook.msg', 'from-google-workspace.eml']) {
      const { result } = await count([join(DIR, 'm365', file)], { receivedVia: 'microsoft365' });
      const m = result.messages[0]!;
      expect({ file, d: m.disposition, c: m.choices, at: m.receivedAt }).toEqual({ file, d: 'counted', c: [file.includes('google') ? 'williams' : 'alty'], at: '2024-01-31T10:00:05Z' });
      expect(m.evidence.authentication.decidedBy).toBe('trusted-header');
      expect(m.evidence.authentication.trustedHeaders.some((t) => t.authservId === '(no authserv-id)' && t.authenticates)).toBe(true);
      expect(m.evidence.authentication.trustedHeaders.some((t) => t.authservId === 'ARC mx.microsoft.com' && t.authenticates)).toBe(true);
      // Its own signature no longer verifies (.eml), or cannot be checked (.msg); the report says so.
      if (file.endsWith('.eml')) expect(m.evidence.authentication.failing).toBe(true);
    }
  });

  it('stamps a forger wrote below the edge never authenticate; the tenant’s dmarc=fail/compauth=fail is shown; a forged edge header lower down does not move the time', async () => {
    const { result } = await count(files, { receivedVia: 'microsoft365' });
    const m = byId(result, 'm365-forged');
    expect(m).toMatchObject({ disposition: 'rejected', reason: 'unauthenticated', receivedAt: '2024-01-31T10:00:05Z' });
    const ignored = m.evidence.authentication.ignoredHeaders;
    expect(ignored.filter((h) => /below Microsoft 365 \(Exchange Online\)'s edge Received header/.test(h.why))).toHaveLength(2);
    expect(m.evidence.authentication.summary).toMatch(/dmarc=fail for north-herts\.gov\.uk and compauth=fail: the From address is probably forged/);
    // Under prefer it is flagged among failing ballots.
    const prefer = await count(files, { receivedVia: 'microsoft365', dkim: 'prefer' });
    expect(prefer.result.summary.authentication.failingSignatures).toContain(m.sha256);
  });

  it('without the profile, Exchange’s stamp has no authserv-id to trust, as before', async () => {
    const { result } = await count(files, { receivedBy: ['mx.ccin.example'] });
    expect(byId(result, 'm365-banner')).toMatchObject({ disposition: 'rejected', reason: 'unauthenticated' });
  });
});

describe('Google (receivedVia: google)', () => {
  const files = ['signed.eml', 'rewrapped.eml', 'forged-stamps.eml'].map((f) => join(DIR, 'google', f));

  it('signed, re-wrapped (Google’s stamp below its edge authenticates) and forged (stamps further down never do)', async () => {
    const { result } = await count(files, { receivedVia: 'google' });
    // All three are North Herts's: the two valid ones share the vote (one counted, one superseded).
    expect(byId(result, 'google-signed')).toMatchObject({ choices: ['williams'], receivedAt: '2024-01-31T10:00:04Z' });
    expect(byId(result, 'google-signed').evidence.authentication.decidedBy).toBe('signature');
    const rewrapped = byId(result, 'google-rewrapped');
    expect(rewrapped).toMatchObject({ choices: ['alty'] });
    expect([byId(result, 'google-signed').disposition, rewrapped.disposition].sort()).toEqual(['counted', 'superseded']);
    expect(rewrapped.evidence.authentication.decidedBy).toBe('trusted-header');
    const forged = byId(result, 'google-forged');
    expect(forged).toMatchObject({ disposition: 'rejected', reason: 'unauthenticated' });
    expect(forged.evidence.authentication.ignoredHeaders.map((h) => h.why).join('\n')).toMatch(/below Google \(Gmail, Google Workspace\)'s edge Received header/);
    expect(forged.evidence.authentication.summary).toMatch(/dmarc=fail/);
  });

  it('a Google Takeout mbox gives the same outcomes', async () => {
    const { result } = await count([join(DIR, 'google', 'takeout.mbox')], { receivedVia: 'google' });
    expect(result.messages.map((m) => [m.messageId, m.disposition, m.reason])).toEqual([
      ['<google-signed@north-herts.gov.uk>', 'counted', null],
      ['<google-rewrapped@north-herts.gov.uk>', 'superseded', null],
      ['<google-forged@north-herts.gov.uk>', 'rejected', 'unauthenticated'],
    ]);
  });

  it('a Microsoft 365 message counted under the Google profile has no Google edge: the Date header is used and said to be', async () => {
    const { result } = await count([join(DIR, 'm365', 'banner-owa.eml')], { receivedVia: 'google' });
    const m = byId(result, 'm365-banner');
    expect(m).toMatchObject({ receivedAtSource: 'date-header', disposition: 'rejected', reason: 'unauthenticated' });
    expect(result.notices.join('\n')).toMatch(/timed by their Date header .*Google \(Gmail, Google Workspace\)'s edge/);
  });
});

describe('the election names one receiver', () => {
  it('receivedVia for a service and receivedBy together, or postfix without receivedBy, are input errors', async () => {
    const both = await count([join(DIR, 'm365', 'signed.eml')], { receivedVia: 'microsoft365', receivedBy: ['mx.ccin.example'] });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/"receivedVia": "microsoft365" names the service .* Give one of them/);
    const postfix = await count([join(DIR, 'm365', 'signed.eml')], { receivedVia: 'postfix' });
    expect(postfix.code).toBe(2);
    expect(postfix.stderr).toMatch(/needs "receivedBy"/);
  });
});
