import { renderedOf, type ResultModel } from '../model/result.js';

/**
 * The canonical result file: fields in the model's fixed order, two-space indented, one final
 * newline — exactly `JSON.stringify(result, null, 2)`, written piece by piece so that a result of
 * any size never stands in memory as one string (a large count's messages come from disk one at a
 * time).
 */
export function writeJson(result: ResultModel, write: (s: string) => void): void {
  const keys = Object.keys(result) as (keyof ResultModel)[];
  write('{\n');
  keys.forEach((key, i) => {
    const value = result[key];
    write(`  ${JSON.stringify(key)}: `);
    if (key === 'messages' && Array.isArray(value) && value.length > 0) {
      write('[\n');
      (value as object[]).forEach((m, k) => {
        const rendered = renderedOf(m);
        write(`${k > 0 ? ',\n' : ''}    ${rendered ? rendered('pretty') : JSON.stringify(m, null, 2).replace(/\n/g, '\n    ')}`);
      });
      write('\n  ]');
    } else {
      writePretty(value, '  ', write);
    }
    write(i < keys.length - 1 ? ',\n' : '\n');
  });
  write('}\n');
}

/**
 * `JSON.stringify(value, null, 2)` with every line after the first indented by `indent`, written a
 * piece at a time: a plain object or array is written member by member, so that a list that grows
 * with the mailbox or the roster (the files of a folder of 100,000 messages, the councils that did
 * not vote) never stands in memory as one string, nor as the copy that indenting it makes (at
 * 100,000 files, some 25 MB, allocated some three times over). Any other value (a string, a number,
 * an object with toJSON or a prototype of its own) is written by JSON.stringify itself; the one
 * difference is the key a toJSON method is given ("" here), which none of the result's values reads.
 */
export function writePretty(value: unknown, indent: string, write: (s: string) => void): void {
  const text = member(value, indent, write);
  // JSON.stringify of a value it cannot represent (undefined, a function) is no text at all.
  if (text === null) throw new TypeError('internal: a result field has no JSON value');
  if (text !== '') write(text);
}

/**
 * Writes `value` and returns '' when it is a plain object or array (its members written one by
 * one); else returns its JSON text (not yet written, so that the caller can leave out a member that
 * has none), or null when it has none (undefined, a function, a symbol, a toJSON giving undefined).
 */
function member(value: unknown, indent: string, write: (s: string) => void): string | null {
  if (isPlainArray(value)) {
    if (value.length === 0) {
      write('[]');
      return '';
    }
    const inner = indent + '  ';
    for (let i = 0; i < value.length; i++) {
      write(`${i > 0 ? ',' : '['}\n${inner}`);
      const text = member(value[i], inner, write);
      // As JSON.stringify writes a member of an array it cannot represent: null.
      if (text !== '') write(text ?? 'null');
    }
    write(`\n${indent}]`);
    return '';
  }
  if (isPlainObject(value)) {
    const inner = indent + '  ';
    let first = true;
    for (const key of Object.keys(value)) {
      const v = value[key];
      const plain = isPlainArray(v) || isPlainObject(v);
      // A member with no JSON text is left out, as JSON.stringify leaves it out of an object.
      const text = plain ? '' : leaf(v, inner);
      if (text === null) continue;
      write(`${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `);
      first = false;
      if (plain) member(v, inner, write);
      else write(text);
    }
    write(first ? '{}' : `\n${indent}}`);
    return '';
  }
  return leaf(value, indent);
}

/** A value's JSON text as JSON.stringify(value, null, 2) lays it out, its lines after the first indented by `indent`; null when it has none. */
function leaf(value: unknown, indent: string): string | null {
  const text = JSON.stringify(value, null, 2) as string | undefined;
  return text === undefined ? null : text.replace(/\n/g, '\n' + indent);
}

const hasToJson = (v: object): boolean => typeof (v as { toJSON?: unknown }).toJSON === 'function';

function isPlainArray(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype && !hasToJson(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && !hasToJson(v);
}

export function renderJson(result: ResultModel): string {
  const parts: string[] = [];
  writeJson(result, (s) => parts.push(s));
  return parts.join('');
}
