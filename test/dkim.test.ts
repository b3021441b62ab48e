import cryptoModule, { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyLookup } from '../src/cli/pipeline.js';
import { parseElection, type Election } from '../src/inputs/election.js';
import { sha256Hex, type LoadedFile } from '../src/inputs/files.js';
import { parseKeysFile, renderKeysFile } from '../src/inputs/keys.js';
import { parseRoster } from '../src/inputs/roster.js';
import { judgeMessage } from '../src/judge/judge.js';
import { InputError } from '../src/model/errors.js';
import { parseAuthenticationResults } from '../src/read/auth-results.js';
import { bodyOffset } from '../src/read/body-offset.js';
import { unsignedInstances, verifyDkim } from '../src/read/dkim.js';
import { installKeyCache } from '../src/read/key-cache.js';
import { bodyNotAsDeclared, DEFAULT_READ_LIMITS, MAX_DKIM_SIGNATURES, readForOfficer, readMessage } from '../src/read/message.js';
import type { RawMessage } from '../src/sources/types.js';
import { walkSources } from '../src/sources/walk.js';
import { ELECTION, ROOT, ROSTER, run, tempDir } from './helpers.js';

const DIR = join(ROOT, 'fixtures', 'dkim');
const file = (path: string, bytes?: Buffer): LoadedFile => {
  const b = bytes ?? readFileSync(path);
  return { name: path, path, bytes: b, sha256: sha256Hex(b) };
};
const KEYS = parseKeysFile(file(join(DIR, 'keys.zone')));
const roster = parseRoster(file(ROSTER));
const electionWith = (dkim: 'require' | 'prefer' | 'off'): Election => ({ ...parseElection(file(ELECTION)), dkim });

async function rawMessages(path: string): Promise<RawMessage[]> {
  const w = walkSources([path], { maxMessageBytes: 1 << 20 });
  const out: RawMessage[] = [];
  for await (const m of w.messages) out.push(m);
  return out;
}

/** A fixture read and judged; `edit` changes its bytes first (a header added, one taken out). */
async function judge(name: string, dkim: 'require' | 'prefer' | 'off' = 'require', edit: (bytes: Buffer) => Buffer = (b) => b) {
  const [raw] = await rawMessages(join(DIR, 'messages', name));
  const election = electionWith(dkim);
  const facts = await readMessage({ ...raw!, bytes: edit(raw!.bytes) }, {
    receivedBy: election.receivedBy,
    limits: DEFAULT_READ_LIMITS,
    dkim: dkim === 'off' ? null : { lookup: keyLookup(KEYS, undefined) },
    trustedAuthservIds: ['mx.ccin.example'],
  });
  return { facts, judgement: judgeMessage(facts, election, roster) };
}

describe('the keys file', () => {
  it('reads opendkim-genkey output pasted under $ORIGIN, absolute names and multi-string values', () => {
    expect([...KEYS.keys()].sort()).toEqual([
      'brisbane._domainkey.football.example.com',
      'ccin2024._domainkey.north-herts.gov.uk',
      'revoked._domainkey.north-herts.gov.uk',
      'selector1._domainkey.northherts.onmicrosoft.com',
      'test._domainkey.football.example.com',
    ]);
    const rec = KEYS.get('ccin2024._domainkey.north-herts.gov.uk')?.[0]?.join('') ?? '';
    expect(rec).toMatch(/^v=DKIM1; h=sha256; k=rsa; p=MIIB[A-Za-z0-9+/=]+$/);
  });
  it('reads mailauth DNS-cache JSON', () => {
    const json = JSON.stringify({ 'a._domainkey.x.example.': { TXT: [['v=DKIM1; ', 'p=AB']] } });
    expect(parseKeysFile(file('k.json', Buffer.from(json))).get('a._domainkey.x.example')).toEqual([['v=DKIM1; ', 'p=AB']]);
  });
  it('errors name the line', () => {
    const bad = (text: string) => {
      try {
        parseKeysFile(file('keys.zone', Buffer.from(text)));
      } catch (e) {
        return e instanceof InputError ? e.message : String(e);
      }
      return 'no error';
    };
    expect(bad('; comment\nsel._domainkey IN TXT "v=DKIM1; p=AB"\n')).toMatch(/keys\.zone:2: .*relative name/);
    expect(bad('$ORIGIN x.example.\nsel._domainkey IN TXT ( "v=DKIM1;\n p=AB" )\n')).toMatch(/keys\.zone:2: a quoted string is not closed/);
    expect(bad('$ORIGIN x.example.\nsel._domainkey IN TXT ( "v=DKIM1;"\n')).toMatch(/keys\.zone:2: a "\(" is never closed/);
    expect(bad('$INCLUDE other.zone\n')).toMatch(/keys\.zone:1: \$INCLUDE is not supported/);
    expect(bad('$ORIGIN x.example.\nsel IN BOGUS "x"\n')).toMatch(/keys\.zone:2: "BOGUS" is not a record type/);
  });
  it('what --save-keys writes reads back the same', () => {
    const joined = (m: Map<string, string[][]>) => [...m].map(([k, v]) => [k, v.map((r) => r.join(''))]).sort();
    expect(joined(parseKeysFile(file('saved.zone', Buffer.from(renderKeysFile(KEYS)))))).toEqual(joined(KEYS));
    // A record DNS gave as the sender chose it (a key named in their own signature): a line break,
    // quotes, backslashes and other control characters neither break the file nor add a record.
    // So do names the signatures gave (s= and d= may hold "(", '"', "\\" or begin "$").
    const hostile = new Map<string, string[][]>([
      ['sel._domainkey.attacker.example', [['v=DKIM1; p=AA"\nccin2024._domainkey.north-herts.gov.uk. IN TXT "v=DKIM1; p=ATTACKER', 'b\\c\r\n\u0000\u007f\t']]],
      ['a(b._domainkey.attacker.example', [['v=DKIM1; p=EF']]],
      ['s"x\\y)._domainkey.attacker.example', [['v=DKIM1; p=AB']]],
      ['$origin._domainkey.attacker.example', [['v=DKIM1; p=GH']]],
      ['@._domainkey.attacker.example', [['v=DKIM1; p=CD']]],
    ]);
    expect(joined(parseKeysFile(file('saved.zone', Buffer.from(renderKeysFile(hostile)))))).toEqual(joined(hostile));
  });
});

describe('DKIM, verified at the receipt time with pinned keys', () => {
  it('a passing, aligned signature of a roster domain authenticates', async () => {
    const { judgement } = await judge('pass.eml');
    expect(judgement.verdict).toEqual({ kind: 'valid' });
    expect(judgement.auth).toMatchObject({ authenticated: true, decidedBy: 'signature' });
    expect(judgement.auth?.signatures[0]).toMatchObject({ domain: 'north-herts.gov.uk', selector: 'ccin2024', result: 'pass', keySource: 'pinned', aligned: true, councilDomain: true });
  });
  it.each([
    ['body-altered.eml', /body hash did not verify/],
    ['header-altered.eml', /bad signature/],
    ['key-missing.eml', /no key/],
    ['key-revoked.eml', /invalid public key/],
    ['expired-at-receipt.eml', /expired/],
    ['length-tail.eml', /l=\d+ leaves 54 bytes of the body unsigned/],
    ['unaligned-only.eml', /not the From domain/],
    // mailauth passes it (result "pass", tested below); RFC 6376 §6.1.1 says to ignore it.
    ['from-unsigned.eml', /passes, but does not sign the From header/],
    ['forged-authentication-results.eml', /no DKIM signature/],
  ])('%s is rejected unauthenticated under dkim: require', async (name, why) => {
    const { judgement } = await judge(name);
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'unauthenticated' });
    expect(judgement.findings.find((f) => f.code === 'unauthenticated')?.detail).toMatch(why);
  });
  it('a signature that leaves From out of h= verifies in mailauth, and authenticates nothing', async () => {
    const { facts, judgement } = await judge('from-unsigned.eml');
    expect(facts.dkim?.[0]).toMatchObject({ domain: 'north-herts.gov.uk', result: 'pass' });
    expect(facts.dkim?.[0]?.signedHeaders.map((h) => h.toLowerCase())).not.toContain('from');
    expect(judgement.auth?.authenticated).toBe(false);
  });
  it('a message is known by its signature (signedAs) only when a signature over From and the whole body passes', async () => {
    const signedAs = async (name: string) => (await judge(name)).facts.signedAs;
    expect(await signedAs('pass.eml')).toMatch(/^[0-9a-f]{64}$/);
    expect(await signedAs('length-no-tail.eml')).toMatch(/^[0-9a-f]{64}$/);
    // Text appended below an l= signature is not what the council signed; nor is a message whose From it does not sign.
    expect(await signedAs('length-tail.eml')).toBeNull();
    expect(await signedAs('from-unsigned.eml')).toBeNull();
    expect(await signedAs('body-altered.eml')).toBeNull();
    // Each signature its own: two messages, two identities; one message in two exports, one.
    expect(await signedAs('pass.eml')).not.toBe(await signedAs('length-no-tail.eml'));
    expect((await judge('pass.eml', 'prefer')).facts.signedAs).toBe(await signedAs('pass.eml'));
  });
  it('a signature made with rsa-sha1 verifies in mailauth, and authenticates nothing (RFC 8301), nor does the ballot server\'s pass for it', async () => {
    const { facts, judgement } = await judge('sha1.eml');
    expect(facts.dkim?.[0]).toMatchObject({ domain: 'north-herts.gov.uk', algorithm: 'rsa-sha1', result: 'pass' });
    expect(facts.signedAs).toBeNull();
    expect(judgement.auth?.authenticated).toBe(false);
    expect(judgement.auth?.signatures[0]?.why).toMatch(/rsa-sha1, which RFC 8301/);
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'unauthenticated' });
    // The server's stamp names the algorithm; and were it silent, the message's own signature shows it.
    const stamped = await judge('sha1-trusted.eml');
    expect(stamped.facts.authResults.filter((a) => a.trusted).flatMap((a) => a.dkim)).toEqual([{ result: 'pass', domain: 'north-herts.gov.uk', selector: 'ccin2024', algorithm: 'rsa-sha1' }]);
    expect(stamped.judgement.auth).toMatchObject({ authenticated: false, decidedBy: null });
    const silent = await judge('sha1-trusted.eml', 'require', (b) => Buffer.from(b.toString('latin1').replace(' header.a=rsa-sha1', ''), 'latin1'));
    expect(silent.facts.authResults.filter((a) => a.trusted).flatMap((a) => a.dkim)[0]?.algorithm).toBeNull();
    expect(silent.judgement.auth).toMatchObject({ authenticated: false, decidedBy: null });
    // The same server's pass for an rsa-sha256 signature still authenticates (regenerated-trusted.eml, below).
  });
  it('a header field the message may have once, found more often than the signature signs it, was written apart from the signature', () => {
    const repeated = [{ name: 'content-type', count: 2 }, { name: 'subject', count: 2 }];
    expect(unsignedInstances(repeated, ['From', 'Subject', 'Content-Type'])).toEqual([
      { name: 'content-type', count: 2, signed: 1 },
      { name: 'subject', count: 2, signed: 1 },
    ]);
    // Over-signed (listed as often as it occurs, or more): every instance is signed, and one more would break the signature.
    expect(unsignedInstances(repeated, ['From', 'Subject', 'Subject', 'Subject', 'Content-Type', 'content-type'])).toEqual([]);
    // Not signed at all: neither instance is vouched for.
    expect(unsignedInstances(repeated, ['From'])).toEqual([
      { name: 'content-type', count: 2, signed: 0 },
      { name: 'subject', count: 2, signed: 0 },
    ]);
    expect(unsignedInstances([], ['From', 'Content-Type'])).toEqual([]);
  });
  it('a body begins after the first empty line, whatever the line ends', () => {
    expect(bodyOffset(Buffer.from('A: b\r\nC: d\r\n\r\nbody'))).toBe(14);
    expect(bodyOffset(Buffer.from('A: b\nC: d\n\nbody'))).toBe(11);
    expect(bodyOffset(Buffer.from('A: b\nC: d\n\r\nbody'))).toBe(12);
    expect(bodyOffset(Buffer.from('A: b\r\nC: d\r\n'))).toBe(-1);
  });
  it('a body is what its Content-Type declares, as far as its outermost multipart shows', () => {
    const body = '--outer\r\nContent-Type: text/plain\r\n\r\nhi\r\n--outer\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\n\r\nx\r\n--inner--\r\n--outer--\r\n';
    const message = Buffer.from(`From: a@b.example\r\nContent-Type: x\r\n\r\n${body}`);
    const multipart = (boundary: string) => ({ value: 'multipart/mixed', params: { boundary } });
    expect(bodyNotAsDeclared(message, multipart('outer'))).toBeNull();
    expect(bodyNotAsDeclared(message, multipart('inner'))).toMatch(/outermost multipart boundary is "outer", but its Content-Type declares "inner"/);
    expect(bodyNotAsDeclared(message, { value: 'text/plain', params: {} })).toMatch(/the body is a multipart \(boundary "outer"\), but its Content-Type says text\/plain/);
    expect(bodyNotAsDeclared(message, undefined)).toMatch(/says text\/plain/);
    // LF line ends, trailing blank lines: the same.
    expect(bodyNotAsDeclared(Buffer.from(message.toString().replace(/\r\n/g, '\n') + '\n\n'), multipart('inner'))).toMatch(/"outer"/);
    // Nothing to tell: a text body, an epilogue after the close, a close with no opening line.
    expect(bodyNotAsDeclared(Buffer.from('Subject: x\r\n\r\nDear RO,\r\n-- \r\nLeader\r\n'), undefined)).toBeNull();
    expect(bodyNotAsDeclared(Buffer.from(`Subject: x\r\n\r\n${body}epilogue\r\n`), multipart('inner'))).toBeNull();
    expect(bodyNotAsDeclared(Buffer.from('Subject: x\r\n\r\nhello\r\n--outer--\r\n'), undefined)).toBeNull();
  });
  it("the ballot server's pass counts for nothing a signature of the same domain proves nothing of: text after its l=, or a From it does not sign", async () => {
    const stamp = Buffer.from('Authentication-Results: mx.ccin.example; dkim=pass header.d=north-herts.gov.uk header.s=ccin2024\r\n');
    const stamped = async (name: string) => (await judge(name, 'require', (b) => Buffer.concat([stamp, b]))).judgement.auth;
    for (const name of ['length-tail.eml', 'from-unsigned.eml']) {
      const auth = await stamped(name);
      expect({ name, trusted: auth?.trustedHeaders.map((t) => [t.result, t.authenticates]) }).toEqual({ name, trusted: [['pass', false]] });
      expect({ name, authenticated: auth?.authenticated }).toEqual({ name, authenticated: false });
    }
    // The same stamp on a message whose signature is sound, or was broken on the way (re-encoded), stands.
    expect((await stamped('pass.eml'))?.trustedHeaders[0]?.authenticates).toBe(true);
    expect((await stamped('body-altered.eml'))?.trustedHeaders[0]?.authenticates).toBe(true);
  });
  it('a signature that expires after the receipt time still passes: verification happens at receipt', async () => {
    const { judgement } = await judge('expired-after-receipt.eml');
    expect(judgement.auth?.authenticated).toBe(true);
    const [raw] = await rawMessages(join(DIR, 'messages', 'expired-after-receipt.eml'));
    const later = await verifyDkim(raw!.bytes, new Date('2024-03-01T00:00:00Z'), keyLookup(KEYS, undefined));
    expect(later[0]).toMatchObject({ result: 'neutral', reason: 'expired' });
  });
  it('l= with nothing after the signed part authenticates', async () => {
    expect((await judge('length-no-tail.eml')).judgement.auth?.authenticated).toBe(true);
  });
  it('of several signatures (Microsoft 365 signs with its own domain too), one aligned pass is enough', async () => {
    const { judgement } = await judge('two-signatures.eml');
    expect(judgement.auth?.signatures.map((s) => [s.domain, s.result, s.authenticates])).toEqual([
      ['north-herts.gov.uk', 'pass', true],
      ['northherts.onmicrosoft.com', 'pass', false],
    ]);
    expect(judgement.verdict).toEqual({ kind: 'valid' });
  });
  it("an Authentication-Results header from outside is ignored; the ballot server's own one authenticates a regenerated message", async () => {
    const forged = await judge('forged-authentication-results.eml');
    expect(forged.judgement.auth?.ignoredHeaders[0]?.why).toMatch(/below the ballot address's own Received header/);
    const regenerated = await judge('regenerated-trusted.eml');
    expect(regenerated.judgement.auth?.signatures[0]?.result).toBe('neutral');
    expect(regenerated.judgement.auth).toMatchObject({ authenticated: true, decidedBy: 'trusted-header' });
    expect(regenerated.judgement.verdict).toEqual({ kind: 'valid' });
  });
  it("mboxo's >From escaping is undone before the body hash", async () => {
    const [raw] = await rawMessages(join(DIR, 'messages', 'escaped.mbox'));
    expect(raw!.bytes.toString()).toContain('\nFrom the Leader');
    expect((await verifyDkim(raw!.bytes, new Date('2024-01-31T10:00:03Z'), keyLookup(KEYS, undefined)))[0]?.result).toBe('pass');
    const escaped = Buffer.from(raw!.bytes.toString('latin1').replace('\nFrom the Leader', '\n>From the Leader'), 'latin1');
    expect((await verifyDkim(escaped, new Date('2024-01-31T10:00:03Z'), keyLookup(KEYS, undefined)))[0]?.reason).toBe('body hash did not verify');
  });
  it('the RFC 8463 example verifies under both its signatures (Ed25519 and RSA)', async () => {
    const bytes = readFileSync(join(DIR, 'messages', 'rfc8463.eml'));
    const results = await verifyDkim(bytes, new Date('2018-06-10T13:38:29Z'), keyLookup(KEYS, undefined));
    expect(results.map((r) => [r.selector, r.algorithm, r.result])).toEqual([
      ['brisbane', 'ed25519-sha256', 'pass'],
      ['test', 'rsa-sha256', 'pass'],
    ]);
  });
  it('under prefer a failing signature counts but is flagged; under off nothing is checked', async () => {
    const prefer = await judge('body-altered.eml', 'prefer');
    expect(prefer.judgement.verdict).toEqual({ kind: 'valid' });
    expect(prefer.judgement.auth?.failing).toBe(true);
    expect(prefer.judgement.findings.map((f) => f.detail)).toContain('a DKIM signature is present and fails: altered after signing?');
    const off = await judge('body-altered.eml', 'off');
    expect(off.facts.dkim).toBeNull();
    expect(off.judgement.auth?.checked).toBe(false);
  });
  it('Authentication-Results are parsed with or without an authserv-id', () => {
    expect(parseAuthenticationResults('mx.ccin.example 1; spf=pass smtp.mailfrom=a.example; dkim=pass (2048-bit) header.d=a.example header.s=s1')).toEqual({
      authservId: 'mx.ccin.example',
      dkim: [{ result: 'pass', domain: 'a.example', selector: 's1', algorithm: null }],
      dmarc: null,
      compauth: null,
    });
    expect(parseAuthenticationResults('spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=a.example; dkim=fail (body hash did not verify) header.d=a.example;dmarc=fail').dkim).toEqual([
      { result: 'fail', domain: 'a.example', selector: null, algorithm: null },
    ]);
    expect(parseAuthenticationResults('mx.ccin.example; dkim=pass header.d=a.example header.a=RSA-SHA1 header.s=s1').dkim).toEqual([{ result: 'pass', domain: 'a.example', selector: 's1', algorithm: 'rsa-sha1' }]);
  });
  it('what a sender controls inside the server\'s stamp (the envelope sender, in a quoted string or the service\'s comment) never reads as a result of its own', async () => {
    const injected = 'dkim=pass header.d=north-herts.gov.uk';
    for (const value of [
      // The envelope sender as a quoted string (RFC 8601's pvalue): one property, however many ";" it holds.
      `mx.ccin.example; spf=pass smtp.mailfrom="x;${injected};"@attacker.example; dkim=none`,
      // In a comment, with the ")" a comment must escape, then a ";" that would end the result.
      `mx.google.com; spf=pass (google.com: domain of "x\\)(;${injected};"@attacker.example designates 203.0.113.9 as permitted sender) smtp.mailfrom="x)(;${injected};"@attacker.example`,
      // Nested comments.
      `mx.ccin.example; spf=pass (outer (inner; ${injected}) still; ${injected}) smtp.mailfrom=attacker.example`,
    ]) {
      const parsed = parseAuthenticationResults(value);
      expect({ value, dkim: parsed.dkim.filter((d) => d.result === 'pass') }).toEqual({ value, dkim: [] });
      expect(parsed.authservId).toMatch(/^mx\./);
    }
    // As the ballot server's own stamp, on top (trusted) of a message with no signature: nothing is authenticated by it.
    const stamped = (stamp: string) => judge('forged-authentication-results.eml', 'require', (b) => Buffer.concat([Buffer.from(`Authentication-Results: ${stamp}\r\n`), b]));
    await Promise.all([stamped(`mx.ccin.example; spf=pass smtp.mailfrom="x;${injected};"@attacker.example`), stamped(`mx.ccin.example; ${injected}`)]).then(([injection, real]) => {
      expect(injection.judgement.auth?.authenticated).toBe(false);
      // The same words as the server's own result do (the stamp is trusted; this is what it is for).
      expect(real.judgement.auth).toMatchObject({ authenticated: true, decidedBy: 'trusted-header' });
      // A quoted header.d is read as its content; a base64 header.b with "=" padding does not shift the properties after it.
      expect(parseAuthenticationResults('mx.ccin.example; dkim=pass header.b=abc+/d== header.d="a.example" header.s=s1').dkim).toEqual([{ result: 'pass', domain: 'a.example', selector: 's1', algorithm: null }]);
    });
  });
});

describe('the key cache DKIM verification runs with', () => {
  it('makes each public key once, verifies with it as with the text it came from, and never remembers a key it cannot read', async () => {
    installKeyCache();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519').publicKey;
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const made = cryptoModule.createPublicKey({ key: der, format: 'der', type: 'spki' });
    expect(cryptoModule.createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })).toBe(made);
    expect(cryptoModule.createPublicKey({ key: other.export({ type: 'spki', format: 'der' }), format: 'der', type: 'spki' })).not.toBe(made);
    // What mailauth does with it: export to PEM, then verify with the PEM text.
    const pem = made.export({ type: 'spki', format: 'pem' }) as string;
    expect(made.export({ type: 'spki', format: 'pem' })).toBe(pem);
    // Bytes are the caller's own: changing those it was given changes no later caller's.
    for (let i = 0; i < 2; i++) made.export({ type: 'spki', format: 'der' })[0] = 0;
    expect(made.export({ type: 'spki', format: 'der' })).toEqual(der);
    const data = Buffer.from('signed header block');
    const signature = sign(null, data, privateKey);
    expect(cryptoModule.verify(null, data, pem, signature)).toBe(true);
    expect(cryptoModule.verify(null, Buffer.from('altered'), pem, signature)).toBe(false);
    expect(cryptoModule.verify(null, data, other.export({ type: 'spki', format: 'pem' }) as string, signature)).toBe(false);
    const broken = { key: Buffer.from('not a key'), format: 'der' as const, type: 'spki' as const };
    expect(() => cryptoModule.createPublicKey(broken)).toThrow();
    expect(() => cryptoModule.createPublicKey(broken)).toThrow();
  });
});

describe('a hostile message cannot hold the count up', () => {
  it('each key name is asked of DNS once in a count, answered or failing, however many messages name it', async () => {
    const asked: string[] = [];
    const dns = {
      fetched: new Map<string, string[][]>(),
      resolveTxt: async (name: string): Promise<string[][]> => {
        asked.push(name);
        if (name.startsWith('down.')) throw Object.assign(new Error('queryTxt ETIMEOUT'), { code: 'ETIMEOUT' });
        return [['v=DKIM1; p=AB']];
      },
    };
    const lookup = keyLookup(new Map(), dns);
    for (let i = 0; i < 3; i++) {
      expect(await lookup('up._domainkey.x.example')).toEqual({ records: [['v=DKIM1; p=AB']], source: 'dns' });
      await expect(lookup('down._domainkey.x.example')).rejects.toThrow(/ETIMEOUT/);
    }
    expect(asked).toEqual(['up._domainkey.x.example', 'down._domainkey.x.example']);
  });

  it(`a message with more than ${MAX_DKIM_SIGNATURES} DKIM signatures has none verified and is not authenticated; at the limit, its signatures are checked`, async () => {
    const pass = readFileSync(join(DIR, 'messages', 'pass.eml'), 'latin1');
    const lines = pass.split('\n');
    const start = lines.findIndex((l) => l.startsWith('DKIM-Signature:'));
    let end = start + 1;
    while (/^[ \t]/.test(lines[end] ?? '')) end++;
    // Copies of the message's own signature, its body hash spoilt: each one is a key to look up.
    const spoilt = lines.slice(start, end).join('\n').replace('bh=', 'bh=A');
    const withCopies = async (n: number) => {
      const looked: string[] = [];
      const bytes = Buffer.from([...lines.slice(0, start), ...Array<string>(n).fill(spoilt), ...lines.slice(start)].join('\n'), 'latin1');
      const election = electionWith('require');
      const lookup = keyLookup(KEYS, undefined);
      const facts = await readMessage(
        { source: { file: 'many.eml', kind: 'eml', index: null, line: null }, bytes, size: bytes.length, sha256: sha256Hex(bytes), oversize: false },
        { receivedBy: election.receivedBy, limits: DEFAULT_READ_LIMITS, dkim: { lookup: (name) => (looked.push(name), lookup(name)) }, trustedAuthservIds: ['mx.ccin.example'] },
      );
      return { facts, looked, judgement: judgeMessage(facts, election, roster) };
    };
    const atLimit = await withCopies(MAX_DKIM_SIGNATURES - 1);
    expect(atLimit.facts.dkimSignatures).toBe(MAX_DKIM_SIGNATURES);
    expect(atLimit.facts.dkim?.filter((d) => d.result === 'pass')).toHaveLength(1);
    expect(atLimit.judgement.verdict.kind).toBe('valid');
    const over = await withCopies(200);
    expect(over.facts.dkimSignatures).toBe(201);
    expect(over.looked).toEqual([]);
    expect(over.facts.dkim).toEqual([]);
    expect(over.facts.dkimError).toBe(`the message has 201 DKIM-Signature headers, over the limit of ${MAX_DKIM_SIGNATURES}: none was verified`);
    expect(over.judgement.auth?.authenticated).toBe(false);
    expect(over.judgement.verdict).toMatchObject({ kind: 'rejected', reason: 'unauthenticated' });
  });
});

describe('--dns and --save-keys', () => {
  it('looks up keys live only when asked, and saves them for an offline recount that gives the same result', async () => {
    const t = tempDir();
    try {
      const e = JSON.parse(readFileSync(ELECTION, 'utf8'));
      const election = join(t.dir, 'election.json');
      writeFileSync(election, JSON.stringify({ ...e, dkim: 'require' }));
      const msg = join(DIR, 'messages', 'pass.eml');
      const lookups: string[] = [];
      const resolveTxt = async (name: string): Promise<string[][]> => {
        lookups.push(name);
        const r = KEYS.get(name);
        if (!r) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
        return r;
      };
      const io = { env: {}, stdoutIsTTY: false, resolveTxt };
      const { main } = await import('../src/cli/main.js');
      let out = '';
      let err = '';
      // dkim: require with no key source at all would reject every ballot: an input error, not a count.
      const offline = await main(['tally', msg, '--election', election, '--roster', ROSTER], { ...io, stdout: (s) => (out += s), stderr: (s) => (err += s) });
      expect(lookups).toEqual([]); // nothing touches the network without --dns
      expect(offline).toBe(2);
      expect(out).toBe('');
      expect(err).toMatch(/\[NO_KEYS\].*no keys were given \(--keys FILE\) and live DNS was not asked for \(--dns\)/);
      const saved = join(t.dir, 'saved.zone');
      const a = join(t.dir, 'a.json');
      const live = await main(['tally', msg, '--election', election, '--roster', ROSTER, '--dns', '--save-keys', saved, '--json', a], { ...io, stdout: () => undefined, stderr: () => undefined });
      expect(live).toBe(0);
      expect(lookups).toEqual(['ccin2024._domainkey.north-herts.gov.uk']);
      const b = join(t.dir, 'b.json');
      await run(['tally', msg, '--election', election, '--roster', ROSTER, '--keys', saved, '--json', b]);
      const ra = JSON.parse(readFileSync(a, 'utf8'));
      const rb = JSON.parse(readFileSync(b, 'utf8'));
      expect(ra.messages[0].disposition).toBe('counted');
      expect(rb.messages[0].disposition).toBe('counted');
      expect(ra.messages[0].evidence.authentication.signatures[0].keySource).toBe('dns');
      expect(rb.messages[0].evidence.authentication.signatures[0].keySource).toBe('pinned');
      expect((await run(['tally', msg, '--election', election, '--roster', ROSTER, '--save-keys', saved])).code).toBe(2);

      // A key DNS has none of is saved as none, so that the recount with the saved file judges the
      // signature as the live count did (no key, looked up), not as never looked up (provisional).
      const prefer = join(t.dir, 'prefer.json');
      writeFileSync(prefer, JSON.stringify({ ...e, dkim: 'prefer' }));
      const nothing = async (): Promise<string[][]> => {
        throw Object.assign(new Error('queryTxt ENOTFOUND'), { code: 'ENOTFOUND' });
      };
      const none = join(t.dir, 'none.zone');
      const c = join(t.dir, 'c.json');
      const d = join(t.dir, 'd.json');
      expect(await main(['tally', msg, '--election', prefer, '--roster', ROSTER, '--dns', '--save-keys', none, '--json', c], { env: {}, stdoutIsTTY: false, resolveTxt: nothing, stdout: () => undefined, stderr: () => undefined })).toBe(0);
      expect(readFileSync(none, 'utf8')).toMatch(/^ccin2024\._domainkey\.north-herts\.gov\.uk\. IN TXT "" ; no such record in DNS/m);
      expect((await run(['tally', msg, '--election', prefer, '--roster', ROSTER, '--keys', none, '--json', d])).code).toBe(0);
      const [rc, rd] = [c, d].map((f) => JSON.parse(readFileSync(f, 'utf8')));
      expect(rd.messages).toEqual(rc.messages);
      expect(rc.messages[0].evidence.authentication.signatures[0]).toMatchObject({ result: 'neutral', reason: 'no key' });
      expect([rc.final, rd.final]).toEqual([true, true]);

      // A DNS failure is not "no key": it is a temperror, and the result is provisional (exit 3).
      const failing = async (): Promise<string[][]> => {
        throw Object.assign(new Error('queryTxt ETIMEOUT'), { code: 'ETIMEOUT' });
      };
      let failOut = '';
      const down = await main(['tally', msg, '--election', election, '--roster', ROSTER, '--dns'], { env: {}, stdoutIsTTY: false, resolveTxt: failing, stdout: (s) => (failOut += s), stderr: () => undefined });
      expect(down).toBe(3);
      expect(failOut).toMatch(/DNS failure looking up a DKIM key/);
    } finally {
      t.cleanup();
    }
  });
});

describe('S/MIME signed in the opaque form (smime.p7m): read as a mail client shows it', () => {
  // fixtures/dkim/make-smime.py: signed by `openssl cms`, then DKIM-signed by dkimpy as the council's server would.
  it.each(['smime-opaque.eml', 'smime-opaque-streamed.eml'])('%s: the paper inside the signature counts, and DKIM is verified on the bytes as sent', async (name) => {
    const { facts, judgement } = await judge(name);
    expect(judgement.verdict).toEqual({ kind: 'valid' });
    expect(judgement.choices).toEqual(['williams']);
    expect(judgement.auth).toMatchObject({ authenticated: true, decidedBy: 'signature' });
    expect(facts.papers.map((p) => p.origin)).toEqual(['body-text']);
    expect(facts.notes.some((n) => n.startsWith('an S/MIME signed message in its opaque form'))).toBe(true);
    expect(facts.attachments).toEqual([]);
  });

  it('a From header inside the signed content (as S/MIME header protection writes one) is a second sender: ambiguous-sender', async () => {
    const { facts, judgement } = await judge('smime-inner-from.eml');
    expect(facts.fromAddresses).toEqual(['leader@north-herts.gov.uk', 'someone@attacker.example']);
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'ambiguous-sender' });
  });

  it("inspect's text for the officer is the message inside the signature, as the count read it", async () => {
    const [raw] = await rawMessages(join(DIR, 'messages', 'smime-opaque.eml'));
    const view = await readForOfficer(raw!, DEFAULT_READ_LIMITS);
    expect('own' in view && view.own).toMatch(/\[X\] Cllr Jason Williams/);
    expect('attachments' in view && view.attachments).toEqual([]);
  });

  it('header fields copied inside word for word (S/MIME header protection) are one statement, not two senders', async () => {
    const { facts, judgement } = await judge('smime-protected-headers.eml');
    expect(facts.fromHeaders).toBe(1);
    expect(facts.repeatedHeaders).toEqual([]);
    expect(judgement.verdict).toEqual({ kind: 'valid' });
    expect(judgement.choices).toEqual(['williams']);
    expect(judgement.auth).toMatchObject({ authenticated: true });
  });

  it('an encrypted one cannot be opened without the key: an attachment not read, said to be encrypted, for the officer', async () => {
    const { facts, judgement } = await judge('smime-encrypted.eml');
    expect(facts.papers).toEqual([]);
    expect(facts.attachments).toMatchObject([{ contentType: 'application/pkcs7-mime', handling: 'not-read' }]);
    expect(facts.attachments[0]?.note).toMatch(/^an S\/MIME encrypted message, which only the private key/);
    expect(judgement.verdict).toMatchObject({ kind: 'needs-adjudication' });
  });

  it('a signed message whose DKIM-signed content was changed after sending is not authenticated', async () => {
    // The base64 of the smime.p7m changed (one character of the encapsulated paper): the body hash fails.
    const { judgement } = await judge('smime-opaque.eml', 'require', (b) => {
      const s = b.toString('latin1');
      const at = s.indexOf('\r\n\r\n', s.indexOf('Content-Transfer-Encoding: base64')) + 4;
      return Buffer.from(s.slice(0, at) + (s[at] === 'M' ? 'N' : 'M') + s.slice(at + 1), 'latin1');
    });
    expect(judgement.verdict).toEqual({ kind: 'rejected', reason: 'unauthenticated' });
  });

  it('what is not CMS, or CMS that is not a signed message, is said as such and never read', async () => {
    const { openSmime } = await import('../src/read/smime.js');
    expect(openSmime(Buffer.from('not a p7m at all'))).toMatchObject({ kind: 'unreadable' });
    expect(openSmime(Buffer.alloc(0))).toMatchObject({ kind: 'unreadable' });
    const p7m = (name: string): Buffer => {
      const s = readFileSync(join(DIR, 'messages', name), 'latin1');
      return Buffer.from(s.slice(s.indexOf('\r\n\r\n', s.indexOf('Content-Transfer-Encoding: base64'))).replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    };
    expect(openSmime(p7m('smime-encrypted.eml'))).toEqual({ kind: 'encrypted' });
    const opened = openSmime(p7m('smime-opaque-streamed.eml'));
    expect(opened.kind).toBe('signed');
    expect(opened.kind === 'signed' && opened.entity.toString('latin1')).toMatch(/^Content-Type: text\/plain[^]*\[X\] Cllr Jason Williams/);
    // Cut short: not parsed, whatever part of it is left.
    expect(openSmime(p7m('smime-opaque.eml').subarray(0, 200)).kind).toBe('unreadable');
  });
});
