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

/**
 * The ballot address's own server (`receivedBy`): a stamp is its own when it stands above the
 * bottom-most of the Received headers that server added, counted from its top-most one down through
 * those that follow it at once (header positions of all Received headers by it: `ours`). A Received
 * header "by" the server lower down, after any other header, may be the sender's: a sender who wrote
 * `Authentication-Results: <the server>; dkim=pass header.d=<a council>` and under it
 * `Received: … by <the server>; …` had the stamp taken for the server's own, when the bottom-most
 * was read. (A server that passes mail through itself twice, with a stamp between its two Received
 * headers, has that stamp read as the sender's: the signature itself is still verified.)
 */
export function receivedByRegion(ours: readonly number[], ids: readonly string[]): TrustRegion {
  const positions = new Set(ours);
  let bottom = ours.length > 0 ? Math.min(...ours) : -1;
  while (bottom >= 0 && positions.has(bottom + 1)) bottom++;
  return {
    ids,
    check: (position) =>
      bottom < 0
        ? { trusted: false, why: "no Received header from the ballot address's servers, so nothing shows who added it" }
        : position > bottom
          ? { trusted: false, why: "it stands below the ballot address's own Received header, so the sender wrote it" }
          : { trusted: true, why: "added by the ballot address's own server" },
  };
}

/** A header value's lexical items (RFC 8601 §2.2, RFC 5322 §3.2): a value (a word, a quoted string, or both run together: "a;b"@x.example), "=", or ";". Comments are gone. */
type Item = { kind: 'value'; text: string } | { kind: '=' } | { kind: ';' };

/**
 * The items of an Authentication-Results value, read as RFC 5322 reads structured headers: a comment
 * (nested, with backslash escapes) is white space, and a quoted string (with backslash escapes) is
 * one value however many ";", "=" or parentheses it holds. What a sender controls inside a stamp
 * (the envelope sender in `smtp.mailfrom` and in the receiving service's comments) can then never
 * end a result and begin another: `smtp.mailfrom="x;dkim=pass header.d=council.gov.uk"@attacker.example`
 * is one property, and `(domain of "x)(;dkim=pass…"@attacker.example …)` one comment.
 */
function lexAuthResults(value: string): Item[] {
  const items: Item[] = [];
  let word = '';
  // Whether the last value may still grow: no white space, comment or separator since it.
  let open = false;
  const flush = (): void => {
    if (word === '') return;
    const last = items[items.length - 1];
    if (open && last?.kind === 'value') last.text += word;
    else items.push({ kind: 'value', text: word });
    word = '';
    open = true;
  };
  const end = (): void => {
    flush();
    open = false;
  };
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '(') {
      end();
      let depth = 1;
      for (i++; i < value.length && depth > 0; i++) {
        if (value[i] === '\\') i++;
        else if (value[i] === '(') depth++;
        else if (value[i] === ')') depth--;
      }
      i--;
    } else if (ch === '"') {
      flush();
      let text = '';
      for (i++; i < value.length && value[i] !== '"'; i++) {
        if (value[i] === '\\') i++;
        if (i < value.length) text += value[i];
      }
      const last = items[items.length - 1];
      if (open && last?.kind === 'value') last.text += text;
      else items.push({ kind: 'value', text });
      open = true;
    } else if (ch === ';' || ch === '=') {
      end();
      items.push({ kind: ch });
    } else if (/\s/.test(ch)) {
      end();
    } else {
      word += ch;
    }
  }
  end();
  return items;
}

const MAX_RESULTS = 64;

/** Parses one header value into its authserv-id and the DKIM, DMARC and compauth results it reports. */
export function parseAuthenticationResults(value: string): Pick<AuthResultsFact, 'authservId' | 'dkim' | 'dmarc' | 'compauth'> {
  // The value's ";"-separated parts, each as its name=value pairs and lone values, in order.
  const parts: Item[][] = [[]];
  for (const item of lexAuthResults(value)) {
    if (item.kind === ';') parts.push([]);
    else parts[parts.length - 1]!.push(item);
  }
  const pairsOf = (part: Item[]): { name: string; value: string }[] => {
    const pairs: { name: string; value: string }[] = [];
    for (let i = 0; i + 2 < part.length; i++) {
      const [a, eq, b] = [part[i], part[i + 1], part[i + 2]];
      if (a?.kind === 'value' && eq?.kind === '=' && b?.kind === 'value') {
        pairs.push({ name: a.text.toLowerCase(), value: b.text });
        i += 2;
      }
    }
    return pairs;
  };
  const nonEmpty = parts.filter((p) => p.length > 0);
  // ARC-Authentication-Results begins with its instance: "i=1; mx.microsoft.com 1; …".
  const first = nonEmpty[0];
  if (first !== undefined && first.length === 3 && pairsOf(first)[0]?.name === 'i') nonEmpty.shift();
  let authservId = '';
  // Microsoft 365 writes no authserv-id: the first part is then already a result.
  const head = nonEmpty[0];
  if (head !== undefined && head[1]?.kind !== '=') {
    authservId = head[0]?.kind === 'value' ? head[0].text.toLowerCase() : '';
    nonEmpty.shift();
  }
  const dkim: AuthResultsFact['dkim'] = [];
  let dmarc: AuthResultsFact['dmarc'] = null;
  let compauth: string | null = null;
  // A server writes a result a method, a handful in all: a header of thousands is a sender's, and only its first few are read.
  for (const part of nonEmpty.slice(0, MAX_RESULTS)) {
    const [method, ...props] = pairsOf(part);
    if (method === undefined || part[0]?.kind !== 'value' || part[1]?.kind !== '=') continue;
    const result = method.value.toLowerCase();
    const prop = (name: string): string | null => props.find((p) => p.name === name)?.value ?? null;
    if (method.name === 'dkim') {
      const identity = prop('header.i');
      const d = prop('header.d') ?? (identity !== null && identity.includes('@') ? identity.slice(identity.lastIndexOf('@') + 1) : null);
      dkim.push({ result, domain: d?.toLowerCase() ?? null, selector: prop('header.s'), algorithm: prop('header.a')?.toLowerCase() ?? null });
    } else if (method.name === 'dmarc') {
      dmarc ??= { result, domain: prop('header.from')?.toLowerCase() ?? null };
    } else if (method.name === 'compauth') {
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
