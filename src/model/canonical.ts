import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level and no white space: the bytes the digest is taken of. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** "sha256:<hex>" of the canonical JSON of the result without its digest field. */
export function resultDigest(result: Record<string, unknown>): string {
  const { digest: _ignored, ...rest } = result;
  return 'sha256:' + createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}
