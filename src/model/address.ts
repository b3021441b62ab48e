/**
 * Mail addresses as the count compares them. Who sent a ballot is decided by the one address in the
 * one `From:` header, compared with the roster byte for byte after ASCII case-folding only:
 *
 * - Only A–Z are folded. `String#toLowerCase` would fold the Kelvin sign (U+212A) into "k", and
 *   UTS #46 mapping (what `url.domainToASCII` does) folds many look-alikes into ASCII; neither is
 *   ever applied, so no look-alike character can become a roster address.
 * - An address with any character outside ASCII (an internationalised, SMTPUTF8 address) matches no
 *   roster council: roster addresses and domains are ASCII, an internationalised domain is written
 *   there in its `xn--` form, and an `xn--` domain in `From:` is compared as written.
 * - An address that is not `local@domain` with a host-name domain matches nothing either.
 */

const DOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const NON_ASCII = /[^\x00-\x7F]/;

export const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

export type AddressReading = { ok: true; address: string; domain: string } | { ok: false; address: string; problem: string };

/** The address as compared with the roster, or why it can be compared with nothing. */
export function readAddress(raw: string): AddressReading {
  const address = asciiLower(raw.trim());
  if (NON_ASCII.test(address)) {
    return { ok: false, address, problem: 'contains characters outside ASCII (an internationalised or look-alike address); roster addresses are ASCII, so it matches no council' };
  }
  const at = address.indexOf('@');
  if (at <= 0 || at !== address.lastIndexOf('@')) return { ok: false, address, problem: 'is not one local part and one domain joined by a single "@"' };
  const domain = address.slice(at + 1);
  if (!DOMAIN.test(domain)) return { ok: false, address, problem: `has a domain (${domain}) that is not a host name` };
  return { ok: true, address, domain };
}

/**
 * Latin letters that other scripts draw alike (Cyrillic, Greek, and a few compatibility forms),
 * for telling the officer that a domain imitates a roster domain. Used for a warning only: a
 * look-alike never matches, whatever this table says.
 */
const CONFUSABLE: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', һ: 'h', і: 'i', ї: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', ӏ: 'l',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ϲ: 'c',
  'ı': 'i', 'ɡ': 'g', 'ℓ': 'l', '\u212A': 'k', '\u212B': 'a',
};

/** The letters a reader sees: punycode decoded, compatibility forms and accents removed, confusables mapped to Latin. */
export function visualSkeleton(domain: string, toUnicode: (d: string) => string): string {
  const unicode = domain.split('.').some((l) => l.startsWith('xn--')) ? toUnicode(domain) || domain : domain;
  return [...unicode.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase()].map((ch) => CONFUSABLE[ch] ?? ch).join('');
}

/** An address as shown to people: every character outside ASCII as a visible escape (\u{435}), so a look-alike never passes for the real one. */
export function showAddress(address: string): string {
  return address.replace(NON_ASCII_ALL, (ch) => `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`);
}
const NON_ASCII_ALL = /[^\x00-\x7F]/gu;

/**
 * Why a From header is not one mailbox as RFC 5322 §3.4 writes it (an address alone, or a display
 * name and the address in angle brackets, in a group or not), given the address a parser read from
 * it; null when it is. Parsers disagree over malformed headers (`<leader@council.gov.uk>@evil.example`,
 * `Leader <leader@council.gov.uk attacker@evil.example>`): mail servers and DMARC may read another
 * address than the one read here, so such a header names no sender. Comments are dropped; quoted
 * strings in a display name may hold anything; the obsolete source route (`<@host:addr>`) is refused,
 * as no mail program writes it now. One pass over the header.
 */
export function notOneMailbox(header: string, address: string): string | null {
  // Two readings of the header, built from runs of it (a character at a time is slow on a long header):
  // `plain`, comments dropped (each leaves a space); `skeleton`, the same with the text of each quoted
  // string outside angle brackets dropped too (its quotes kept), so that only structure is left.
  const plainRuns: string[] = [];
  const skeletonRuns: string[] = [];
  let plainFrom = 0;
  let skeletonFrom = 0; // -1 inside a quoted string outside angle brackets
  let depth = 0;
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i);
    if (c === 0x5c /* \ */ && (quoted || depth > 0)) {
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) plainFrom = skeletonFrom = i + 1;
      continue;
    }
    if (quoted) {
      if (c === 0x22) {
        quoted = false;
        if (skeletonFrom < 0) skeletonFrom = i;
      }
      continue;
    }
    if (c === 0x28 /* ( */) {
      plainRuns.push(header.slice(plainFrom, i), ' ');
      skeletonRuns.push(header.slice(skeletonFrom, i), ' ');
      depth = 1;
    } else if (c === 0x22 /* " */) {
      quoted = true;
      if (angle === 0) {
        skeletonRuns.push(header.slice(skeletonFrom, i + 1));
        skeletonFrom = -1;
      }
    } else if (c === 0x3c /* < */) angle++;
    else if (c === 0x3e /* > */) angle--;
  }
  if (depth === 0) {
    plainRuns.push(header.slice(plainFrom));
    if (skeletonFrom >= 0) skeletonRuns.push(header.slice(skeletonFrom));
  }
  const plain = plainRuns.join('');
  const skeleton = skeletonRuns.join('');
  if (quoted || depth > 0) return 'a quoted string or comment is not closed';
  // RFC 5322's obsolete forms allow white space round the "@" and the dots, and parsers read them alike.
  // (Split at them rather than matched round them: a pattern of white space then "@" is quadratic in a run of spaces.)
  const squeeze = (t: string): string => {
    const pieces = t.trim().split(/([@.])/);
    return asciiLower(pieces.map((p, i) => (i % 2 === 1 ? p : i === 0 ? p.trimEnd() : i === pieces.length - 1 ? p.trimStart() : p.trim())).join(''));
  };
  const same = (written: string): boolean => squeeze(written) === squeeze(address);
  // A group (RFC 6854 allows one in From): "name: mailbox;".
  const group = /^([^<>":;@,]*|"[^"]*"):(.*);\s*$/s.exec(skeleton);
  const body = group ? skeleton.slice(skeleton.indexOf(':') + 1, skeleton.lastIndexOf(';')) : skeleton;
  const plainBody = group ? plain.slice(plain.indexOf(':') + 1, plain.lastIndexOf(';')) : plain;
  const open = body.indexOf('<');
  if (open < 0) {
    if (body.includes('>')) return 'a ">" with no "<"';
    return same(plainBody) ? null : 'it holds more than the address';
  }
  const close = body.indexOf('>', open);
  if (close < 0 || body.indexOf('<', open + 1) >= 0 || body.indexOf('>', close + 1) >= 0) return 'its angle brackets are not one pair';
  if (body.slice(close + 1).trim() !== '') return `text follows the address's closing ">" (${JSON.stringify(body.slice(close + 1).trim().slice(0, 60))})`;
  const name = body.slice(0, open);
  if (/[<>:;]/.test(name)) return 'its display name holds a special character outside quotes';
  const inside = body.slice(open + 1, close);
  if (inside.trim().startsWith('@')) return 'it gives an obsolete source route before the address';
  return same(inside) ? null : `the angle brackets hold more than the address (${JSON.stringify(inside.trim().slice(0, 80))})`;
}
