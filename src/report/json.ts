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
      write(JSON.stringify(value, null, 2).replace(/\n/g, '\n  '));
    }
    write(i < keys.length - 1 ? ',\n' : '\n');
  });
  write('}\n');
}

export function renderJson(result: ResultModel): string {
  const parts: string[] = [];
  writeJson(result, (s) => parts.push(s));
  return parts.join('');
}
