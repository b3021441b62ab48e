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
