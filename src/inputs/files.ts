import { hash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../model/errors.js';

export interface LoadedFile {
  /** How the file is named in reports: its base name, so results do not depend on the working directory. */
  name: string;
  path: string;
  bytes: Buffer;
  sha256: string;
}

export function sha256Hex(data: Buffer | string): string {
  return hash('sha256', data);
}

export function displayName(path: string): string {
  const parts = path.split(/[\\/]+/).filter((p) => p.length > 0);
  return parts[parts.length - 1] ?? path;
}

/**
 * The size of an input file, which must be a regular file: a folder is refused, and so are a device
 * or a named pipe, which would be read forever (or block until something writes to them).
 */
export async function inputFileSize(path: string, what: string): Promise<number> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw unreadable(path, what, e);
  }
  if (!st.isFile()) throw new InputError('FILE_UNREADABLE', { file: path }, `${what} file is ${st.isDirectory() ? 'a folder' : 'not a regular file (a device or a pipe)'}`);
  return st.size;
}

function unreadable(path: string, what: string, e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputError('FILE_NOT_FOUND', { file: path }, `${what} file not found`);
  return new InputError('FILE_UNREADABLE', { file: path }, `${what} file cannot be read (${code ?? String(e)})`);
}

export async function loadInputFile(path: string, what: string): Promise<LoadedFile> {
  const name = displayName(path);
  await inputFileSize(path, what);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw unreadable(path, what, e);
  }
  return { name, path, bytes, sha256: sha256Hex(bytes) };
}

/**
 * What a text input is, when it is UTF-16 rather than UTF-8 (or a single-byte charset): with its
 * byte order mark ("it is UTF-16 text (as `writer` does)"), or without one, a NUL byte near the start
 * (beside each ASCII character). Null otherwise.
 */
export function utf16Text(bytes: Buffer, writer: string): string | null {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return `it is UTF-16 text (${writer})`;
  const head = bytes.subarray(0, 64);
  if (head.length >= 4 && head.indexOf(0) >= 0) return 'it holds NUL bytes (UTF-16 text without a byte order mark, or not text at all)';
  return null;
}

/**
 * Text of a spreadsheet export: UTF-8 with or without BOM, or else Windows-1252 (which is what Excel
 * writes as "CSV" on a UK Windows machine).
 */
export function decodeSpreadsheetText(bytes: Buffer): { text: string; encoding: 'utf-8' | 'windows-1252' } {
  let b = bytes;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(b), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(b), encoding: 'windows-1252' };
  }
}
