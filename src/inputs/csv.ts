import { parse } from 'csv-parse/sync';
import { CsvError } from 'csv-parse';
import { InputError } from '../model/errors.js';
import { decodeSpreadsheetText, type LoadedFile, utf16Text } from './files.js';

export interface CsvTable {
  /** Header names, trimmed and lower-cased. */
  header: string[];
  /** Each record with the line it ends on. */
  rows: { record: string[]; line: number }[];
  encoding: 'utf-8' | 'windows-1252';
}

/** A spreadsheet export read with csv-parse; a syntax error names the file, line and column. */
export function readCsv(file: LoadedFile, options: { comments?: boolean } = {}): CsvTable {
  let header: string[] = [];
  const rows: CsvTable['rows'] = [];
  const { encoding } = eachCsvRow(file, options, (h) => (header = h), (record, line) => rows.push({ record, line }));
  return { header, rows, encoding };
}

/**
 * The same, row by row: the header to `onHeader`, then each record to `onRow` as csv-parse reads
 * it, so that a large file's rows are never all held at once (a roster of 100,000 councils).
 */
export function eachCsvRow(
  file: LoadedFile,
  options: { comments?: boolean },
  onHeader: (header: string[]) => void,
  onRow: (record: string[], line: number) => void,
): { encoding: CsvTable['encoding'] } {
  const notText = notCsvText(file.bytes);
  if (notText !== null) throw new InputError('CSV_SYNTAX', { file: file.path, line: 1 }, `${notText}, but this file must be comma-separated text (UTF-8, or Windows-1252): in Excel use Save As → "CSV UTF-8 (Comma delimited)"`);
  const { text, encoding } = decodeSpreadsheetText(file.bytes);
  const firstLine = headerLine(text.replace(/^\uFEFF/, ''), options.comments === true);
  if (firstLine.includes(';') && !firstLine.includes(',') && !firstLine.includes('\t')) {
    throw new InputError(
      'CSV_SYNTAX',
      { file: file.path, line: 1 },
      'the columns are separated by ";" (as Excel writes CSV in some languages), but this file must be comma-separated: in Excel use Save As → "CSV UTF-8 (Comma delimited)"',
    );
  }
  if (firstLine.includes('\t') && !firstLine.includes(',')) {
    throw new InputError(
      'CSV_SYNTAX',
      { file: file.path, line: 1 },
      'the columns are separated by tabs (a "Text (Tab delimited)" export or a paste from a spreadsheet), but this file must be comma-separated: in Excel use Save As → "CSV UTF-8 (Comma delimited)"',
    );
  }
  let seenHeader = false;
  try {
    parse(text, {
      bom: true,
      // Each record is handed on as it is read, and nothing is kept here (on_record returns null).
      on_record: (record: string[], context: { lines: number }) => {
        if (seenHeader) onRow(record, context.lines);
        else onHeader(record.map((h) => h.trim().toLowerCase()));
        seenHeader = true;
        return null;
      },
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      trim: true,
      relax_column_count: false,
      // Whole-line "#" comments only (the template that --pending writes); a "#" inside a field is text.
      ...(options.comments ? { comment: '#', comment_no_infix: true } : {}),
    });
  } catch (e) {
    if (e instanceof CsvError) {
      const ctx = e as CsvError & { lines?: number; column?: number | string; index?: number };
      throw new InputError('CSV_SYNTAX', { file: file.path, line: ctx.lines, column: ctx.column ?? ctx.index }, `${e.code}: ${e.message}`);
    }
    throw e;
  }
  return { encoding };
}

/**
 * What a file is, when it is not a text a spreadsheet wrote as CSV (which is UTF-8 or Windows-1252):
 * an Excel workbook or an OpenDocument spreadsheet (a zip), an old Excel workbook (a compound file),
 * or UTF-16 text (Excel's "Unicode Text", which is tab-separated too). Null for text.
 */
function notCsvText(bytes: Buffer): string | null {
  const starts = (...b: number[]): boolean => b.every((x, i) => bytes[i] === x);
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'it is a zip file, as an Excel workbook (.xlsx) or an OpenDocument spreadsheet (.ods) is';
  if (starts(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1)) return 'it is an old Excel workbook (.xls)';
  return utf16Text(bytes, 'as Excel saves "Unicode Text"');
}

/**
 * The columns of `wanted` that `header` (trimmed and lower-cased) lacks, as an error's detail: each
 * with the header's name that differs from it only in spaces, hyphens or underscores ("council id"
 * for council_id), as a spreadsheet's author may have typed it. Null when none is missing. Names are
 * never matched that loosely: the file names its columns as the format does.
 */
export function missingColumns(header: readonly string[], wanted: readonly string[]): string | null {
  const missing = wanted.filter((c) => !header.includes(c));
  if (missing.length === 0) return null;
  const loose = (name: string): string => name.replace(/[\s_-]+/g, '');
  const hints = missing.flatMap((c) => {
    const near = header.find((h) => loose(h) === loose(c));
    return near === undefined ? [] : [`"${near}" must be named ${c}`];
  });
  return `missing column(s): ${missing.join(', ')}${hints.length > 0 ? ` (${hints.join('; ')})` : ''}`;
}

/** The first line that holds the header (past "#" comments and blank lines when they are allowed), found without splitting the whole file. */
function headerLine(text: string, comments: boolean): string {
  let at = 0;
  while (at <= text.length) {
    const nl = text.indexOf('\n', at);
    const end = nl === -1 ? text.length : nl;
    const line = text.slice(at, end).replace(/\r$/, '');
    if (!comments || (!line.startsWith('#') && line.trim() !== '')) return line;
    if (nl === -1) return '';
    at = nl + 1;
  }
  return '';
}
