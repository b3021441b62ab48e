import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultModel } from '../src/model/result.js';
import { ROOT, ROSTER, run, tempDir } from './helpers.js';

const DIR = join(ROOT, 'fixtures', 'postfix-delivery');

describe('a mailbox delivered by a real Postfix (mbox and Maildir exports of it)', () => {
  it('gives each message the disposition the spec prescribes, and each second copy is a duplicate', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'r.json');
      const r = await run(['tally', join(DIR, 'mailbox'), '--election', join(DIR, 'election.json'), '--roster', ROSTER, '--json', out]);
      expect(r.code).toBe(3); // one message needs adjudication
      const result = JSON.parse(readFileSync(out, 'utf8')) as ResultModel;
      expect(result.summary.read).toBe(28);
      expect(result.summary.dispositions['duplicate-copy']).toBe(14);
      const bySubject = new Map<string, string>();
      for (const m of result.messages) {
        if (m.disposition === 'duplicate-copy') continue;
        bySubject.set(m.evidence.subject ?? '', `${m.disposition}${m.reason ? `: ${m.reason}` : ''}${m.choices.length ? ` ${m.choices.join('+')}` : ''}`);
      }
      expect(Object.fromEntries(bySubject)).toEqual({
        'CCIN ballot': 'counted willoughby',
        'Westminster ballot': 'counted williams',
        'South Ribble ballot': 'counted alty',
        'Lambeth ballot': 'counted williams',
        'Oldham ballot': 'counted alty',
        'Plymouth ballot': 'rejected: no-sign-off',
        'Preston ballot': 'rejected: unmarked',
        'Glasgow ballot': 'rejected: not-eligible',
        ballot: 'rejected: unknown-sender',
        'Automatic reply: CCIN ballot': 'not-a-ballot',
        'Leeds ballot': 'superseded willoughby',
        'Leeds ballot - corrected': 'counted williams',
        'CCIN vote': 'needs-adjudication: no-ballot-paper',
        'Sunderland ballot (late)': 'rejected: late',
      });
      // Receipt times are Postfix's own, from its Received header.
      expect(result.messages.every((m) => m.receivedAtSource === 'received')).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});
