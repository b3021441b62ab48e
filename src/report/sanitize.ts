import { showAddress } from '../model/address.js';

/**
 * Text from an email on its way to a terminal: every control character, escape sequence and
 * bidirectional override is shown as a visible escape, so a message can never move the cursor,
 * change colours, rewrite a line or reorder what the officer reads.
 */
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029\uFEFF\uFFF9-\uFFFB]/gu;

export function safe(text: string | null | undefined, max = 200): string {
  if (text === null || text === undefined) return '';
  let s = text.replace(UNSAFE, (ch) => {
    const cp = ch.codePointAt(0) ?? 0;
    return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
  // Lone surrogates cannot be printed faithfully either.
  s = s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\\ufffd');
  if ([...s].length > max) s = [...s].slice(0, max - 1).join('') + '…';
  return s;
}

/** A mail address on its way to a report: as `safe`, with every character outside ASCII escaped (model/address.ts). */
export function safeAddress(text: string | null | undefined, max = 200): string {
  return safe(showAddress(text ?? ''), max);
}
