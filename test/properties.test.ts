/**
 * Properties of the count over generated mailboxes (fast-check, seeded): the bundled example's real,
 * DKIM-signed mail plus forgeries of every kind the threat model names (SECURITY.md), in any order,
 * split across any number of exports, with copies. Messages are read once and cached by their bytes;
 * each run judges and counts in-process, so a property costs milliseconds.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { countMessages, keyLookup, loadInputs, readMailbox, type LoadedInputs } from '../src/cli/pipeline.js';
import type { ResultModel } from '../src/model/result.js';
import { canonicalJson, canonicalJsonOfData } from '../src/model/canonical.js';
import { DEFAULT_READ_LIMITS, readMessage, type MessageFacts } from '../src/read/message.js';
import { DEFAULT_LIMITS, type Provenance } from '../src/sources/types.js';
import { walkSources } from '../src/sources/walk.js';
import { ADJUDICATIONS, ELECTION, EXAMPLE, ISSUED, KEYS, MAILBOX, ROSTER, paperText } from './helpers.js';

const LIMITS = { ...DEFAULT_LIMITS, ...DEFAULT_READ_LIMITS };
const SEED = 20240201;
type Entry = { source: Provenance; facts: MessageFacts };

let inputs: LoadedInputs;
let base: Entry[];
/** The bytes of each of the mailbox's messages, by SHA-256 (for replays of them). */
const rawBySha = new Map<string, Buffer>();
const factsCache = new Map<string, MessageFacts>();

beforeAll(async () => {
  inputs = await loadInputs({ election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED, adjudications: ADJUDICATIONS });
  base = (await readMailbox([MAILBOX], inputs.election, LIMITS, keyLookup(inputs.keys, undefined))).entries;
  for await (const m of walkSources([MAILBOX], DEFAULT_LIMITS).messages) rawBySha.set(m.sha256, m.bytes);
});

async function readBytes(bytes: Buffer): Promise<MessageFacts> {
  const sha = createHash('sha256').update(bytes).digest('hex');
  const hit = factsCache.get(sha);
  if (hit) return hit;
  const facts = await readMessage(
    { source: { file: 'forged.eml', kind: 'eml', index: null, line: null }, bytes, size: bytes.length, sha256: sha, oversize: false },
    { receivedBy: inputs.election.receivedBy, limits: LIMITS, dkim: { lookup: keyLookup(inputs.keys, undefined) }, trustedAuthservIds: inputs.election.receivedBy ?? [] },
  );
  factsCache.set(sha, facts);
  return facts;
}

const count = (entries: readonly Entry[], withDecisions = true): ResultModel =>
  countMessages(entries, [], withDecisions ? inputs : { ...inputs, adjudicationRows: [], adjudicationFile: null }, LIMITS, 'test');

/** What anyone on the internet can send to the ballot address in a council's name. */
const FORGERY_KINDS = [
  'unsigned', // the council's From address, no signature
  'forged-dkim', // a DKIM-Signature header for the council's domain that cannot verify
  'forged-auth-results', // an Authentication-Results "dkim=pass" written by the sender, below the server's Received
  'forged-received', // a Received "by mx.ccin.example" written by the sender, lower down, claiming an earlier time
  'two-from', // the council's From header and the forger's
  'two-addresses', // one From header, two addresses
  'display-name', // the council's address as the display name of the forger's
  'sender-header', // Sender: the council's address, From: the forger's
  'reply-to', // Reply-To: the council's address
  'lookalike', // a Cyrillic look-alike of the council's domain
  'kelvin', // the council's domain with a Kelvin sign (U+212A), which toLowerCase folds to "k"
  'padded', // the council's paper with extra candidate-shaped lines
  'encoded-address', // the council's address inside an RFC 2047 encoded word, which mail servers and DMARC do not read as an address
  'past-signed', // a paper the council itself signed before this election opened (a past election's), sent again now
  'malformed-from', // the council's address in a From header parsers read differently: "<addr>@attacker", a source route, a second address inside the brackets
  'stamp-over-forged-received', // an Authentication-Results "dkim=pass" written by the sender above a Received "by mx.ccin.example" written by the sender too
  'content-type-replaced', // a council's signed message (Content-Type unsigned, as Gmail signs) with an earlier paper attached, its Content-Type replaced or a second one added above, naming the attachment's boundary
] as const;

/** The kinds that write the council's own address, alone, in the one From header. */
const SENDS_AS_COUNCIL = new Set<string>(['unsigned', 'forged-dkim', 'forged-auth-results', 'forged-received', 'stamp-over-forged-received', 'padded', 'past-signed', 'content-type-replaced']);

interface Forgery {
  council: number;
  choice: 'willoughby' | 'williams' | 'alty';
  minutes: number;
  kind: (typeof FORGERY_KINDS)[number];
  n: number;
}

const forgeryArb: fc.Arbitrary<Forgery> = fc.record({
  council: fc.nat({ max: 10_000 }),
  choice: fc.constantFrom('willoughby' as const, 'williams' as const, 'alty' as const),
  minutes: fc.integer({ min: 1, max: 14 * 24 * 60 - 1 }),
  kind: fc.constantFrom(...FORGERY_KINDS),
  n: fc.nat({ max: 1_000_000 }),
});

function rfc2822(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

/**
 * The message signed with the council's own key (the example's test keys), as of `at`: what a
 * council's mail server sent. mailauth's signer reads headerList as a colon-separated string.
 */
async function signedByCouncil(message: string, domain: string, at: Date): Promise<string> {
  const keyFile = join(EXAMPLE, 'dkim-keys', domain, 'ccin2024.private');
  if (!existsSync(keyFile)) return message;
  const options = { canonicalization: 'relaxed/relaxed', signTime: at, headerList: 'From:To:Subject:Date:Message-ID', signatureData: [{ signingDomain: domain, selector: 'ccin2024', privateKey: readFileSync(keyFile) }] };
  return (await dkimSign(message, options as unknown as Parameters<typeof dkimSign>[1])).signatures + message;
}

/** A forged message as it reaches the ballot mailbox: the real server's Received header on top. */
async function forgedBytes(f: Forgery): Promise<{ bytes: Buffer; council: string }> {
  const council = inputs.roster.councils.filter((c) => c.membership === 'Full')[f.council % 43]!;
  const domain = council.domains[0] ?? council.emails[0]!.split('@')[1]!;
  const addr = council.emails[0] ?? `leader@${domain}`;
  const opens = inputs.election.opens ?? new Date('2024-01-18T09:00:00Z');
  const at = new Date(opens.getTime() + f.minutes * 60_000);
  const headers: string[] = [`Received: from mail.attacker.example by mx.ccin.example (Postfix); ${rfc2822(at)}`];
  let from = `Leader <${addr}>`;
  if (f.kind === 'forged-dkim') headers.push(`DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${domain}; s=ccin2024; h=from:subject:date; bh=AAAA; b=AAAA`);
  if (f.kind === 'forged-auth-results') headers.push(`Authentication-Results: mx.ccin.example; dkim=pass header.d=${domain} header.s=ccin2024`);
  if (f.kind === 'forged-received') headers.push(`Received: from localhost by mx.ccin.example (Postfix); ${rfc2822(new Date(at.getTime() - 86_400_000))}`);
  if (f.kind === 'stamp-over-forged-received') {
    headers.push(`Authentication-Results: mx.ccin.example; dkim=pass header.d=${domain} header.s=ccin2024`, `Received: from localhost by mx.ccin.example (Postfix); ${rfc2822(at)}`);
  }
  if (f.kind === 'two-from') headers.push(`From: Someone <someone${f.n}@attacker.example>`);
  if (f.kind === 'two-addresses') from = `${addr}, someone${f.n}@attacker.example`;
  if (f.kind === 'display-name') from = `"${addr}" <someone${f.n}@attacker.example>`;
  if (f.kind === 'sender-header' || f.kind === 'reply-to') {
    from = `Someone <someone${f.n}@attacker.example>`;
    headers.push(`${f.kind === 'sender-header' ? 'Sender' : 'Reply-To'}: ${addr}`);
  }
  if (f.kind === 'lookalike') from = `Leader <${addr.replace(/o/, 'о').replace(/e(?=[^@]*$)/, 'е')}>`;
  if (f.kind === 'kelvin') from = `Leader <${addr.replace(/@/, '@\u212A')}>`;
  if (f.kind === 'encoded-address') from = `Leader <=?utf-8?q?${addr.replace('@', '=40')}?=>`;
  if (f.kind === 'malformed-from') from = [`<${addr}>@attacker.example`, `Leader <@attacker.example:${addr}>`, `Leader <${addr} someone${f.n}@attacker.example>`][f.n % 3]!;
  let body = paperText({ [f.choice]: 'X' }, { council: council.name, name: council.leader ?? council.mayor ?? '', position: council.leader ? 'Leader' : 'Mayor' });
  if (f.kind === 'padded') body = body.replace('[ ] ', `[ ] Cllr Person ${f.n % 97}\n[ ] `);
  // A paper the council signed a year or so before this election opened.
  const written = f.kind === 'past-signed' ? new Date(opens.getTime() - (2 + (f.n % 400)) * 86_400_000) : at;
  // The council's message with its earlier paper attached (a multipart of its own): a covering note
  // on top, the paper only inside the attachment.
  const inner = `inner-${f.n}`;
  const outer = `outer-${f.n}`;
  const attached = [`From: ${from}`, 'Subject: CCIN ballot', 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${inner}"`, '', `--${inner}`, 'Content-Type: text/plain; charset=utf-8', '', body, `--${inner}--`].join('\r\n');
  const content =
    f.kind === 'content-type-replaced'
      ? [`Content-Type: multipart/mixed; boundary="${outer}"`, '', `--${outer}`, 'Content-Type: text/plain; charset=utf-8', '', 'Our earlier paper is attached for your records.', `--${outer}`, 'Content-Type: message/rfc822', '', attached, `--${outer}--`, ''].join('\r\n')
      : ['Content-Type: text/plain; charset=utf-8', '', body].join('\r\n');
  const message = [`From: ${from}`, 'To: ballots@ccin.example', `Subject: Ballot ${f.n}`, `Date: ${rfc2822(written)}`, `Message-ID: <forged-${f.n}-${f.kind}@attacker.example>`, 'MIME-Version: 1.0', content].join('\r\n');
  let sent = f.kind === 'past-signed' || f.kind === 'content-type-replaced' ? await signedByCouncil(message, domain, written) : message;
  if (f.kind === 'content-type-replaced') {
    // The signature leaves Content-Type unsigned: replaced, or a second one written above it.
    if (f.n % 2 === 0) sent = sent.replace(`boundary="${outer}"`, `boundary="${inner}"`);
    else headers.push(`Content-Type: multipart/mixed; boundary="${inner}"`);
  }
  return { bytes: Buffer.from([...headers, sent].join('\r\n'), 'utf8'), council: council.id };
}

async function forgedEntries(list: readonly Forgery[]): Promise<{ entries: Entry[]; councils: string[] }> {
  const entries: Entry[] = [];
  const councils: string[] = [];
  for (const [i, f] of list.entries()) {
    const { bytes, council } = await forgedBytes(f);
    entries.push({ source: { file: `forged/${String(i).padStart(4, '0')}.eml`, kind: 'eml', index: null, line: null }, facts: await readBytes(bytes) });
    councils.push(council);
  }
  return { entries, councils };
}

/** Each message's outcome, as a sorted list, independent of where it was read from. */
const outcomes = (r: ResultModel): string[] => r.messages.map((m) => `${m.sha256} ${m.disposition} ${m.reason ?? '-'} ${m.choices.join('+')}`).sort();
const countedByCouncil = (r: ResultModel): Map<string, string> => new Map(r.messages.filter((m) => m.disposition === 'counted').map((m) => [m.council ?? '?', m.choices.join('+')]));

/** Councils whose counted paper is authenticated (by signature, trusted stamp or the officer's decision). */
function authenticatedCouncils(r: ResultModel): Set<string> {
  return new Set(
    r.messages.filter((m) => m.disposition === 'counted' && (m.evidence.authentication.authenticated || m.adjudication?.decision === 'count')).map((m) => m.council ?? '?'),
  );
}

/** Councils whose mail is proved signed: any authenticated message of theirs, ballot or not. */
function provedCouncils(r: ResultModel): Set<string> {
  return new Set(r.messages.filter((m) => m.council && m.disposition !== 'duplicate-copy' && m.evidence.authentication.authenticated).map((m) => m.council!));
}

const RUNS = { seed: SEED, numRuns: 40 };

describe('properties of the count over generated mailboxes', () => {
  it('conservation: every message read has exactly one disposition, and they add up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray([...Array(68).keys()]), fc.array(forgeryArb, { maxLength: 12 }), async (pick, forgeries) => {
        const { entries } = await forgedEntries(forgeries);
        const all = [...pick.map((i) => base[i]!).filter(Boolean), ...entries];
        // Any subset of the mailbox: the officer's decisions name messages that may not be in it.
        const r = count(all, false);
        expect(r.messages).toHaveLength(all.length);
        expect(r.summary.read).toBe(all.length);
        expect(Object.values(r.summary.dispositions).reduce((a, b) => a + b, 0)).toBe(all.length);
        expect(r.tally.reduce((a, t) => a + t.votes, 0)).toBe(r.messages.filter((m) => m.disposition === 'counted').reduce((a, m) => a + m.choices.length, 0));
      }),
      RUNS,
    );
  });

  it('independence: the outcome does not depend on input order or on how the mailbox is split across exports', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(forgeryArb, { maxLength: 8 }), fc.infiniteStream(fc.nat({ max: 4 })), fc.nat(), async (forgeries, split, rotate) => {
        const { entries } = await forgedEntries(forgeries);
        const all = [...base, ...entries];
        const reference = count(all);
        // The same messages, re-filed into up to five exports in another order.
        const it = split[Symbol.iterator]();
        const shuffled = all.map((e, i) => ({ e, k: (i * 7919 + rotate) % all.length }));
        shuffled.sort((a, b) => a.k - b.k);
        const refiled = shuffled.map(({ e }, i) => ({ ...e, source: { ...e.source, file: `export-${it.next().value as number}/${String(i).padStart(5, '0')}.eml`, index: null } }));
        const other = count(refiled);
        expect(outcomes(other)).toEqual(outcomes(reference));
        expect(other.tally).toEqual(reference.tally);
        expect(other.final).toBe(reference.final);
      }),
      RUNS,
    );
  });

  it('idempotence: copies of messages met in other exports change nothing but add duplicate-copy rows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(forgeryArb, { maxLength: 6 }), fc.array(fc.nat({ max: 10_000 }), { minLength: 1, maxLength: 20 }), async (forgeries, copies) => {
        const { entries } = await forgedEntries(forgeries);
        const all = [...base, ...entries];
        const once = count(all);
        const copied = copies.map((n, i) => ({ ...all[n % all.length]!, source: { file: `zz-copy/${i}.eml`, kind: 'eml' as const, index: null, line: null } }));
        const twice = count([...all, ...copied]);
        expect(twice.tally).toEqual(once.tally);
        expect(twice.final).toBe(once.final);
        expect(countedByCouncil(twice)).toEqual(countedByCouncil(once));
        expect(twice.summary.dispositions['duplicate-copy']).toBe(once.summary.dispositions['duplicate-copy'] + copied.length);
      }),
      RUNS,
    );
  });

  it('integrity: no number of unauthenticated messages changes the vote of a council that proved itself, and none of them is counted for it', async () => {
    const clean = count(base);
    expect(clean.final).toBe(true);
    const proved = authenticatedCouncils(clean);
    const provedAny = provedCouncils(clean);
    const before = countedByCouncil(clean);
    await fc.assert(
      fc.asyncProperty(fc.array(forgeryArb, { minLength: 1, maxLength: 25 }), async (forgeries) => {
        const { entries } = await forgedEntries(forgeries);
        const r = count([...base, ...entries]);
        const after = countedByCouncil(r);
        for (const c of proved) expect({ c, vote: after.get(c) }).toEqual({ c, vote: before.get(c) });
        // A council that proved itself on any ballot is never given a vote by a forgery: it goes to the officer.
        const forgedShas = new Set(entries.map((e) => e.facts.sha256));
        // A message that does not carry exactly the council's own address in its one From header is nobody's.
        const notTheirs = new Set(entries.filter((_, i) => !SENDS_AS_COUNCIL.has(forgeries[i]!.kind)).map((e) => e.facts.sha256));
        for (const m of r.messages.filter((x) => notTheirs.has(x.sha256))) expect({ kind: m.messageId, council: m.council }).toEqual({ kind: m.messageId, council: null });
        for (const m of r.messages.filter((x) => forgedShas.has(x.sha256))) {
          // The example pins a DKIM key for every council's domain: every council signs, so no forgery counts.
          expect({ id: m.messageId, counted: m.disposition === 'counted' }).toEqual({ id: m.messageId, counted: false });
          if (m.disposition === 'counted') expect(provedAny.has(m.council ?? '')).toBe(false);
          if (m.council !== null) expect(m.evidence.authentication.authenticated).toBe(false);
        }
        // Anything that would have changed such a vote leaves the result provisional.
        const changes = r.messages.filter((m) => m.disposition === 'needs-adjudication' && m.reason === 'unauthenticated-change');
        if (changes.length > 0) expect(r.final).toBe(false);
      }),
      RUNS,
    );
  });

  it('replays: any of the mailbox’s messages delivered again, later, from anyone, changes nothing but adds duplicate-copy rows', async () => {
    const once = count(base);
    const replayable = base.filter((e) => e.facts.receivedAt !== null && e.source.kind !== 'msg');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ n: fc.nat({ max: 10_000 }), minutes: fc.integer({ min: 1, max: 21 * 24 * 60 }) }), { minLength: 1, maxLength: 10 }), async (replays) => {
        const entries: Entry[] = [];
        for (const [i, { n, minutes }] of replays.entries()) {
          const original = replayable[n % replayable.length]!;
          const at = new Date(Date.parse(original.facts.receivedAt!) + minutes * 60_000).toUTCString().replace('GMT', '+0000');
          const bytes = Buffer.concat([Buffer.from(`Received: from mail.attacker.example by mx.ccin.example (Postfix) with ESMTPS id R${i}; ${at}\r\n`), rawBySha.get(original.facts.sha256)!]);
          // In an export that sorts before the mailbox, so that no rule of source order hides the replay.
          entries.push({ source: { file: `aaa-replay/${i}.eml`, kind: 'eml', index: null, line: null }, facts: await readBytes(bytes) });
        }
        const replayed = count([...entries, ...base]);
        expect(replayed.tally).toEqual(once.tally);
        expect(replayed.final).toBe(once.final);
        expect(countedByCouncil(replayed)).toEqual(countedByCouncil(once));
        expect(replayed.summary.dispositions['duplicate-copy']).toBe(once.summary.dispositions['duplicate-copy'] + entries.length);
        // Each message of the mailbox as it was (by where it was read: two exports may hold the same bytes).
        const where = (m: ResultModel['messages'][number]): string => `${m.source.file}#${m.source.index ?? ''}`;
        const was = (m: ResultModel['messages'][number]): string => `${m.sha256} ${m.disposition} ${m.reason ?? '-'} ${m.receivedAt ?? '-'} ${m.choices.join('+')}`;
        const before = new Map(once.messages.map((m) => [where(m), was(m)]));
        for (const m of replayed.messages.filter((x) => before.has(where(x)))) expect(was(m)).toBe(before.get(where(m)));
      }),
      RUNS,
    );
  });

  it('a forged copy stripped of its signature never stands in for the signed message', async () => {
    const signed = base.find((e) => e.facts.messageId === '<ccin-2024-002@westminster.gov.uk>')!;
    const stripped: Entry = { source: { file: 'aaa-first/0.eml', kind: 'eml', index: null, line: null }, facts: { ...signed.facts, sha256: 'f'.repeat(64), dkim: [], signedAs: null } };
    const r = count([stripped, ...base]);
    expect(r.messages.find((m) => m.sha256 === 'f'.repeat(64))?.disposition).toBe('duplicate-copy');
    expect(r.messages.find((m) => m.sha256 === signed.facts.sha256)).toMatchObject({ disposition: 'counted', choices: ['williams'] });
  });
});

describe('canonical JSON of plain data, the fast way', () => {
  it('is canonicalJson, byte for byte, for any JSON value (index-like keys, unicode, -0 and all)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJsonOfData(v)).toBe(canonicalJson(v));
      }),
      { seed: 21, numRuns: 2000 },
    );
    expect(canonicalJsonOfData({ b: 1, a: { '10': 1, '9': 2, z: [{ y: 1, x: 2 }] } })).toBe(canonicalJson({ b: 1, a: { '10': 1, '9': 2, z: [{ y: 1, x: 2 }] } }));
    // A key "__proto__" (as JSON.parse makes one from text a message holds) stays a key.
    const proto = JSON.parse('{"z":1,"__proto__":{"b":[{"d":1,"c":2}],"a":null},"a":"x"}') as unknown;
    expect(canonicalJsonOfData(proto)).toBe('{"__proto__":{"a":null,"b":[{"c":2,"d":1}]},"a":"x","z":1}');
    expect(canonicalJson(proto)).toBe(canonicalJsonOfData(proto));
  });
});
