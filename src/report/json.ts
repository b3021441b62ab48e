import type { ResultModel } from '../model/result.js';

/** The canonical result file: fields in the model's fixed order, two-space indented, one final newline. */
export function renderJson(result: ResultModel): string {
  return JSON.stringify(result, null, 2) + '\n';
}
