import { InputError } from '../model/errors.js';
import { normaliseReference } from '../issue/references.js';
import { readCsv } from './csv.js';
import type { LoadedFile } from './files.js';
import type { Roster } from './roster.js';

/** The references issued to councils (`--issued issued.csv`, as `papers` writes it): council id → reference. */
export type IssuedReferences = Map<string, string>;

export function parseIssued(file: LoadedFile, roster: Roster): IssuedReferences {
  const { header, rows } = readCsv(file);
  const idIdx = header.indexOf('council_id');
  const refIdx = header.indexOf('reference');
  if (idIdx < 0 || refIdx < 0) throw new InputError('CSV_HEADER', { file: file.path, line: 1 }, 'needs the columns council_id and reference');
  const known = new Set(roster.councils.map((c) => c.id));
  const out: IssuedReferences = new Map();
  const byReference = new Map<string, number>();
  for (const { record, line } of rows) {
    const id = record[idIdx] ?? '';
    const ref = normaliseReference(record[refIdx] ?? '');
    if (!known.has(id)) throw new InputError('ROSTER_CONFLICT', { file: file.path, line: line, column: 'council_id' }, `"${id}" is not a council in the roster`);
    if (ref === '') throw new InputError('ROSTER_INVALID', { file: file.path, line: line, column: 'reference' }, 'no reference');
    if (out.has(id)) throw new InputError('ROSTER_CONFLICT', { file: file.path, line: line, column: 'council_id' }, `"${id}" is listed twice`);
    const prior = byReference.get(ref);
    if (prior !== undefined) throw new InputError('ROSTER_CONFLICT', { file: file.path, line: line, column: 'reference' }, `reference also issued on line ${prior}`);
    byReference.set(ref, line);
    out.set(id, ref);
  }
  return out;
}
