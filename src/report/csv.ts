import { stringify } from 'csv-stringify/sync';
import type { ResultModel } from '../model/result.js';

/**
 * The result as a spreadsheet (`--csv`): one row per message, the JSON's fields flattened, written
 * by csv-stringify. UTF-8 with a byte-order mark so that Excel reads the accents right, CRLF line
 * ends. A cell that a spreadsheet would take as a formula (it begins with =, +, -, @, a tab or a
 * carriage return) is neutralised with a leading apostrophe: text from an email is never run.
 */
const COLUMNS = [
  'n',
  'sha256',
  'message_id',
  'source_file',
  'source_index',
  'from',
  'council',
  'disposition',
  'reason',
  'choices',
  'received_at_utc',
  'received_at_source',
  'authenticated',
  'authenticated_by',
  'adjudication',
  'adjudication_reason',
  'subject',
  'findings',
] as const;

const FORMULA = /^[=+\-@\t\r]/;
export function neutralise(cell: string): string {
  return FORMULA.test(cell) ? `'${cell}` : cell;
}

export function renderCsv(r: ResultModel): string {
  const out: string[] = [];
  writeCsv(r, (s) => out.push(s));
  return out.join('');
}

/** Rows are written this many at a time: memory holds a block of rows, never the whole sheet. */
const BLOCK = 1000;

/** renderCsv, written a block of rows at a time. */
export function writeCsv(r: ResultModel, write: (s: string) => void): void {
  const options = { record_delimiter: 'windows', quoted_match: /[\s,";]/ } as const;
  write('\uFEFF' + stringify([[...COLUMNS]], options));
  for (let start = 0; start < r.messages.length; start += BLOCK) {
    write(stringify(r.messages.slice(start, start + BLOCK).map((m, k) => row(m, start + k)), options));
  }
}

function row(m: ResultModel['messages'][number], i: number): string[] {
  const a = m.evidence.authentication;
  const cells: Record<(typeof COLUMNS)[number], string> = {
    n: String(i + 1),
    sha256: m.sha256,
    message_id: m.messageId ?? '',
    source_file: m.source.file,
    source_index: m.source.index === null ? '' : String(m.source.index),
    from: m.from ?? '',
    council: m.council ?? '',
    disposition: m.disposition,
    reason: m.reason ?? '',
    choices: m.choices.join(';'),
    received_at_utc: m.receivedAt ?? '',
    received_at_source: m.receivedAtSource ?? '',
    authenticated: a.checked ? (a.authenticated ? 'yes' : 'no') : 'not checked',
    authenticated_by: a.decidedBy ?? '',
    adjudication: m.adjudication ? `${m.adjudication.decision}${m.adjudication.choices.length ? ` ${m.adjudication.choices.join(';')}` : ''}` : '',
    adjudication_reason: m.adjudication?.reason ?? '',
    subject: m.evidence.subject ?? '',
    findings: m.evidence.findings.map((f) => `${f.code}: ${f.detail}`).join(' | '),
  };
  return COLUMNS.map((c) => neutralise(cells[c]));
}
