import { InputError } from '../model/errors.js';
import { normaliseReference } from '../issue/references.js';
import { missingColumns, readCsv } from './csv.js';
import type { LoadedFile } from './files.js';
import type { Roster } from './roster.js';

/** The references issued to councils (`--issued issued.csv`, as `papers` writes it): council id → reference. */
export type IssuedReferences = Map<string, string>;

/** A reference as `papers` writes it: the election id, then 8 characters of Crockford's base32. */
const ISSUED_SHAPE = /^(.+)-[0-9A-HJKMNP-TV-Z]{8}$/;

/**
 * The references issued to councils for `electionId`. A file whose references are all of the shape
 * `papers` writes, for one other election (another id before the code), is another election's
 * issued.csv: an input error, rather than every paper rejected `wrong-reference`.
 */
export function parseIssued(file: LoadedFile, roster: Roster, electionId: string): IssuedReferences {
  const { header, rows } = readCsv(file);
  const idIdx = header.indexOf('council_id');
  const refIdx = header.indexOf('reference');
  const missing = missingColumns(header, ['council_id', 'reference']);
  if (missing !== null) throw new InputError('CSV_HEADER', { file: file.path, line: 1 }, missing);
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
  const prefixes = new Set([...out.values()].map((r) => ISSUED_SHAPE.exec(r)?.[1] ?? null));
  const [only] = prefixes;
  const ours = electionId.toUpperCase();
  if (prefixes.size === 1 && only !== null && only !== undefined && only !== ours) {
    throw new InputError(
      'ISSUED_OTHER_ELECTION',
      { file: file.path, line: 2, column: 'reference' },
      `the references were issued for election ${only.toLowerCase()}, not this one (${electionId}): give the issued.csv that \`ccin-tally papers\` wrote for this election`,
    );
  }
  return out;
}
