/**
 * One vote per council (spec §2.1 `duplicates`, §3 rule 7). Only valid papers take part: an invalid
 * paper never supersedes a valid one.
 */
export interface ValidPaper {
  /** The message's SHA-256. */
  id: string;
  council: string;
  choices: string[];
  /** ISO 8601 UTC receipt time. */
  receivedAt: string;
}

export type PolicyOutcome =
  | { disposition: 'counted'; note: string | null }
  | { disposition: 'superseded'; by: string; note: string }
  | { disposition: 'rejected'; reason: 'conflicting-duplicates'; note: string };

const sameChoices = (a: ValidPaper, b: ValidPaper): boolean => a.choices.join(',') === b.choices.join(',');

/** Oldest first; equal times are ordered by message hash so that the outcome never depends on input order. */
function chronological(a: ValidPaper, b: ValidPaper): number {
  if (a.receivedAt !== b.receivedAt) return a.receivedAt < b.receivedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function applyDuplicatePolicy(papers: readonly ValidPaper[], policy: 'latest' | 'first' | 'reject'): Map<string, PolicyOutcome> {
  const out = new Map<string, PolicyOutcome>();
  const byCouncil = new Map<string, ValidPaper[]>();
  for (const p of papers) {
    const list = byCouncil.get(p.council) ?? [];
    list.push(p);
    byCouncil.set(p.council, list);
  }
  for (const [council, list] of byCouncil) {
    list.sort(chronological);
    if (list.length === 1) {
      out.set(list[0]!.id, { disposition: 'counted', note: null });
      continue;
    }
    const tiedAtEnd = (x: ValidPaper, y: ValidPaper | undefined): boolean => y !== undefined && x.receivedAt === y.receivedAt && !sameChoices(x, y);
    if (policy === 'reject' && list.some((p) => !sameChoices(p, list[0]!))) {
      const summary = list.map((p) => `${p.receivedAt} → ${p.choices.join('+')}`).join('; ');
      for (const p of list) out.set(p.id, { disposition: 'rejected', reason: 'conflicting-duplicates', note: `${council} sent ${list.length} valid papers that disagree: ${summary}` });
      continue;
    }
    const winner = policy === 'first' ? list[0]! : list[list.length - 1]!;
    const neighbour = policy === 'first' ? list[1] : list[list.length - 2];
    const note = tiedAtEnd(winner, neighbour)
      ? `two papers that disagree were received at the same second; the one with the lower message hash is taken as earlier`
      : null;
    for (const p of list) {
      if (p === winner) out.set(p.id, { disposition: 'counted', note: note ?? `${list.length} valid papers from ${council}; the ${policy === 'first' ? 'first' : 'latest'} counts` });
      else out.set(p.id, { disposition: 'superseded', by: winner.id, note: `${council}'s ${policy === 'first' ? 'first' : 'latest'} valid paper (${winner.receivedAt}) counts instead` });
    }
  }
  return out;
}
