import type { ResultModel } from "../model/result.js";
export function renderHtml(_r: ResultModel): string { return ""; }
