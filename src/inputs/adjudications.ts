import { parse } from 'csv-parse/sync';
import { CsvError } from 'csv-parse';
import { InputError } from '../model/errors.js';
import { decodeSpreadsheetText, type LoadedFile } from './files.js';

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
  const { text } = decodeSpreadsheetText(file.bytes);
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, { bom: true, info: true, skip_empty_lines: true, trim: true }) as unknown as typeof rows;
  } catch (e) {
    if (e instanceof CsvError) {
      const ctx = e as CsvError & { lines?: number; column?: number | string };
      throw new InputError('CSV_SYNTAX', { file: file.path, line: ctx.lines, column: ctx.column }, `${e.code}: ${e.message}`);
    }
    throw e;
  }
  const header = rows[0];
  if (!header) return [];
  const names = header.record.map((h) => h.trim().toLowerCase());
  const idx = new Map(names.map((n, i) => [n, i]));
  const missing = COLUMNS.filter((c) => !idx.has(c));
  if (missing.length > 0) throw new InputError('CSV_HEADER', { file: file.path, line: 1 }, `missing column(s): ${missing.join(', ')}`);
  const get = (r: string[], c: (typeof COLUMNS)[number]): string => (r[idx.get(c) ?? -1] ?? '').trim();
  return rows.slice(1).map(({ record, info }) => {
    const line = info.lines;
    const message = get(record, 'message');
    const decision = get(record, 'decision').toLowerCase();
    const reason = get(record, 'reason');
    const choices = get(record, 'choices')
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (message === '') throw new InputError('ADJUDICATION_INVALID', { file: file.path, line, column: 'message' }, 'names no message');
    if (decision !== 'count' && decision !== 'reject') {
      throw new InputError('ADJUDICATION_INVALID', { file: file.path, line, column: 'decision' }, `must be "count" or "reject", not ${JSON.stringify(decision)}`);
    }
    if (reason === '') throw new InputError('ADJUDICATION_INVALID', { file: file.path, line, column: 'reason' }, 'a reason is required');
    if (decision === 'reject' && choices.length > 0) {
      throw new InputError('ADJUDICATION_INVALID', { file: file.path, line, column: 'choices' }, 'a rejection takes no choices');
    }
    return { line, message, decision, choices, reason };
  });
}
