import { InputError } from '../model/errors.js';
import { missingColumns, readCsv } from './csv.js';
import type { LoadedFile } from './files.js';

/** One row of the returning officer's adjudications file (spec §2.6), as written. */
export interface AdjudicationRow {
  line: number;
  message: string;
  decision: 'count' | 'reject';
  choices: string[];
  reason: string;
}

const COLUMNS = ['message', 'decision', 'choices', 'reason'] as const;

export function parseAdjudications(file: LoadedFile): AdjudicationRow[] {
  const { header, rows } = readCsv(file, { comments: true });
  if (header.length === 0) return [];
  const idx = new Map(header.map((n, i) => [n, i]));
  const missing = missingColumns(header, COLUMNS);
  if (missing !== null) throw new InputError('CSV_HEADER', { file: file.path, line: 1 }, missing);
  const get = (r: string[], c: (typeof COLUMNS)[number]): string => (r[idx.get(c) ?? -1] ?? '').trim();
  const out: AdjudicationRow[] = [];
  for (const { record, line } of rows) {
    const message = get(record, 'message');
    const decision = get(record, 'decision').toLowerCase();
    const reason = get(record, 'reason');
    const choices = get(record, 'choices')
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    // A row of the --pending template not yet filled in: the message stays undecided (the result provisional).
    if (message !== '' && decision === '' && choices.length === 0 && reason === '') continue;
    if (message === '') throw new InputError('ADJUDICATION_INVALID', { file: file.path, line, column: 'message' }, 'names no message');
    if (decision !== 'count' && decision !== 'reject') {
      throw new InputError('ADJUDICATION_INVALID', { file: file.path, line, column: 'decision' }, `must be "count" or "reject", not ${JSON.stringify(decision)}`);
    }
    if (reason === '') throw new InputError('ADJUDICATION_INVALID', { file: file.path, line, column: 'reason' }, 'a reason is required');
    if (decision === 'reject' && choices.length > 0) {
      throw new InputError('ADJUDICATION_INVALID', { file: file.path, line, column: 'choices' }, 'a rejection takes no choices');
    }
    out.push({ line, message, decision, choices, reason });
  }
  return out;
}
