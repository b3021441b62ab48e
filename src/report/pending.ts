import { REASON_TEXT } from '../model/reasons.js';
import type { MessageRecord, ResultModel } from '../model/result.js';

/** One message awaiting the returning officer, with what they need to decide it. */
export interface PendingItem {
  /** The id to write in the adjudications file: 16 hex digits of the SHA-256 (12 are enough; 16 stay unique longer). */
  id: string;
  sha256: string;
  council: string | null;
  from: string | null;
  reason: string;
  /** The finding that sent it to the officer. */
  detail: string;
  /** The candidates its paper marks, when a paper was read: a starting point, never a decision. */
  marked: string[];
}

const ID_DIGITS = 16;

export function pendingItems(r: ResultModel): PendingItem[] {
  return r.messages
    .filter((m): m is MessageRecord & { reason: NonNullable<MessageRecord['reason']> } => m.disposition === 'needs-adjudication' && m.reason !== null)
    .map((m) => ({
      id: m.sha256.slice(0, ID_DIGITS),
      sha256: m.sha256,
      council: m.council,
      from: m.from,
      reason: m.reason,
      detail: m.evidence.findings.find((f) => f.code === m.reason)?.detail ?? REASON_TEXT[m.reason],
      marked: m.evidence.papers.find((p) => p.choices.length > 0)?.choices ?? [],
    }));
}

/** The two lines an officer may paste for a message: count it (as marked, if a paper was read) or reject it. */
export function decisionLines(p: PendingItem, candidates: readonly string[]): { count: string; reject: string } {
  const choices = p.marked.length > 0 ? p.marked.join(';') : `<one of: ${candidates.join(' ')}>`;
  return { count: `${p.id},count,${choices},"<why, in your words>"`, reject: `${p.id},reject,,"<why, in your words>"` };
}

/**
 * Text for a "#" comment line of the template, one cell whatever opens it: a spreadsheet that splits
 * the line at its commas (or at quotes) would have made a cell of what a sender wrote (a signatory's
 * name, a subject), and one beginning "=" a formula. Line breaks become spaces, commas ";", double
 * quotes single ones.
 */
function commentText(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/,/g, ';').replace(/"/g, "'");
}

/**
 * The adjudications file to fill in (`--pending FILE`): one row per message awaiting a decision, its
 * decision, choices and reason left blank, each under a comment saying what it is. A row left blank
 * keeps its message undecided (the result stays provisional); `#` lines are comments.
 */
export function renderPendingTemplate(r: ResultModel): string {
  const items = pendingItems(r);
  const ids = r.election.candidates.map((c) => c.id);
  const out = [
    `# Adjudications for ${r.election.id} (${commentText(r.election.title)}): ${items.length} message(s) await a decision.`,
    '# For each row: decision is count or reject; choices are candidate ids separated by ";" (only to count); reason is required.',
    `# Candidate ids: ${ids.join(', ')}. A row left blank keeps its message undecided. Then count again with --adjudications FILE.`,
    'message,decision,choices,reason',
  ];
  for (const p of items) {
    out.push(`# ${p.council ?? 'no council'} · ${p.reason}: ${commentText(p.detail).slice(0, 300)}${p.marked.length > 0 ? ` · the paper marks ${p.marked.join('+')}` : ''}`);
    out.push(`${p.id},,,`);
  }
  return out.join('\n') + '\n';
}
