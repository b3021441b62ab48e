import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveAdjudications } from '../src/count/adjudicate.js';
import { applyDuplicatePolicy, type ValidPaper } from '../src/count/duplicates.js';
import { lotHash, tallyVotes } from '../src/count/tally.js';
import type { Candidate, Election } from '../src/inputs/election.js';

const C: Candidate[] = [
  { id: 'a', name: 'A', council: null },
  { id: 'b', name: 'B', council: null },
  { id: 'c', name: 'C', council: null },
];

const p = (id: string, council: string, choices: string[], receivedAt: string, authenticated: boolean | null = null): ValidPaper => ({ id, council, choices, receivedAt, authenticated });

describe('one vote per council', () => {
  const papers = [p('m1', 'x', ['a'], '2024-01-20T10:00:00Z'), p('m2', 'x', ['b'], '2024-01-25T10:00:00Z'), p('m3', 'y', ['c'], '2024-01-21T10:00:00Z')];
  it('latest: the latest valid paper counts, the others are superseded by it', () => {
    const out = applyDuplicatePolicy(papers, 'latest');
    expect(out.get('m1')).toMatchObject({ disposition: 'superseded', by: 'm2' });
    expect(out.get('m2')?.disposition).toBe('counted');
    expect(out.get('m3')?.disposition).toBe('counted');
  });
  it('first: the first valid paper counts', () => {
    const out = applyDuplicatePolicy(papers, 'first');
    expect(out.get('m1')?.disposition).toBe('counted');
    expect(out.get('m2')).toMatchObject({ disposition: 'superseded', by: 'm1' });
  });
  it('reject: papers that disagree are all rejected; papers that agree count once', () => {
    const out = applyDuplicatePolicy(papers, 'reject');
    expect(out.get('m1')).toMatchObject({ disposition: 'rejected', reason: 'conflicting-duplicates' });
    expect(out.get('m2')).toMatchObject({ disposition: 'rejected', reason: 'conflicting-duplicates' });
    const agree = applyDuplicatePolicy([p('m1', 'x', ['a'], '2024-01-20T10:00:00Z'), p('m2', 'x', ['a'], '2024-01-25T10:00:00Z')], 'reject');
    expect([agree.get('m1')?.disposition, agree.get('m2')?.disposition]).toEqual(['superseded', 'counted']);
  });
  it('reject: the note each of many disagreeing papers carries lists ten of them, so the result grows with the papers, not their square', () => {
    const many = Array.from({ length: 5000 }, (_, i) => p(`m${String(i).padStart(5, '0')}`, 'x', [i % 2 === 0 ? 'a' : 'b'], new Date(Date.UTC(2024, 0, 20, 10, 0, i)).toISOString().replace('.000Z', 'Z')));
    const out = applyDuplicatePolicy(many, 'reject');
    expect(out.size).toBe(5000);
    const notes = [...out.values()].map((o) => (o.disposition === 'rejected' ? o.note : ''));
    expect(new Set(notes).size).toBe(1);
    expect(notes[0]).toMatch(/^x sent 5000 valid papers that disagree: 2024-01-20T10:00:00Z → a; 2024-01-20T10:00:01Z → b; .*; and 4990 more$/);
    expect(notes[0]!.split('; ')).toHaveLength(11);
  });
  it("a flood of papers in one council's name shares its outcomes: a record a paper, never a note a paper", () => {
    const at = (i: number): string => new Date(Date.UTC(2024, 0, 20, 10, 0, i)).toISOString().replace('.000Z', 'Z');
    const flood = Array.from({ length: 3000 }, (_, i) => p(`m${String(i).padStart(5, '0')}`, 'x', [['a', 'b', 'c'][i % 3]!], at(i), false));
    for (const policy of ['latest', 'first', 'reject'] as const) {
      const out = applyDuplicatePolicy(flood, policy);
      expect(out.size).toBe(3000);
      // latest and first: the winner's own outcome and one shared by the 2,999 it supersedes; reject: one.
      expect(new Set(out.values()).size).toBe(policy === 'reject' ? 1 : 2);
    }
    // Forged unsigned papers against the council's signed one: one outcome for each list of choices.
    const signed = p('s0', 'x', ['a'], at(5000), true);
    const out = applyDuplicatePolicy([signed, ...flood], 'latest');
    expect(out.get('s0')?.disposition).toBe('counted');
    const forged = flood.map((f) => out.get(f.id)!);
    expect(forged.filter((o) => o.disposition === 'superseded')).toHaveLength(1000);
    expect(forged.filter((o) => o.disposition === 'needs-adjudication')).toHaveLength(2000);
    expect(new Set(forged).size).toBe(3);
    expect(new Set(forged.map((o) => o.note)).size).toBe(3);
  });
  it('the outcome does not depend on the order papers are given in', () => {
    const same = [p('m9', 'x', ['a'], '2024-01-20T10:00:00Z'), p('m0', 'x', ['b'], '2024-01-20T10:00:00Z')];
    const one = applyDuplicatePolicy(same, 'latest');
    const two = applyDuplicatePolicy([...same].reverse(), 'latest');
    expect([...one.entries()].sort()).toEqual([...two.entries()].sort());
    expect(one.get('m9')?.disposition).toBe('counted'); // equal times: the higher hash is taken as later
  });
});

describe('an unauthenticated paper never beats an authenticated one', () => {
  const signed = p('s1', 'x', ['a'], '2024-01-20T10:00:00Z', true);
  const later = p('u1', 'x', ['b'], '2024-01-25T10:00:00Z', false);
  const earlier = p('u0', 'x', ['b'], '2024-01-19T10:00:00Z', false);
  for (const policy of ['latest', 'first', 'reject'] as const) {
    it(`${policy}: a disagreeing unsigned paper, earlier or later, goes to adjudication and the signed one counts`, () => {
      const out = applyDuplicatePolicy([signed, later, earlier], policy);
      expect(out.get('s1')?.disposition).toBe('counted');
      expect(out.get('u1')).toMatchObject({ disposition: 'needs-adjudication', reason: 'unauthenticated-change', against: ['s1'] });
      expect(out.get('u0')).toMatchObject({ disposition: 'needs-adjudication', reason: 'unauthenticated-change' });
    });
    it(`${policy}: an agreeing unsigned paper is superseded by the signed one and changes nothing`, () => {
      const out = applyDuplicatePolicy([signed, p('u2', 'x', ['a'], '2024-01-30T10:00:00Z', false)], policy);
      expect(out.get('s1')?.disposition).toBe('counted');
      expect(out.get('u2')).toMatchObject({ disposition: 'superseded', by: 's1' });
    });
  }
  it('the policy still decides among signed papers; unsigned ones are set against its outcome', () => {
    const s2 = p('s2', 'x', ['b'], '2024-01-22T10:00:00Z', true);
    const latest = applyDuplicatePolicy([signed, s2, later, p('u3', 'x', ['a'], '2024-01-30T10:00:00Z', false)], 'latest');
    expect(latest.get('s2')?.disposition).toBe('counted');
    expect(latest.get('s1')?.disposition).toBe('superseded');
    expect(latest.get('u1')?.disposition).toBe('superseded'); // agrees with s2 (b)
    expect(latest.get('u3')?.disposition).toBe('needs-adjudication'); // would bring back a
    const reject = applyDuplicatePolicy([signed, s2, later], 'reject');
    expect([reject.get('s1')?.disposition, reject.get('s2')?.disposition, reject.get('u1')?.disposition]).toEqual(['rejected', 'rejected', 'rejected']);
  });
  it("a council that proved itself on a spoilt paper gets no vote from an unsigned one unseen", () => {
    const out = applyDuplicatePolicy([p('u5', 'x', ['b'], '2024-01-25T10:00:00Z', false)], 'latest', new Map([['x', { message: 'spoilt1' }]]));
    expect(out.get('u5')).toMatchObject({ disposition: 'needs-adjudication', reason: 'unauthenticated-change', against: ['spoilt1'] });
    // Another council's spoilt paper changes nothing for this one.
    expect(applyDuplicatePolicy([p('u6', 'y', ['b'], '2024-01-25T10:00:00Z', false)], 'latest', new Map([['x', { message: 'spoilt1' }]])).get('u6')?.disposition).toBe('counted');
    // A council whose domain's DKIM key the officer pinned signs its mail: an unsigned paper alone gives it no vote unseen.
    const keyed = applyDuplicatePolicy([p('u7', 'z', ['a'], '2024-01-25T10:00:00Z', false)], 'latest', new Map([['z', { key: 'z.gov.uk' }]]));
    expect(keyed.get('u7')).toMatchObject({ disposition: 'needs-adjudication', reason: 'unauthenticated-change', against: [] });
  });
  it('with nothing authenticated (or dkim off) the policy treats every paper alike', () => {
    expect(applyDuplicatePolicy([p('u4', 'x', ['a'], '2024-01-20T10:00:00Z', false), later], 'latest').get('u1')?.disposition).toBe('counted');
    expect(applyDuplicatePolicy([p('n1', 'x', ['a'], '2024-01-20T10:00:00Z', null), p('n2', 'x', ['b'], '2024-01-21T10:00:00Z', null)], 'latest').get('n2')?.disposition).toBe('counted');
  });
});

describe('tally', () => {
  it('plurality for one vacancy', () => {
    const t = tallyVotes(C, [['a'], ['b'], ['a']], 1, null);
    expect(t.tally.map((r) => [r.candidate, r.votes, r.elected])).toEqual([
      ['a', 2, true],
      ['b', 1, false],
      ['c', 0, false],
    ]);
    expect(t.lot).toBeNull();
  });
  it('several vacancies, each paper marking up to that many', () => {
    const t = tallyVotes(C, [['a', 'b'], ['b', 'c'], ['b']], 2, null);
    expect(t.tally.filter((r) => r.elected).map((r) => r.candidate)).toEqual(['b']);
    expect(tallyVotes(C, [['a', 'b'], ['b', 'c'], ['b', 'a']], 2, null).tally.filter((r) => r.elected).map((r) => r.candidate)).toEqual(['a', 'b']);
    expect(t.unresolvedTie).toEqual(['a', 'c']);
  });
  it('a boundary tie is decided by lot: lowest SHA-256 of "<seed>:<id>" first', () => {
    const seed = 'words announced before the count';
    const t = tallyVotes(C, [['a'], ['b']], 1, seed);
    const hashes = ['a', 'b'].map((id) => [id, createHash('sha256').update(`${seed}:${id}`).digest('hex')] as const);
    const expected = [...hashes].sort((x, y) => (x[1] < y[1] ? -1 : 1));
    expect(t.lot?.order.map((o) => [o.candidate, o.sha256])).toEqual(expected);
    expect(t.lot?.elected).toEqual([expected[0]![0]]);
    expect(t.tally.find((r) => r.elected)?.candidate).toBe(expected[0]![0]);
    expect(lotHash('s', 'a')).toBe(createHash('sha256').update('s:a').digest('hex'));
  });
  it('without a seed a boundary tie leaves the result undecided', () => {
    const t = tallyVotes(C, [['a'], ['b']], 1, null);
    expect(t.unresolvedTie).toEqual(['a', 'b']);
    expect(t.tally.every((r) => !r.elected)).toBe(true);
  });
  it('no vote at all elects nobody, and draws no lot', () => {
    const t = tallyVotes(C, [], 1, 'a seed');
    expect(t.tally.map((r) => [r.candidate, r.votes, r.elected])).toEqual([
      ['a', 0, false],
      ['b', 0, false],
      ['c', 0, false],
    ]);
    expect(t.lot).toBeNull();
    expect(tallyVotes(C.slice(0, 1), [], 1, null).tally.every((r) => !r.elected)).toBe(true);
  });
  it('a tie below the boundary needs no lot', () => {
    const t = tallyVotes(C, [['a'], ['a'], ['b'], ['c']], 1, null);
    expect(t.unresolvedTie).toBeNull();
    expect(t.lot).toBeNull();
  });
});

describe('adjudications', () => {
  const election = { candidates: C, vacancies: 1 } as unknown as Election;
  const messages = [
    { sha256: 'aaaaaaaaaaaa1111', messageId: '<one@x>', pending: 'forwarded' as const, council: 'x', eligible: true },
    { sha256: 'aaaaaaaaaaaa2222', messageId: '<two@x>', pending: null, council: 'x', eligible: true },
    { sha256: 'bbbbbbbbbbbb3333', messageId: '<three@x>', pending: 'no-ballot-paper' as const, council: null, eligible: false },
  ];
  const row = (message: string, decision: 'count' | 'reject', choices: string[] = [], line = 2) => ({ line, message, decision, choices, reason: 'r' });
  it('resolves by SHA-256 prefix or Message-ID', () => {
    const r = resolveAdjudications([row('aaaaaaaaaaaa1', 'count', ['b']), row('three@x', 'reject', [], 3)], messages, election, 'adj.csv');
    expect(r.ok && [...r.value.keys()]).toEqual(['aaaaaaaaaaaa1111', 'bbbbbbbbbbbb3333']);
  });
  it('a row naming no message, an ambiguous prefix, or a message not awaiting adjudication is an input error', () => {
    const bad = (rows: ReturnType<typeof row>[]) => {
      const r = resolveAdjudications(rows, messages, election, 'adj.csv');
      return r.ok ? '' : r.error.message;
    };
    expect(bad([row('cccccccccccc', 'reject')])).toMatch(/adj\.csv:2 .*no message matches/);
    expect(bad([row('aaaaaaaaaaaa', 'reject')])).toMatch(/matches 2 messages/);
    expect(bad([row('aaaa', 'reject')])).toMatch(/at least 12/);
    expect(bad([row('<two@x>', 'reject')])).toMatch(/does not need adjudication/);
    expect(bad([row('<one@x>', 'count', ['a', 'b'])])).toMatch(/2 choices for 1/);
    expect(bad([row('<one@x>', 'count', ['zz'])])).toMatch(/unknown candidate/);
    expect(bad([row('<three@x>', 'count', ['a'])])).toMatch(/no eligible roster council/);
    expect(bad([row('<one@x>', 'reject'), row('<one@x>', 'reject', [], 3)])).toMatch(/:3 .*decided twice/);
  });
});
