/**
 * One vote per council (spec §2.1 `duplicates`, §3 rule 7). Only valid papers take part: an invalid
 * paper never supersedes a valid one. An unauthenticated paper never silently replaces, outweighs or
 * voids an authenticated paper of the same council: the policy is applied among the council's
 * authenticated papers alone, and every unauthenticated paper is then set against that outcome —
 * superseded when it agrees, `needs-adjudication: unauthenticated-change` when it would change the
 * council's vote.
 */
export interface ValidPaper {
  /** The message's SHA-256. */
  id: string;
  council: string;
  choices: string[];
  /** ISO 8601 UTC receipt time. */
  receivedAt: string;
  /**
   * true: the sender is proved (an aligned DKIM pass, a trusted receipt stamp, or the returning
   * officer's decision to count it); false: it is not; null: the election does not check (dkim off).
   */
  authenticated: boolean | null;
}

export type PolicyOutcome =
  | { disposition: 'counted'; note: string | null }
  | { disposition: 'superseded'; by: string; note: string }
  | { disposition: 'rejected'; reason: 'conflicting-duplicates'; note: string }
  | { disposition: 'needs-adjudication'; reason: 'unauthenticated-change'; against: string[]; note: string };

export type DuplicatesPolicy = 'latest' | 'first' | 'reject';

const sameChoices = (a: ValidPaper, b: ValidPaper): boolean => a.choices.join(',') === b.choices.join(',');
const shown = (p: ValidPaper): string => p.choices.join('+') || 'none';

/**
 * How many of a council's disagreeing papers a note lists. Every one of them carries the note: a
 * list of all of them in each would make the result grow with the square of the papers sent in a
 * council's name (3,000 forged papers: a 320 MB result file), which anyone able to send mail could do.
 */
const LISTED = 10;

/** The outcome of a council's only paper: one shared value, not an object a message (most councils send one). */
const ALONE: PolicyOutcome = Object.freeze({ disposition: 'counted', note: null });

/** Oldest first; equal times are ordered by message hash so that the outcome never depends on input order. */
function chronological(a: ValidPaper, b: ValidPaper): number {
  if (a.receivedAt !== b.receivedAt) return a.receivedAt < b.receivedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The policy among papers of equal standing (all authenticated, or none is). `list` is in chronological order. */
function decideAmong(council: string, list: readonly ValidPaper[], policy: DuplicatesPolicy, out: Map<string, PolicyOutcome>): { winner: ValidPaper | null } {
  if (list.length === 1) {
    out.set(list[0]!.id, ALONE);
    return { winner: list[0]! };
  }
  if (policy === 'reject' && list.some((p) => !sameChoices(p, list[0]!))) {
    const listed = list.slice(0, LISTED).map((p) => `${p.receivedAt} → ${shown(p)}`);
    const summary = `${listed.join('; ')}${list.length > LISTED ? `; and ${list.length - LISTED} more` : ''}`;
    // One outcome for them all, not a copy of its note a paper: a council flooded with papers costs a
    // record a paper, never a note a paper.
    const rejected: PolicyOutcome = Object.freeze({ disposition: 'rejected', reason: 'conflicting-duplicates', note: `${council} sent ${list.length} valid papers that disagree: ${summary}` });
    for (const p of list) out.set(p.id, rejected);
    return { winner: null };
  }
  const winner = policy === 'first' ? list[0]! : list[list.length - 1]!;
  const neighbour = policy === 'first' ? list[1] : list[list.length - 2];
  const tied = neighbour !== undefined && winner.receivedAt === neighbour.receivedAt && !sameChoices(winner, neighbour);
  const which = policy === 'first' ? 'first' : 'latest';
  const note = tied
    ? 'two papers that disagree were received at the same second; the one with the lower message hash is taken as earlier'
    : `${list.length} valid papers from ${council}; the ${which} counts`;
  // Every paper the winner supersedes has the same outcome: one shared value.
  const superseded: PolicyOutcome = Object.freeze({ disposition: 'superseded', by: winner.id, note: `${council}'s ${which} valid paper (${winner.receivedAt}) counts instead` });
  for (const p of list) out.set(p.id, p === winner ? { disposition: 'counted', note } : superseded);
  return { winner };
}

/**
 * `papers`: the valid papers. `spoilt`: for each council whose mail is shown to be signed though
 * none of its valid papers is authenticated (an authenticated message of it that is no valid paper —
 * a ballot unmarked, late, without sign-off…, or an auto-reply — or a pinned key for its domain):
 * an unauthenticated paper may not give it a vote unseen.
 */
/**
 * What shows that a council's mail is signed though no valid paper of it is authenticated: an
 * authenticated message of it that is no valid paper, or a DKIM key for its domain pinned in the
 * keys file (the officer pinned it because the council signs).
 */
export type SignedProof = { message: string } | { key: string };

export function applyDuplicatePolicy(papers: readonly ValidPaper[], policy: DuplicatesPolicy, spoilt: ReadonlyMap<string, SignedProof> = new Map()): Map<string, PolicyOutcome> {
  const out = new Map<string, PolicyOutcome>();
  const byCouncil = new Map<string, ValidPaper[]>();
  for (const p of papers) {
    const list = byCouncil.get(p.council) ?? [];
    list.push(p);
    byCouncil.set(p.council, list);
  }
  for (const [council, list] of byCouncil) {
    list.sort(chronological);
    // A council's papers that fare alike share one outcome (their notes differ only by the choices
    // shown): a flood of papers in one council's name costs a record a paper, not a note a paper.
    const outcomes = new Map<string, PolicyOutcome>();
    const alike = (key: string, make: () => PolicyOutcome): PolicyOutcome => {
      let outcome = outcomes.get(key);
      if (outcome === undefined) {
        outcome = Object.freeze(make());
        outcomes.set(key, outcome);
      }
      return outcome;
    };
    const proved = list.filter((p) => p.authenticated === true);
    const proof = spoilt.get(council);
    if (proved.length === 0 && proof !== undefined) {
      const why =
        'message' in proof
          ? `its authenticated message ${proof.message.slice(0, 12)} is no valid paper`
          : `its mail is signed (a DKIM key for ${proof.key} is pinned in the keys file) and this paper is not`;
      for (const p of list) {
        out.set(
          p.id,
          alike(`proof ${shown(p)}`, () => ({
            disposition: 'needs-adjudication',
            reason: 'unauthenticated-change',
            against: 'message' in proof ? [proof.message] : [],
            note:
              `an UNAUTHENTICATED paper in the name of ${council} (→ ${shown(p)}) would give it a vote, but ${why}; ` +
              'the council has no vote until the returning officer decides; someone other than the council may have sent it',
          })),
        );
      }
      continue;
    }
    if (proved.length === 0) {
      // Nothing of this council's is authenticated (or the election does not check): all stand alike.
      decideAmong(council, list, policy, out);
      continue;
    }
    const { winner } = decideAmong(council, proved, policy, out);
    for (const p of list) {
      if (p.authenticated === true) continue;
      if (winner === null) {
        // The council's authenticated papers already disagree and are all rejected; an unauthenticated
        // one can neither rescue nor change that.
        out.set(
          p.id,
          alike(`rejected ${shown(p)}`, () => ({
            disposition: 'rejected',
            reason: 'conflicting-duplicates',
            note: `${council}'s authenticated papers disagree and are rejected; this unauthenticated paper (→ ${shown(p)}) cannot change that`,
          })),
        );
      } else if (sameChoices(p, winner)) {
        out.set(
          p.id,
          alike('agrees', () => ({ disposition: 'superseded', by: winner.id, note: `unauthenticated; agrees with ${council}'s authenticated paper ${winner.id.slice(0, 12)} (→ ${shown(winner)}), which counts` })),
        );
      } else {
        out.set(
          p.id,
          alike(`disagrees ${shown(p)}`, () => ({
            disposition: 'needs-adjudication',
            reason: 'unauthenticated-change',
            against: [winner.id],
            note:
              `an UNAUTHENTICATED paper in the name of ${council} (→ ${shown(p)}) disagrees with its authenticated paper ` +
              `${winner.id.slice(0, 12)} (→ ${shown(winner)}), which stands until the returning officer decides; ` +
              'someone other than the council may have sent it',
          })),
        );
      }
    }
  }
  return out;
}
