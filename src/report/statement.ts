import { REASON_TEXT, type Reason } from '../model/reasons.js';
import type { ResultModel } from '../model/result.js';

/**
 * The statement of rejected ballot papers as a UK returning officer makes it: the statutory
 * headings first (Local Elections (Principal Areas) (England and Wales) Rules: want of official
 * mark; voting for more candidates than entitled; writing or mark by which the voter could be
 * identified; unmarked or void for uncertainty), each with the reason codes it covers, then this
 * election's own grounds (late, unauthenticated, not signed off…) under their codes.
 */
export interface StatementLine {
  heading: string;
  codes: Reason[];
  count: number;
  /** A statutory heading, or a ground of this election's own rules. */
  statutory: boolean;
  note?: string;
}

const STATUTORY: { heading: string; codes: Reason[]; note?: string }[] = [
  { heading: '(a) want of an official mark', codes: ['wrong-reference'] },
  { heading: '(b) voting for more candidates than the voter was entitled to', codes: ['overvote'] },
  {
    heading: '(c) writing or mark by which the voter could be identified',
    codes: [],
    note: 'not a ground here: each council returns its paper by name, as the election requires',
  },
  { heading: '(d) being unmarked or wholly void for uncertainty', codes: ['unmarked', 'void-for-uncertainty'] },
];

export function statementOfRejected(r: ResultModel): StatementLine[] {
  const n = (code: Reason): number => r.summary.rejected[code] ?? 0;
  const covered = new Set<Reason>(STATUTORY.flatMap((s) => s.codes));
  const lines: StatementLine[] = STATUTORY.map((s) => ({ heading: s.heading, codes: s.codes, count: s.codes.reduce((a, c) => a + n(c), 0), statutory: true, ...(s.note ? { note: s.note } : {}) }));
  for (const [code, count] of Object.entries(r.summary.rejected) as [Reason, number][]) {
    if (covered.has(code) || count === 0) continue;
    lines.push({ heading: REASON_TEXT[code], codes: [code], count, statutory: false });
  }
  // This election's own grounds in the spec's order of precedence.
  const order = Object.keys(REASON_TEXT);
  const own = lines.filter((l) => !l.statutory).sort((a, b) => order.indexOf(a.codes[0]!) - order.indexOf(b.codes[0]!));
  return [...lines.filter((l) => l.statutory), ...own];
}

export const totalRejected = (r: ResultModel): number => Object.values(r.summary.rejected).reduce((a, b) => a + (b ?? 0), 0);
