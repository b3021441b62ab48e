import { InputError } from '../model/errors.js';
import { type LoadedFile, utf16Text } from './files.js';

/** A JSON input file: its text (BOM removed) and value; a syntax error names the line and column. */
export function readJsonFile(file: LoadedFile): { text: string; value: unknown } {
  const utf16 = utf16Text(file.bytes, 'as Windows Notepad saves "Unicode"');
  if (utf16 !== null) throw new InputError('JSON_SYNTAX', { file: file.path, line: 1 }, `${utf16}, but this file must be UTF-8: save it again as UTF-8`);
  const text = new TextDecoder('utf-8').decode(file.bytes).replace(/^\uFEFF/, '');
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch (e) {
    const loc = jsonErrorLocation(text, e as Error);
    throw new InputError('JSON_SYNTAX', { file: file.path, line: loc.line, column: loc.column }, `not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Finds the line of a value inside JSON text by its path, so that a schema error can name the line.
 * A small recursive-descent walk over text that JSON.parse has already accepted.
 */
export type JsonPath = readonly PropertyKey[];

export function lineOfPath(text: string, path: JsonPath): number | undefined {
  let pos = 0;
  const lineAt = (p: number): number => {
    let n = 1;
    for (let i = 0; i < p && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
    return n;
  };
  const ws = (): void => {
    while (pos < text.length && /\s/.test(text[pos] ?? '')) pos++;
  };
  const skipString = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length && text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
    pos++;
    return JSON.parse(text.slice(start, pos)) as string;
  };
  const skipValue = (): void => {
    ws();
    const c = text[pos];
    if (c === '"') skipString();
    else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      pos++;
      ws();
      if (text[pos] === close) {
        pos++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          skipString();
          ws();
          pos++; // colon
        }
        skipValue();
        ws();
        if (text[pos] === ',') pos++;
        else {
          pos++;
          return;
        }
      }
    } else {
      while (pos < text.length && !/[\s,\]}]/.test(text[pos] ?? '')) pos++;
    }
  };
  // Descend along the path; at each level find the member, return the line of its key (or value).
  let bestLine: number | undefined;
  ws();
  for (const key of path) {
    const c = text[pos];
    if (c === '{' && typeof key === 'string') {
      pos++;
      let found = false;
      for (;;) {
        ws();
        if (text[pos] === '}' || pos >= text.length) break;
        const keyPos = pos;
        const k = skipString();
        ws();
        pos++;
        ws();
        if (k === key) {
          bestLine = lineAt(keyPos);
          found = true;
          break;
        }
        skipValue();
        ws();
        if (text[pos] === ',') pos++;
      }
      if (!found) return bestLine;
    } else if (c === '[' && typeof key === 'number') {
      pos++;
      for (let i = 0; i < key; i++) {
        skipValue();
        ws();
        if (text[pos] === ',') pos++;
        else return bestLine;
      }
      ws();
      bestLine = lineAt(pos);
    } else {
      return bestLine;
    }
  }
  return bestLine;
}

/** Line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return { line, column: col };
}

/** Where JSON.parse stopped, from its message (its wording differs between Node versions). */
export function jsonErrorLocation(text: string, error: Error): { line: number; column: number } {
  const msg = error.message;
  const lc = /line (\d+) column (\d+)/.exec(msg);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /position (\d+)/.exec(msg);
  if (pos) return lineColumn(text, Number(pos[1]));
  if (/end of JSON input/i.test(msg)) return lineColumn(text, text.length);
  // "Unexpected token 'c', "council_id"... is not valid JSON": find the quoted excerpt.
  const excerpt = /"(.{1,40}?)"\.\.\. is not valid JSON/s.exec(msg)?.[1];
  const at = excerpt ? text.indexOf(excerpt.replace(/\\"/g, '"')) : -1;
  return lineColumn(text, at >= 0 ? at : 0);
}
