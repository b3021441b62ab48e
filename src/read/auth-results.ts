/**
 * Authentication-Results headers (RFC 8601). Only those the ballot address's own servers added are
 * evidence; every other one is a claim the sender could have written.
 */
export interface AuthResultsFact {
  /** Position of the header in the message's header block, 0 for the top-most. */
  position: number;
  authservId: string;
  trusted: boolean;
  why: string;
  dkim: { result: string; domain: string | null; selector: string | null }[];
}

function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (const ch of s) {
    if (ch === '"' && depth === 0) quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')' && depth > 0) depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

/** Parses one header value into its authserv-id and the DKIM results it reports. */
export function parseAuthenticationResults(value: string): { authservId: string; dkim: AuthResultsFact['dkim'] } {
  const parts = stripComments(value)
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  let authservId = '';
  // Microsoft 365 writes no authserv-id: the first part is then already a result.
  if (parts[0] !== undefined && !/^[\w.-]+\s*=/.test(parts[0])) {
    authservId = (parts.shift() ?? '').split(/\s+/)[0]?.toLowerCase() ?? '';
  }
  const dkim: AuthResultsFact['dkim'] = [];
  for (const p of parts) {
    const m = /^dkim\s*=\s*([\w-]+)(.*)$/is.exec(p);
    if (!m) continue;
    const props = m[2] ?? '';
    const d = /\bheader\.d\s*=\s*"?([^\s";]+)/i.exec(props)?.[1] ?? /\bheader\.i\s*=\s*"?[^\s";@]*@([^\s";]+)/i.exec(props)?.[1] ?? null;
    const s = /\bheader\.s\s*=\s*"?([^\s";]+)/i.exec(props)?.[1] ?? null;
    dkim.push({ result: (m[1] ?? '').toLowerCase(), domain: d?.toLowerCase() ?? null, selector: s });
  }
  return { authservId, dkim };
}

/**
 * A header is trusted when its authserv-id is one of ours and it stands above the bottom-most
 * Received header our own servers added: everything a sender writes lies below that.
 */
export function assessAuthenticationResults(
  headers: { key: string; value: string }[],
  receivedByPositions: number[],
  trustedIds: readonly string[],
): AuthResultsFact[] {
  const ids = trustedIds.map((x) => x.toLowerCase());
  const lowestOurs = receivedByPositions.length > 0 ? Math.max(...receivedByPositions) : -1;
  const out: AuthResultsFact[] = [];
  headers.forEach((h, position) => {
    if (h.key !== 'authentication-results') return;
    const parsed = parseAuthenticationResults(h.value);
    let trusted = false;
    let why: string;
    if (!ids.includes(parsed.authservId)) why = `authserv-id "${parsed.authservId || '(none)'}" is not one of the ballot address's servers (${ids.join(', ') || 'none configured'})`;
    else if (lowestOurs < 0) why = 'no Received header from the ballot address\'s servers, so nothing shows who added it';
    else if (position > lowestOurs) why = 'it stands below the ballot address\'s own Received header, so the sender wrote it';
    else {
      trusted = true;
      why = 'added by the ballot address\'s own server';
    }
    out.push({ position, authservId: parsed.authservId, trusted, why, dkim: parsed.dkim });
  });
  return out;
}
