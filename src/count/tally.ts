import { createHash } from 'node:crypto';
import type { Candidate } from '../inputs/election.js';

export interface TallyRow {
  candidate: string;
  name: string;
  votes: number;
  elected: boolean;
}

export interface LotRecord {
  seed: string;
  /** Candidates tied at the boundary, in the order the lot put them (lowest hash first). */
  order: { candidate: string; input: string; sha256: string }[];
  seats: number;
  elected: string[];
}

export interface TallyOutcome {
  tally: TallyRow[];
  lot: LotRecord | null;
  /** Candidates tied at the boundary when there was no seed to draw the lot. */
  unresolvedTie: string[] | null;
}

export function lotHash(seed: string, candidateId: string): string {
  return createHash('sha256').update(`${seed}:${candidateId}`, 'utf8').digest('hex');
}

/**
 * Plurality: the `vacancies` candidates with most votes are elected; a tie at the boundary is decided
 * by lot (spec §4): tied candidates ordered by the hex SHA-256 of "<seed>:<candidate id>", lowest first.
 */
export function tallyVotes(candidates: readonly Candidate[], ballots: readonly string[][], vacancies: number, seed: string | null): TallyOutcome {
  const votes = new Map(candidates.map((c) => [c.id, 0]));
  for (const b of ballots) for (const id of b) votes.set(id, (votes.get(id) ?? 0) + 1);
  const rows: TallyRow[] = candidates.map((c) => ({ candidate: c.id, name: c.name, votes: votes.get(c.id) ?? 0, elected: false }));
  // No vote at all elects nobody, contested or not: a lot among candidates with none would make a
  // winner of a count of the wrong folder (the result is provisional: see buildResult).
  if (ballots.length === 0) return { tally: rows, lot: null, unresolvedTie: null };
  if (rows.length <= vacancies) {
    for (const r of rows) r.elected = true;
    return { tally: rows, lot: null, unresolvedTie: null };
  }
  const sorted = [...rows].sort((a, b) => b.votes - a.votes);
  const boundaryVotes = sorted[vacancies - 1]!.votes;
  const above = sorted.filter((r) => r.votes > boundaryVotes);
  const tied = sorted.filter((r) => r.votes === boundaryVotes);
  for (const r of above) r.elected = true;
  const seats = vacancies - above.length;
  if (tied.length <= seats) {
    for (const r of tied) r.elected = true;
    return { tally: rows, lot: null, unresolvedTie: null };
  }
  if (seed === null) return { tally: rows, lot: null, unresolvedTie: tied.map((r) => r.candidate) };
  const order = tied
    .map((r) => ({ candidate: r.candidate, input: `${seed}:${r.candidate}`, sha256: lotHash(seed, r.candidate) }))
    .sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  const winners = order.slice(0, seats).map((o) => o.candidate);
  for (const r of rows) if (winners.includes(r.candidate)) r.elected = true;
  return { tally: rows, lot: { seed, order, seats, elected: winners }, unresolvedTie: null };
}
