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

/**
 * The text without its RFC 5322 comments (nested; a backslash escapes the character after it), and
 * whether its parentheses pair up as comments do: every one closed, none closed that was not opened.
 */
function withoutComments(s: string): { text: string; balanced: boolean } {
  let text = '';
  let depth = 0;
  let balanced = true;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (depth > 0 && ch === '\\') i++;
    else if (ch === '(') depth++;
    else if (ch === ')' && depth > 0) depth--;
    else if (ch === ')') balanced = false;
    else if (depth === 0) text += ch;
  }
  return { text, balanced: balanced && depth === 0 };
}
const stripComments = (s: string): string => withoutComments(s).text;

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

/** A server's own stamp has a ";" or two before its date-time; only a header's first this many are tried. */
const MAX_STAMP_SEMICOLONS = 32;

/**
 * The "by" host and the timestamp of a Received header (RFC 5321 §4.4): the date-time right after a
 * ";" (outside comments and quoted strings) that has a "by" clause before it, and the last "by" host
 * before that ";" (RFC 5322 §3.6.7: the received tokens before the ";" hold none). What a sender
 * controls in the header the server writes on top cannot then move its time earlier or its host:
 * text after the server's date-time (a message that began with a line of white space has it folded
 * into that header by a server that keeps it: "…; <the server's time> ; <any time>", of which the
 * last ";" had been read) is said, as `trailing`; a ";", "(" or "by" in what the sending side names
 * itself (its HELO, which a server may write as it came; Postfix writes such characters as "?")
 * before the server's own clause is passed over, and where two ";" would each give a time, the
 * latest is the server's or later than it. Parentheses that do not pair up as comments are read as
 * plain characters, so that a "(" the sender wrote cannot hide the rest of the header. Without such
 * a ";", the first one's date-time, if any.
 */
export function parseReceived(raw: string, position: number): ReceivedHop {
  const unfolded = raw.replace(/\r?\n[ \t]+/g, ' ');
  const stripped = withoutComments(unfolded);
  const text = stripped.balanced ? stripped.text : unfolded.replace(/[()]/g, ' ');
  const semis: number[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (quoted && text[i] === '\\') i++;
    else if (text[i] === '"') quoted = !quoted;
    else if (!quoted && text[i] === ';') semis.push(i);
  }
  // Every "by" clause's host, with where it stands: one pass, so that each ";" asks only for the last before it.
  const bys = [...text.matchAll(/(?:^|\s)by\s+([^\s;()]+)/gi)].map((m) => ({ at: m.index ?? 0, host: (m[1] ?? '').toLowerCase().replace(/\.$/, '') }));
  const lastBy = (before: number): string | null => {
    let host: string | null = null;
    for (const b of bys) {
      if (b.at >= before) break;
      host = b.host;
    }
    return host;
  };
  const fromOf = (clauses: string): string | null => /(?:^|\s)from\s+([^\s;()]+)/i.exec(clauses)?.[1]?.toLowerCase() ?? null;
  // A server's own stamp has a ";" or two before its date-time: a header with many more is the
  // sender's, and only its first few are tried. Where more than one ";" has a "by" clause before it
  // and a date-time after it, the server's is one of them, and the sender's text the other: the
  // latest time is taken (a sender gains nothing by a later one: it is as if sent later).
  let chosen: { semi: number; by: string | null; stamp: { at: Date; rest: string } | null } | null = null;
  for (const semi of semis.slice(0, MAX_STAMP_SEMICOLONS)) {
    const by = lastBy(semi);
    const stamp = by === null ? null : leadingRfc5322Date(text.slice(semi + 1, semi + 1 + 400));
    if (by !== null && stamp && (chosen === null || stamp.at.getTime() > (chosen.stamp?.at.getTime() ?? 0))) chosen = { semi, by, stamp };
  }
  // Without such a ";", the first one: its date-time, if any, and the "by" before it.
  const first = semis[0];
  chosen ??= first === undefined ? null : { semi: first, by: lastBy(first), stamp: leadingRfc5322Date(text.slice(first + 1)) };
  const clauses = chosen === null ? text : text.slice(0, chosen.semi);
  const hop: ReceivedHop = { position, by: chosen === null ? lastBy(text.length) : chosen.by, from: fromOf(clauses), at: chosen?.stamp?.at ?? null };
  if (chosen?.stamp && chosen.stamp.rest !== '') hop.trailing = chosen.stamp.rest.slice(0, 120);
  return hop;
}
