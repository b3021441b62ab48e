import crypto, { type KeyObject } from 'node:crypto';

/**
 * mailauth makes a key object from the TXT record for every signature it checks, exports it to
 * PEM, and verifies with the PEM, which OpenSSL then parses again: about 300 µs a message with an
 * Ed25519 key, against 107 µs with a key object made once (RSA-2048: 150 µs against 21). It has no
 * hook for a key cache, so the reader gives node:crypto's `createPublicKey` and `verify` (which
 * mailauth looks up on the module each time it calls them) a memory of the public keys they have
 * made, and of what those were exported as: the same bytes in, the same key object out. A key
 * object cannot be changed, so sharing one changes no result; a key that cannot be read is never
 * remembered, and throws each time, as before. At most MAX_KEYS keys are remembered (a mailbox
 * naming endless keys has the rest made afresh). Installed once a thread, by read/dkim.ts.
 */
const MAX_KEYS = 10_000;

type KeyInput = Parameters<typeof crypto.createPublicKey>[0];

let installed = false;

export function installKeyCache(): void {
  if (installed) return;
  installed = true;
  const made = new Map<string, KeyObject>();
  const createPublicKey = crypto.createPublicKey;
  const verify = crypto.verify;
  const publicKey = (input: KeyInput): KeyObject => {
    const id = keyId(input);
    if (id === null) return createPublicKey(input);
    let key = made.get(id);
    if (key === undefined) {
      key = createPublicKey(input);
      if (made.size < MAX_KEYS) made.set(id, rememberExports(key));
    }
    return key;
  };
  crypto.createPublicKey = publicKey;
  crypto.verify = ((algorithm: Parameters<typeof verify>[0], data: Parameters<typeof verify>[1], key: Parameters<typeof verify>[2], signature: Parameters<typeof verify>[3], callback?: (error: Error | null, result: boolean) => void) => {
    // A key given as PEM text or bytes is the key object made from them.
    const k = typeof key === 'string' || Buffer.isBuffer(key) ? publicKey(key) : key;
    return callback === undefined ? verify(algorithm, data, k, signature) : verify(algorithm, data, k, signature, callback);
  }) as typeof verify;
}

/**
 * mailauth exports each key it makes to PEM (some 40 µs): a remembered key remembers its exports
 * too. Text is shared as it is (it cannot be changed); bytes are copied for each caller.
 */
function rememberExports(key: KeyObject): KeyObject {
  const exportKey = key.export.bind(key) as (options?: unknown) => string | Buffer | object;
  const exported = new Map<string, string | Buffer>();
  Object.defineProperty(key, 'export', {
    value: (options?: unknown): string | Buffer | object => {
      const id = JSON.stringify(options ?? null);
      const known = exported.get(id);
      if (known !== undefined) return typeof known === 'string' ? known : Buffer.from(known);
      const out = exportKey(options);
      if (typeof out === 'string') exported.set(id, out);
      else if (Buffer.isBuffer(out)) exported.set(id, Buffer.from(out));
      return out;
    },
  });
  return key;
}

/** What identifies a key input exactly (its text or bytes, format and type); null for any other form, which is passed on unremembered. */
function keyId(input: KeyInput): string | null {
  if (typeof input === 'string') return `pem::${input}`;
  if (Buffer.isBuffer(input)) return `pem::b:${input.toString('base64')}`;
  if (typeof input !== 'object' || input === null || input instanceof crypto.KeyObject) return null;
  const o = input as unknown as Record<string, unknown>;
  if (Object.keys(o).some((k) => k !== 'key' && k !== 'format' && k !== 'type')) return null;
  const format = o.format ?? 'pem';
  const type = o.type ?? '';
  if (typeof format !== 'string' || typeof type !== 'string') return null;
  if (typeof o.key === 'string') return `${format}:${type}:${o.key}`;
  if (Buffer.isBuffer(o.key)) return `${format}:${type}:b:${o.key.toString('base64')}`;
  return null;
}
