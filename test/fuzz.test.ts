import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyLookup } from '../src/cli/pipeline.js';
import { sha256Hex } from '../src/inputs/files.js';
import { parseElection } from '../src/inputs/election.js';
import { parseKeysFile } from '../src/inputs/keys.js';
import { parseRoster } from '../src/inputs/roster.js';
import { judgeMessage } from '../src/judge/judge.js';
import { DEFAULT_READ_LIMITS, readMessage } from '../src/read/message.js';
import type { RawMessage } from '../src/sources/types.js';
import { ELECTION, KEYS, ROOT, ROSTER } from './helpers.js';

/** A small deterministic PRNG (mulberry32), so every run mutates the same way. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const load = (p: string) => ({ name: p, path: p, bytes: readFileSync(p), sha256: '' });
const election = parseElection(load(ELECTION));
const roster = parseRoster(load(ROSTER));
const lookup = keyLookup(parseKeysFile(load(KEYS)), undefined);
const MAILDIR = join(ROOT, 'fixtures', 'ccin-2024', 'mailbox', 'maildir', 'cur');
const FORMS = join(ROOT, 'fixtures', 'forms', 'messages');
const ALTERNATIVE = join(ROOT, 'fixtures', 'alternative');
const seeds = [
  ...readdirSync(MAILDIR).map((f) => join(MAILDIR, f)),
  ...readdirSync(FORMS).map((f) => join(FORMS, f)),
  ...readdirSync(ALTERNATIVE)
    .filter((f) => f.endsWith('.eml'))
    .map((f) => join(ALTERNATIVE, f)),
];

function mutate(bytes: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(bytes);
  switch (Math.floor(rnd() * 6)) {
    case 0: // truncate anywhere
      return b.subarray(0, Math.floor(rnd() * b.length));
    case 1: // flip bytes
      for (let i = 0; i < 20; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      return b;
    case 2: {
      // duplicate a slice (repeated boundaries, headers)
      const s = Math.floor(rnd() * b.length);
      return Buffer.concat([b, b.subarray(s, s + 2000), b.subarray(s)]);
    }
    case 3: // drop the blank line between header and body
      return Buffer.from(b.toString('latin1').replace('\r\n\r\n', '\r\n'), 'latin1');
    case 4: {
      // empty one MIME header's value, anywhere in the message (mailparser then gives a part no content type)
      const text = b.toString('latin1');
      const found = [...text.matchAll(/^(Content-(?:Type|Transfer-Encoding|Disposition)):[^\r\n]*/gim)];
      const at = found[Math.floor(rnd() * found.length)];
      return at?.index === undefined ? b : Buffer.from(text.slice(0, at.index) + `${at[1]}:` + text.slice(at.index + at[0].length), 'latin1');
    }
    default: // control characters and NULs sprinkled in
      for (let i = 0; i < 30; i++) b[Math.floor(rnd() * b.length)] = [0, 0x1b, 0x7f, 0x9b, 0x0d][i % 5] ?? 0;
      return b;
  }
}

describe('mutated messages (truncated, corrupted, repeated) never crash the reader or the judge', () => {
  it('400 mutations of the fixtures each become a disposition', async () => {
    const rnd = prng(20240201);
    const kinds = new Map<string, number>();
    for (let n = 0; n < 400; n++) {
      const source = seeds[Math.floor(rnd() * seeds.length)]!;
      const bytes = mutate(readFileSync(source), rnd);
      const raw: RawMessage = { source: { file: `fuzz-${n}`, kind: 'eml', index: null, line: null }, bytes, size: bytes.length, sha256: sha256Hex(bytes), oversize: false };
      const facts = await readMessage(raw, { receivedBy: election.receivedBy, limits: DEFAULT_READ_LIMITS, dkim: { lookup }, trustedAuthservIds: ['mx.ccin.example'] });
      const j = judgeMessage(facts, election, roster);
      kinds.set(j.verdict.kind, (kinds.get(j.verdict.kind) ?? 0) + 1);
    }
    expect([...kinds.values()].reduce((a, b) => a + b, 0)).toBe(400);
    // The mutations reach more than one outcome: they are not all rejected at the first check.
    expect(kinds.size).toBeGreaterThan(2);
  });
});
