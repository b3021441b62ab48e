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
  const rows = r.messages.map((m, i) => {
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
  });
  return '\uFEFF' + stringify([[...COLUMNS], ...rows], { record_delimiter: 'windows', quoted_match: /[\s,";]/ });
}
