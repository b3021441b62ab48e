/**
 * Strict RFC 5322 date-time parsing (with the obsolete forms of §4.3 that real mail still carries).
 * Anything else is null: a message's time is never guessed, and never taken from the clock.
 */
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0,
  edt: -4 * 60, est: -5 * 60, cdt: -5 * 60, cst: -6 * 60, mdt: -6 * 60, mst: -7 * 60, pdt: -7 * 60, pst: -8 * 60,
};

const RE =
  /^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\s*,?\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s*(?:([+-])(\d{2})(\d{2})|([a-z]{1,5}))?$/i;

function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')' && depth > 0) depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

export function parseRfc5322Date(raw: string): Date | null {
  if (raw.length > 200) return null;
  return dateOf(RE.exec(stripComments(raw).replace(/\s+/g, ' ').trim()));
}

/** RE, matching the date-time that begins a text, up to white space or the end. */
const RE_LEADING = new RegExp(`${RE.source.slice(0, -1)}(?=\\s|$)`, 'i');

/**
 * The date-time that begins a text, and what follows it (trimmed; '' when nothing does). Null when
 * the text does not begin with one.
 */
export function leadingRfc5322Date(raw: string): { at: Date; rest: string } | null {
  const s = stripComments(raw.slice(0, 400)).replace(/\s+/g, ' ').trim();
  const m = RE_LEADING.exec(s);
  const at = dateOf(m);
  return m && at ? { at, rest: (s.slice(m[0].length) + (raw.length > 400 ? ' …' : '')).trim() } : null;
}

function dateOf(m: RegExpExecArray | null): Date | null {
  if (!m) return null;
  const day = Number(m[1]);
  const month = MONTHS.indexOf((m[2] ?? '').toLowerCase());
  let year = Number(m[3]);
  if ((m[3] ?? '').length === 2) year += year < 50 ? 2000 : 1900;
  else if ((m[3] ?? '').length === 3) year += 1900;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let offset: number;
  if (m[7] !== undefined) {
    const oh = Number(m[8]);
    const om = Number(m[9]);
    if (om > 59) return null;
    offset = (m[7] === '-' ? -1 : 1) * (oh * 60 + om);
  } else if (m[10] !== undefined) {
    const z = ZONES[m[10].toLowerCase()];
    // Military zones and unknown names mean "no information about the zone": RFC 5322 reads them as -0000.
    offset = z ?? (/^[a-ik-z]$/i.test(m[10]) ? 0 : NaN);
    if (Number.isNaN(offset)) return null;
  } else {
    return null;
  }
  const utc = Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offset * 60_000;
  const check = new Date(Date.UTC(year, month, day));
  if (check.getUTCDate() !== day) return null; // 31 February and the like
  return new Date(utc);
}

export interface ReceivedHop {
  /** Position among the Received headers, 0 for the top-most (the last added). */
  position: number;
  by: string | null;
  from: string | null;
  at: Date | null;
  /** Text after the timestamp, which the server did not write there (a line of the message folded into its header). */
  trailing?: string;
}

/**
 * The "by" host and the timestamp of a Received header (RFC 5321 §4.4): the date-time after its
 * first ";" outside comments (RFC 5322 §3.6.7: the received tokens before it hold none). What
 * follows that date-time is no part of the server's stamp: a sender whose message began with a line
 * of white space had it folded into the header the server wrote on top, so "…; <the server's time>
 * ; <any time>" (which the last ";" had read as the sender's time) gives the server's time, and
 * says what followed it (`trailing`).
 */
export function parseReceived(raw: string, position: number): ReceivedHop {
  const noComments = stripComments(raw.replace(/\r?\n[ \t]+/g, ' '));
  const semi = noComments.indexOf(';');
  const clauses = semi >= 0 ? noComments.slice(0, semi) : noComments;
  const stamp = semi >= 0 ? leadingRfc5322Date(noComments.slice(semi + 1)) : null;
  const by = /(?:^|\s)by\s+([^\s;()]+)/i.exec(clauses)?.[1]?.toLowerCase().replace(/\.$/, '') ?? null;
  const from = /(?:^|\s)from\s+([^\s;()]+)/i.exec(clauses)?.[1]?.toLowerCase() ?? null;
  const hop: ReceivedHop = { position, by, from, at: stamp?.at ?? null };
  if (stamp && stamp.rest !== '') hop.trailing = stamp.rest.slice(0, 120);
  return hop;
}
