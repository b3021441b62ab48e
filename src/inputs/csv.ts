import { parse } from 'csv-parse/sync';
import { CsvError } from 'csv-parse';
import { InputError } from '../model/errors.js';
import { decodeSpreadsheetText, type LoadedFile } from './files.js';

export interface CsvTable {
  /** Header names, trimmed and lower-cased. */
  header: string[];
  /** Each record with the line it ends on. */
  rows: { record: string[]; line: number }[];
  encoding: 'utf-8' | 'windows-1252';
}

/** A spreadsheet export read with csv-parse; a syntax error names the file, line and column. */
export function readCsv(file: LoadedFile, options: { comments?: boolean } = {}): CsvTable {
  const { text, encoding } = decodeSpreadsheetText(file.bytes);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstLine = (options.comments ? lines.find((l) => !l.startsWith('#') && l.trim() !== '') : lines[0]) ?? '';
  if (firstLine.includes(';') && !firstLine.includes(',') && !firstLine.includes('\t')) {
    throw new InputError(
      'CSV_SYNTAX',
      { file: file.path, line: 1 },
      'the columns are separated by ";" (as Excel writes CSV in some languages), but this file must be comma-separated: in Excel use Save As → "CSV UTF-8 (Comma delimited)"',
    );
  }
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      trim: true,
      relax_column_count: false,
      // Whole-line "#" comments only (the template that --pending writes); a "#" inside a field is text.
      ...(options.comments ? { comment: '#', comment_no_infix: true } : {}),
    }) as unknown as typeof rows;
  } catch (e) {
    if (e instanceof CsvError) {
      const ctx = e as CsvError & { lines?: number; column?: number | string; index?: number };
      throw new InputError('CSV_SYNTAX', { file: file.path, line: ctx.lines, column: ctx.column ?? ctx.index }, `${e.code}: ${e.message}`);
    }
    throw e;
  }
  return {
    header: rows[0]?.record.map((h) => h.trim().toLowerCase()) ?? [],
    rows: rows.slice(1).map((r) => ({ record: r.record, line: r.info.lines })),
    encoding,
  };
}
