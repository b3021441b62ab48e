import { hash } from 'node:crypto';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { bodyOffset } from './body-offset.js';
import { installKeyCache } from './key-cache.js';

// Each key is made once per thread, not once per signature (see key-cache.ts).
installKeyCache();

/**
 * DKIM verification (RFC 6376) with mailauth, given an injected key lookup and the message's
 * receipt time as the verification time, so that a key rotated or a signature expired since the
 * count never changes the result.
 */
export type KeySource = 'pinned' | 'dns';
/**
 * A key's TXT records and where they came from; null when there is none (DNS says so, or the
 * pinned file has none and live DNS was asked); 'not-looked-up' when the pinned file has none and
 * live DNS was not asked: nobody knows whether the signature is good.
 */
export type TxtLookup = (name: string) => Promise<{ records: string[][]; source: KeySource } | null | 'not-looked-up'>;

/** The reason a signature gives whose key was not looked up (mailauth's "no key", said in full). */
export const KEY_NOT_LOOKED_UP = 'no key: none pinned (--keys), and live DNS not asked (--dns)';

/**
 * A signature made with rsa-sha1, which RFC 8301 §3.1 forbids a verifier to accept (SHA-1 collisions
 * can be made). mailauth still verifies it, as a mail client might show it: it proves nothing here.
 */
export const forbiddenAlgorithm = (algorithm: string | null): boolean => algorithm !== null && algorithm.trim().toLowerCase() === 'rsa-sha1';

/** A header field the message may have once, found more often than a signature signs it. */
export interface UnsignedInstances {
  name: string;
  /** How many times the message has it. */
  count: number;
  /** How many of those the signature signs (the bottom-most). */
  signed: number;
}

/**
 * The header fields a message may have at most once that it has more often than the signature signs
 * them: mailauth, as RFC 6376 §5.4.2 says, verifies the bottom-most instances, and a reader
 * (mailparser among them) takes the top-most, so one at least was written apart from the signature,
 * and what is read may not be what was signed. A signature that lists a field as many times as it
 * occurs, or more (over-signing), covers every instance.
 */
export function unsignedInstances(repeated: readonly { name: string; count: number }[], signedHeaders: readonly string[]): UnsignedInstances[] {
  return repeated.flatMap((r) => {
    const signed = signedHeaders.filter((h) => h.toLowerCase() === r.name).length;
    return r.count > signed ? [{ name: r.name, count: r.count, signed }] : [];
  });
}

/** A header field's name as people write it: "content-type" → "Content-Type", "message-id" → "Message-ID". */
const fieldName = (h: string): string => h.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()).replace(/-Id$/, '-ID').replace(/^Mime-/, 'MIME-');

/**
 * Why a signature that passes proves nothing of the message it is on, by how it was made or by what
 * it leaves out (the words after "passes, but"); null when it proves the message. Read alike for
 * which copy of a message is the signed one (signedAs), and by judge/ for the signature and for a
 * receiving server's pass for it (which checked the same signature). Whether it signs From, and
 * when it was made, judge/ asks apart.
 */
export function signatureFlaw(
  s: Pick<DkimSignatureFact, 'algorithm' | 'signedHeaders' | 'unsignedTailHasContent' | 'bodyLengthLimit' | 'unsignedBytes'>,
  message: { repeatedHeaders: readonly { name: string; count: number }[]; bodyNotAsDeclared: string | null },
): string | null {
  if (forbiddenAlgorithm(s.algorithm)) return 'is made with rsa-sha1, which RFC 8301 §3.1 forbids a verifier to accept (SHA-1 collisions can be made): it proves nothing of the sender';
  // What of the message it does not vouch for: a header the message may have once, written apart
  // from the signature; a body that is not what an unsigned Content-Type declares (replaced after
  // signing, it shows a reader another part of the body).
  const extra = unsignedInstances(message.repeatedHeaders, s.signedHeaders);
  if (extra.length > 0) {
    const which = extra.map((x) => `${x.count} ${fieldName(x.name)} headers, of which it signs ${x.signed === 0 ? 'none' : x.signed}`).join(', and ');
    return `the message has ${which}: a reader takes the top-most, which may have been written after signing`;
  }
  if (message.bodyNotAsDeclared !== null && !s.signedHeaders.some((h) => h.toLowerCase() === 'content-type')) {
    return `it does not sign the Content-Type header, and ${message.bodyNotAsDeclared}: the header may have been replaced after signing, to show a reader another part of the body`;
  }
  if (s.unsignedTailHasContent) return `l=${s.bodyLengthLimit} leaves ${s.unsignedBytes} bytes of the body unsigned, and they hold content`;
  return null;
}

/** Whether a signature signs the From header (RFC 6376 §6.1.1: one that does not proves nothing of the sender). */
export const signsFrom = (s: { signedHeaders: readonly string[] }): boolean => s.signedHeaders.some((h) => h.toLowerCase() === 'from');

/** A signature that nobody checked, for want of its key: it might be good, so it decides nothing yet. */
export const keyNotLookedUp = (s: { result: string; reason: string | null }): boolean => s.result === 'neutral' && s.reason === KEY_NOT_LOOKED_UP;

export interface DkimSignatureFact {
  domain: string;
  selector: string;
  algorithm: string | null;
  canonicalization: string | null;
  /** mailauth's result: pass, fail, neutral (body hash, no key, expired…), temperror, policy (weak key), none. */
  result: string;
  reason: string | null;
  keySource: KeySource | null;
  signedHeaders: string[];
  bodyLengthLimit: number | null;
  /** Canonical body bytes after the l= limit, which the signature does not cover. */
  unsignedBytes: number;
  /** Whether those unsigned bytes hold anything but white space and MIME boundaries. */
  unsignedTailHasContent: boolean;
  signTime: string | null;
  expiresAfter: string | null;
  /** SHA-256 (hex) of the signature itself (the b= value): the same for every copy of the signed message; null when it has none. */
  signatureId: string | null;
}

interface MailauthResult {
  signingDomain?: string;
  selector?: string;
  algo?: string;
  format?: string;
  status?: { result?: string; comment?: string; underSized?: number };
  signingHeaders?: { keys?: string };
  canonBodyLength?: number;
  canonBodyLengthLimited?: boolean;
  canonBodyLengthLimit?: number;
  signTime?: string | null;
  expiresAfter?: string | null;
  signature?: string;
}

/** The body as CRLF text from a canonical offset on: where an l= signature stops covering it. */
function unsignedTail(bytes: Buffer, canonicalOffset: number): string {
  const at = bodyOffset(bytes);
  if (at < 0) return '';
  const body = bytes.subarray(at).toString('latin1').replace(/\r?\n/g, '\r\n');
  // Relaxed canonicalisation only ever shortens text, so this tail starts at or before the true one:
  // it may include signed bytes, never leave unsigned ones out.
  return body.slice(Math.max(0, canonicalOffset));
}

export async function verifyDkim(bytes: Buffer, at: Date, lookup: TxtLookup): Promise<DkimSignatureFact[]> {
  const sources = new Map<string, KeySource>();
  const notLookedUp = new Set<string>();
  // A lookup that throws (a DNS failure) is passed on: mailauth reports it as temperror.
  const resolver = async (name: string, type: string): Promise<string[][]> => {
    const key = name.toLowerCase().replace(/\.$/, '');
    const found = type === 'TXT' ? await lookup(key) : null;
    if (found === 'not-looked-up') notLookedUp.add(key);
    if (!found || found === 'not-looked-up' || found.records.length === 0) {
      throw Object.assign(new Error(`no ${type} record for ${key}`), { code: 'ENOTFOUND' });
    }
    sources.set(key, found.source);
    return found.records;
  };
  // mailauth logs to the console when l= exceeds the body; nothing may write to the report's stream.
  const log = console.log;
  let verdict;
  try {
    console.log = () => undefined;
    verdict = await dkimVerify(bytes, { resolver, curTime: at, minBitLength: 1024 });
  } finally {
    console.log = log;
  }
  const out: DkimSignatureFact[] = [];
  for (const r of verdict.results as unknown as MailauthResult[]) {
    if (!r.signingDomain) continue; // mailauth's placeholder when there is no signature
    const underSized = typeof r.status?.underSized === 'number' ? r.status.underSized : 0;
    const tail = underSized > 0 ? unsignedTail(bytes, r.canonBodyLength ?? 0) : '';
    const tailHasContent = tail.split('\r\n').some((line) => line.trim() !== '' && !/^--\S+$/.test(line.trim()));
    const selector = r.selector ?? '';
    const keyName = `${selector}._domainkey.${r.signingDomain}`.toLowerCase();
    const result = r.status?.result ?? 'none';
    const reason = r.status?.comment ?? null;
    out.push({
      domain: r.signingDomain.toLowerCase(),
      selector,
      algorithm: r.algo ?? null,
      canonicalization: r.format ?? null,
      result,
      reason: result === 'neutral' && reason === 'no key' && notLookedUp.has(keyName) ? KEY_NOT_LOOKED_UP : reason,
      keySource: sources.get(keyName) ?? null,
      signedHeaders: (r.signingHeaders?.keys ?? '').split(/\s*:\s*/).filter((h) => h.length > 0),
      bodyLengthLimit: r.canonBodyLengthLimited ? (r.canonBodyLengthLimit ?? null) : null,
      unsignedBytes: underSized,
      unsignedTailHasContent: underSized > 0 && tailHasContent,
      signTime: r.signTime ?? null,
      expiresAfter: r.expiresAfter ?? null,
      signatureId: typeof r.signature === 'string' && r.signature.trim() !== '' ? hash('sha256', Buffer.from(r.signature.replace(/\s+/g, ''), 'base64')) : null,
    });
  }
  return out;
}
