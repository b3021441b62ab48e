import { createHmac } from 'node:crypto';

/** Crockford's base32: no I, L, O or U, so a reference read aloud or retyped stays unambiguous. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The ballot reference issued to a council: the election id, then 8 characters (40 bits) of
 * HMAC-SHA256 keyed with the officer's secret over the election and council ids. Unguessable
 * without the secret; the same secret always gives the same references.
 */
export function ballotReference(secret: Buffer, electionId: string, councilId: string): string {
  const mac = createHmac('sha256', secret).update(`ccin-tally reference\n${electionId}\n${councilId}`, 'utf8').digest();
  let bits = 0n;
  for (const b of mac.subarray(0, 5)) bits = (bits << 8n) | BigInt(b);
  let code = '';
  for (let i = 7; i >= 0; i--) code += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return `${electionId.toUpperCase()}-${code}`;
}

/** A reference as written on a returned paper, compared without case, spaces or look-alike letters. */
export function normaliseReference(s: string): string {
  return s
    .toUpperCase()
    .replace(/[\s\u00A0]+/g, '')
    .replace(/[‐‑‒–—]/g, '-');
}
