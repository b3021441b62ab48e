/**
 * An input file (election, roster, adjudications) that cannot be used. It carries a stable code and
 * where the problem is, like csv-parse's CsvError, and maps to exit code 2.
 */
export type InputErrorCode =
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'JSON_SYNTAX'
  | 'ELECTION_INVALID'
  | 'ELECTION_TIME'
  | 'CSV_SYNTAX'
  | 'CSV_HEADER'
  | 'ROSTER_INVALID'
  | 'ROSTER_CONFLICT'
  | 'ADJUDICATION_INVALID'
  | 'RESULT_INVALID'
  | 'NO_MESSAGES'
  | 'KEYS_INVALID'
  | 'SECRET_MISSING'
  | 'ISSUED_REQUIRED'
  | 'ISSUED_OTHER_ELECTION'
  | 'NOT_MAIL'
  | 'NO_KEYS'
  | 'OUTPUT_INVALID'
  | 'PAPERS_EXIST';

export interface InputLocation {
  file: string;
  line?: number | undefined;
  column?: number | string | undefined;
  field?: string | undefined;
}

export class InputError extends Error {
  readonly code: InputErrorCode;
  readonly location: InputLocation;
  readonly detail: string;

  constructor(code: InputErrorCode, location: InputLocation, detail: string) {
    super(formatLocation(location) + ': ' + detail);
    this.name = 'InputError';
    this.code = code;
    this.location = location;
    this.detail = detail;
  }
}

export function formatLocation(loc: InputLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  const parts: string[] = [];
  if (loc.column !== undefined) parts.push(`column ${loc.column}`);
  if (loc.field !== undefined) parts.push(`field "${loc.field}"`);
  if (parts.length > 0) s += ` (${parts.join(', ')})`;
  return s;
}
