/**
 * Authentication-Results headers (RFC 8601). Only those the ballot address's own servers added are
 * evidence; every other one is a claim the sender could have written.
 */
export interface AuthResultsFact {
  /** Position of the header in the message's header block, 0 for the top-most. */
  position: number;
  /** Which header: Authentication-Results, or the ARC-Authentication-Results of an ARC set. */
  header: 'authentication-results' | 'arc-authentication-results';
  authservId: string;
  trusted: boolean;
  why: string;
  /** Each dkim= result, with the signing domain, selector and algorithm (header.a) when stamped. */
  dkim: { result: string; domain: string | null; selector: string | null; algorithm: string | null }[];
  /** DMARC's verdict and the From domain it was for (`dmarc=fail header.from=…`), when stamped. */
  dmarc: { result: string; domain: string | null } | null;
  /** Microsoft's composite authentication (`compauth=fail reason=…`), when stamped. */
  compauth: string | null;
}

/** Which headers the ballot address's own side wrote: by position in the header block. */
export interface TrustRegion {
  /** The authserv-ids its stamps carry ("" for none, as Exchange Online writes). */
  ids: readonly string[];
  check: (position: number) => { trusted: true; why: string } | { trusted: false; why: string };
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

/**
 * The ballot address's own server (`receivedBy`): a stamp is its own when it stands above the
 * bottom-most Received header that server added (header positions of those `ours`).
 */
export function receivedByRegion(ours: readonly number[], ids: readonly string[]): TrustRegion {
  const lowestOurs = ours.length > 0 ? Math.max(...ours) : -1;
  return {
    ids,
    check: (position) =>
      lowestOurs < 0
        ? { trusted: false, why: "no Received header from the ballot address's servers, so nothing shows who added it" }
        : position > lowestOurs
          ? { trusted: false, why: "it stands below the ballot address's own Received header, so the sender wrote it" }
          : { trusted: true, why: "added by the ballot address's own server" },
  };
}

/** Parses one header value into its authserv-id and the DKIM, DMARC and compauth results it reports. */
export function parseAuthenticationResults(value: string): Pick<AuthResultsFact, 'authservId' | 'dkim' | 'dmarc' | 'compauth'> {
  const parts = stripComments(value)
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  // ARC-Authentication-Results begins with its instance: "i=1; mx.microsoft.com 1; …".
  if (parts[0] !== undefined && /^i\s*=\s*\d+$/i.test(parts[0])) parts.shift();
  let authservId = '';
  // Microsoft 365 writes no authserv-id: the first part is then already a result.
  if (parts[0] !== undefined && !/^[\w.-]+\s*=/.test(parts[0])) {
    authservId = (parts.shift() ?? '').split(/\s+/)[0]?.toLowerCase() ?? '';
  }
  const dkim: AuthResultsFact['dkim'] = [];
  let dmarc: AuthResultsFact['dmarc'] = null;
  let compauth: string | null = null;
  for (const p of parts) {
    const m = /^(dkim|dmarc|compauth)\s*=\s*([\w-]+)(.*)$/is.exec(p);
    if (!m) continue;
    const method = (m[1] ?? '').toLowerCase();
    const result = (m[2] ?? '').toLowerCase();
    const props = m[3] ?? '';
    if (method === 'dkim') {
      const d = /\bheader\.d\s*=\s*"?([^\s";]+)/i.exec(props)?.[1] ?? /\bheader\.i\s*=\s*"?[^\s";@]*@([^\s";]+)/i.exec(props)?.[1] ?? null;
      const sel = /\bheader\.s\s*=\s*"?([^\s";]+)/i.exec(props)?.[1] ?? null;
      const algorithm = /\bheader\.a\s*=\s*"?([^\s";]+)/i.exec(props)?.[1]?.toLowerCase() ?? null;
      dkim.push({ result, domain: d?.toLowerCase() ?? null, selector: sel, algorithm });
    } else if (method === 'dmarc') {
      dmarc ??= { result, domain: /\bheader\.from\s*=\s*"?([^\s";]+)/i.exec(props)?.[1]?.toLowerCase() ?? null };
    } else {
      compauth ??= result;
    }
  }
  return { authservId, dkim, dmarc, compauth };
}

/**
 * A header is trusted when its authserv-id is one of ours and it stands where only our side writes:
 * above the bottom-most Received header our own servers added, or in the block a receiving service
 * writes at its edge. Everything a sender writes lies below.
 */
export function assessAuthenticationResults(headers: readonly { key: string; value: string }[], region: TrustRegion): AuthResultsFact[] {
  const ids = region.ids.map((x) => x.toLowerCase());
  const out: AuthResultsFact[] = [];
  headers.forEach((h, position) => {
    if (h.key !== 'authentication-results' && h.key !== 'arc-authentication-results') return;
    const parsed = parseAuthenticationResults(h.value);
    let trusted = false;
    let why: string;
    if (!ids.includes(parsed.authservId)) {
      why = `authserv-id "${parsed.authservId || '(none)'}" is not one of the ballot address's servers (${ids.map((x) => x || '(none)').join(', ') || 'none configured'})`;
    } else {
      const where = region.check(position);
      trusted = where.trusted;
      why = where.why;
    }
    out.push({ position, header: h.key, trusted, why, ...parsed });
  });
  return out;
}
