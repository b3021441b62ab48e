import type { Election } from '../inputs/election.js';
import type { AdjudicationRow } from '../inputs/adjudications.js';
import { InputError } from '../model/errors.js';
import { err, ok, type Result } from '../model/result-type.js';
import type { AdjudicationReason } from '../model/reasons.js';

export interface AdjudicableMessage {
  sha256: string;
  messageId: string | null;
  /** The automatic finding, when it is needs-adjudication. */
  pending: AdjudicationReason | null;
  council: string | null;
  /** Whether that council may vote in this election. */
  eligible: boolean;
}

/** The officer's decision on one message, stored beside (never instead of) the automatic finding. */
export interface Adjudication {
  decision: 'count' | 'reject';
  choices: string[];
  reason: string;
  line: number;
}

const bareId = (s: string): string => s.trim().replace(/^<|>$/g, '').toLowerCase();

/**
 * Resolves each row to the one message it decides. A row that names no message, more than one, or a
 * message that is not awaiting adjudication is an input error naming the row.
 */
export function resolveAdjudications(
  rows: readonly AdjudicationRow[],
  messages: readonly AdjudicableMessage[],
  election: Election,
  file: string,
): Result<Map<string, Adjudication>, InputError> {
  const out = new Map<string, Adjudication>();
  const ids = new Set(election.candidates.map((c) => c.id));
  for (const row of rows) {
    const where = (column: string) => ({ file, line: row.line, column });
    const key = row.message.trim().toLowerCase();
    let found: AdjudicableMessage[];
    if (/^[0-9a-f]+$/.test(key)) {
      if (key.length < 12) return err(new InputError('ADJUDICATION_INVALID', where('message'), 'a SHA-256 prefix must have at least 12 hex digits'));
      found = messages.filter((m) => m.sha256.startsWith(key));
    } else {
      found = messages.filter((m) => m.messageId !== null && bareId(m.messageId) === bareId(key));
      // Copies of one message share its Message-ID; only the one awaiting a decision is meant.
      if (found.length > 1) found = found.filter((m) => m.pending !== null);
    }
    // A copy of a message met in another export has the same hash (or Message-ID): the row decides the message judged.
    if (new Set(found.map((m) => m.sha256)).size === 1 && found.length > 1) found = [found.find((m) => m.pending !== null) ?? found[0]!];
    if (found.length === 0) return err(new InputError('ADJUDICATION_INVALID', where('message'), `no message matches "${row.message}"`));
    if (found.length > 1) return err(new InputError('ADJUDICATION_INVALID', where('message'), `"${row.message}" matches ${found.length} messages; give more of the SHA-256`));
    const m = found[0]!;
    if (m.pending === null) {
      return err(new InputError('ADJUDICATION_INVALID', where('message'), `message ${m.sha256.slice(0, 12)} does not need adjudication; only needs-adjudication messages can be decided`));
    }
    if (out.has(m.sha256)) return err(new InputError('ADJUDICATION_INVALID', where('message'), `message ${m.sha256.slice(0, 12)} is decided twice`));
    if (row.decision === 'count') {
      const valid = `the candidate ids are ${[...ids].join(', ')}`;
      if (row.choices.length === 0) return err(new InputError('ADJUDICATION_INVALID', where('choices'), `counting a paper needs the candidate ids it votes for; ${valid}`));
      const unknown = row.choices.filter((c) => !ids.has(c));
      if (unknown.length > 0) return err(new InputError('ADJUDICATION_INVALID', where('choices'), `unknown candidate id(s): ${unknown.join(', ')}; ${valid}`));
      if (new Set(row.choices).size !== row.choices.length) return err(new InputError('ADJUDICATION_INVALID', where('choices'), 'a candidate is named twice'));
      if (row.choices.length > election.vacancies) {
        return err(new InputError('ADJUDICATION_INVALID', where('choices'), `${row.choices.length} choices for ${election.vacancies} vacancies`));
      }
      if (m.council === null || !m.eligible) {
        return err(new InputError('ADJUDICATION_INVALID', where('message'), 'the message comes from no eligible roster council, so it cannot be counted'));
      }
    }
    const order = election.candidates.map((c) => c.id);
    out.set(m.sha256, {
      decision: row.decision,
      choices: [...row.choices].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
      reason: row.reason,
      line: row.line,
    });
  }
  return ok(out);
}
