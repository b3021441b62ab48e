/**
 * Reading on several threads gives the same result, byte for byte, as reading on one (issue 8).
 * Speed is measured by `npm run bench`, never here.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SpillFile, closeSpills } from '../src/cli/spill.js';
import { writeSynthetic } from '../bench/synthetic.js';
import { IN_PROCESS_FIRST, READER_RESOURCE_LIMITS, readAll } from '../src/read/pool.js';
import { Worker } from 'node:worker_threads';
import { readOptionsFrom, type ReaderSetup } from '../src/read/setup.js';
import { walkSources } from '../src/sources/walk.js';
import { createHash } from 'node:crypto';
import { countWithInputs, keyLookup, loadInputs, readMailbox, runCount, type LoadedInputs } from '../src/cli/pipeline.js';
import type { ResultModel } from '../src/model/result.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { JUDGED_EVIDENCE, evidenceOf } from '../src/count/result.js';
import { slimFacts, slimJudgement } from '../src/count/compact.js';
import { judgeMessage } from '../src/judge/judge.js';
import { DEFAULT_READ_LIMITS } from '../src/read/message.js';
import { DEFAULT_LIMITS, type RawMessage } from '../src/sources/types.js';
import { Writable } from 'node:stream';
import { canonicalJson } from '../src/model/canonical.js';
import { decodeEvidenceForm, encodeEvidenceForm, type EvidenceForm } from '../src/report/evidence-text.js';
import fc from 'fast-check';
import { renderJson, writePretty } from '../src/report/json.js';
import { writeTerminal } from '../src/report/terminal.js';
import { renderHtml, writeHtml } from '../src/report/html.js';
import { renderCsv, writeCsv } from '../src/report/csv.js';
import { Chalk } from 'chalk';
import { ADJUDICATIONS, ELECTION, ISSUED, KEYS, MAILBOX, ROOT, ROSTER, eml, paperText, run, tempDir } from './helpers.js';

afterAll(closeSpills);

describe('spilling a large count to disk', () => {
  it('a spilled record comes back as it was written, whatever its text holds', () => {
    const spill = new SpillFile();
    try {
      const texts = ['', 'plain', 'quote " backslash \\ newline \n tab \t', 'a ballot 🗳️, accents é, CJK 選挙', JSON.stringify(['a lone \ud800 surrogate', 'and \udc00'])];
      texts.forEach((text, i) => spill.put(i, text));
      // Past the megabyte written at a time.
      for (let i = 0; i < 3000; i++) spill.put(texts.length + i, `${'é'.repeat(300)}${i}`);
      texts.forEach((text, i) => expect(spill.get(i)).toBe(text));
      // A record too long for the pending buffer is written on its own, after what was pending, and
      // those after it are written after it.
      const big = `${'選'.repeat(400_000)}end`;
      const at = texts.length + 3000;
      spill.put(at, 'before');
      spill.put(at + 1, big);
      spill.put(at + 2, 'after');
      expect(spill.get(at + 1)).toBe(big);
      expect([spill.get(at), spill.get(at + 2), spill.get(texts.length + 2999)]).toEqual(['before', 'after', `${'é'.repeat(300)}2999`]);
      expect(spill.get(texts.length + 2999)).toBe(`${'é'.repeat(300)}2999`);
      expect(spill.get(texts.length)).toBe(`${'é'.repeat(300)}0`);
      // JSON writes a lone surrogate as an escape, and reads it back; raw, it would come back as U+FFFD.
      expect(JSON.parse(spill.get(4))).toEqual(['a lone \ud800 surrogate', 'and \udc00']);
      expect(() => spill.put(9999, 'a lone \ud800')).toThrow(/not well-formed/);
      // Read in order (a block ahead at a time), twice over, backwards, and in a scattered order: each
      // record is itself whatever was read before it.
      const all = [...texts, ...Array.from({ length: 3000 }, (_, i) => `${'é'.repeat(300)}${i}`)];
      const order = [...all.keys(), ...all.keys(), ...[...all.keys()].reverse(), ...[...all.keys()].map((i) => (i * 7919) % all.length)];
      for (const i of order) expect(spill.get(i)).toBe(all[i]);
    } finally {
      spill.close();
    }
  });

  it('records put out of order are written in the order of their index, so that reading them in that order reads the file once', () => {
    // As a count puts them: from the first spilled index on, each a few dozen places out of order
    // (a reader thread's messages come back after those the main thread read meanwhile).
    const first = 2000;
    const n = 64 * 64;
    const text = (i: number): string => `record ${i} ${'é'.repeat(i % 700)}`;
    // Each window of 64 in a scrambled order (k → 47k mod 64 is a permutation): each index is put up
    // to 63 places from its own, and the first put is not the first index.
    const windowed = Array.from({ length: n / 64 }, (_, w) => [...Array(64).keys()].map((k) => w * 64 + ((k * 47) % 64))).flat();
    const spill = new SpillFile(first);
    try {
      for (const [k, i] of windowed.entries()) {
        spill.put(first + i, text(first + i));
        // A record read while one before it is still to come is the record put.
        if (k % 97 === 0) expect(spill.get(first + i)).toBe(text(first + i));
      }
      const read = spill.bytesRead;
      for (let i = first; i < first + n; i++) expect(spill.get(i)).toBe(text(i));
      // In order, each byte of the file once: the records lie in the file in the order of their index.
      expect(spill.bytesRead - read).toBe(spill.bytesWritten);
      expect(() => spill.put(first + 5, 'again')).toThrow(/put twice/);
      expect(() => spill.put(first - 1, 'before the first')).toThrow(/before the first/);
    } finally {
      spill.close();
    }
  });

  it("a message's evidence text comes back from its spilled string piece for piece, whatever its values hold", () => {
    // Values as the evidence writes them (JSON text, pretty or canonical), of any JSON value: strings
    // with every control character, the separators themselves, quotes and lone surrogates among them.
    const text = fc.jsonValue().chain((v) => fc.constantFrom(JSON.stringify(v), JSON.stringify(v, null, 2), canonicalJson(v)));
    const piece = fc.oneof(
      fc.tuple(fc.constantFrom('subject', 'received', 'authentication', 'duplicateOf', 'size'), fc.oneof(text, fc.constant(''))),
      fc.tuple(fc.constant('findings'), fc.array(fc.jsonValue().map((v) => JSON.stringify({ code: 'note', detail: v })), { maxLength: 4 })),
    );
    const form = fc.record({ judged: fc.array(piece, { maxLength: 12 }), copy: fc.array(piece, { maxLength: 6 }) });
    fc.assert(
      fc.property(form, (f) => {
        const encoded = encodeEvidenceForm(f as EvidenceForm);
        expect(decodeEvidenceForm(encoded)).toEqual(f);
        expect((encoded as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
      }),
      { seed: 20261125, numRuns: 3000 },
    );
    for (const sep of ['\u001c', '\u001d', '\u001e', '\u001f']) {
      expect(JSON.stringify(`a ${sep} b`)).not.toContain(sep);
      // A text that is not JSON, holding one raw, is refused rather than cut in two.
      expect(() => encodeEvidenceForm({ judged: [['subject', `a ${sep} b`]], copy: [] })).toThrow(/separator/);
      expect(() => encodeEvidenceForm({ judged: [['findings', [`{"detail":"${sep}"}`]]], copy: [] })).toThrow(/separator/);
    }
  });

  it('mail holding the separators the spill file joins pieces with is spilled and read back unchanged', async () => {
    const t = tempDir();
    try {
      const seps = '\u001c\u001d\u001e\u001f';
      const files = [
        eml({ subject: `Ballot ${seps} paper`, body: `${paperText({ willoughby: 'X' })}\r\n${seps} a line of separators ${seps}\r\n` }),
        eml({ subject: `=?utf-8?B?${Buffer.from(`Vote ${seps}`).toString('base64')}?=`, messageId: '<sep2@north-herts.gov.uk>', headers: [`X-Note: ${seps}`], body: paperText({ williams: 'X' }) }),
        eml({ from: `"${seps}" <leader@westminster.gov.uk>`, messageId: '<sep3@westminster.gov.uk>', body: `${seps}\r\n` }),
      ];
      files.forEach((bytes, i) => writeFileSync(join(t.dir, `m${i}.eml`), bytes));
      const req = { paths: [t.dir], election: ELECTION, roster: ROSTER, generator: 'test', jobs: 1 };
      const whole = await runCount(req);
      const spilled = await runCount({ ...req, spillAfter: 0 });
      expect(whole.summary.read).toBe(3);
      expect(renderJson(spilled)).toBe(renderJson(whole));
      expect(JSON.stringify(spilled)).toBe(JSON.stringify(whole));
      expect(JSON.stringify(whole.messages.map((m) => m.evidence.subject))).toContain('\\u001e');
    } finally {
      t.cleanup();
    }
  });

  it('a count whose messages are spilled and read back gives the same result, byte for byte', async () => {
    const req = { paths: [MAILBOX], election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED, adjudications: ADJUDICATIONS, generator: 'test', jobs: 1 };
    const wholeResult = await runCount(req);
    const spilledResult = await runCount({ ...req, spillAfter: 0 });
    const whole = renderJson(wholeResult);
    const spilled = renderJson(spilledResult);
    expect(spilled).toBe(whole);
    expect((JSON.parse(spilled) as { messages: unknown[] }).messages).toHaveLength(68);
    // And every other report made from the records, which read a spilled message's evidence back.
    const terminal = (r: typeof wholeResult): string => {
      const parts: string[] = [];
      writeTerminal(r, new Chalk({ level: 0 }), {}, (text) => parts.push(text));
      return parts.join('');
    };
    expect(terminal(spilledResult)).toBe(terminal(wholeResult));
    expect(renderHtml(spilledResult)).toBe(renderHtml(wholeResult));
    expect(renderCsv(spilledResult)).toBe(renderCsv(wholeResult));
    expect(JSON.stringify(spilledResult)).toBe(JSON.stringify(wholeResult));
  });

  it('the records of a spilled count read their evidence back without holding the roster: it is let go once counted', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const req = { paths: [MAILBOX], election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED, generator: 'test', jobs: 1, spillAfter: 0 };
    let counted: { result: ResultModel; inputs: LoadedInputs } | null = await countWithInputs(req);
    const roster = new WeakRef(counted.inputs.roster);
    const result = counted.result;
    counted = null;
    // A WeakRef holds its target until the job that made it ends.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(roster.deref()).toBeUndefined();
    // The records still read their evidence back.
    expect(renderJson(result)).toBe(renderJson(await runCount({ ...req, spillAfter: undefined })));
  });

  it('messages read on reader threads and spilled give the same result, byte for byte', async () => {
    const req = { paths: [MAILBOX], election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED, adjudications: ADJUDICATIONS, generator: 'test' };
    const whole = renderJson(await runCount({ ...req, jobs: 1 }));
    // The first ten kept whole, every one after them spilled; from the thirtieth on, read on two threads.
    const mixed = await runCount({ ...req, jobs: 2, spillAfter: 10, inProcessFirst: 30 });
    expect(renderJson(mixed)).toBe(whole);
    // The evidence read back from the spilled text is the evidence of the whole-object path.
    const wholeMessages = (JSON.parse(whole) as { messages: { evidence: unknown }[] }).messages;
    mixed.messages.forEach((m, i) => expect(m.evidence).toEqual(wholeMessages[i]?.evidence));
  });

  it('a copy of another message differs from its judged evidence only in the parts written out again for it (JUDGED_EVIDENCE)', async () => {
    const inputs = await loadInputs({ election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED });
    const { entries } = await readMailbox([MAILBOX], inputs.election, { ...DEFAULT_LIMITS, ...DEFAULT_READ_LIMITS }, keyLookup(inputs.keys, undefined));
    const differing = new Set<string>();
    for (const { facts } of entries) {
      const judged = evidenceOf(facts, judgeMessage(facts, inputs.election, inputs.roster, { issued: inputs.issued }), [], null, null) as unknown as Record<string, unknown>;
      const copy = evidenceOf(facts, null, [], null, null) as unknown as Record<string, unknown>;
      for (const k of Object.keys(judged)) if (JSON.stringify(judged[k]) !== JSON.stringify(copy[k])) differing.add(k);
    }
    expect([...differing].sort()).toEqual([...JUDGED_EVIDENCE].sort());
  });

  it("a count keeps each input file's name, path and SHA-256 once it is parsed, never its bytes", async () => {
    const inputs = await loadInputs({ election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED });
    const files = [inputs.electionFile, inputs.rosterFile, inputs.keysFile, inputs.issuedFile];
    for (const f of files) {
      expect(f).not.toBeNull();
      expect(Object.keys(f ?? {}).sort()).toEqual(['name', 'path', 'sha256']);
    }
    expect(inputs.rosterFile.sha256).toBe(createHash('sha256').update(readFileSync(ROSTER)).digest('hex'));
  });

  it('slim facts and judgements answer every field, with the values the count reads kept and the rest empty', async () => {
    const inputs = await loadInputs({ election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED });
    const { entries } = await readMailbox([MAILBOX], inputs.election, { ...DEFAULT_LIMITS, ...DEFAULT_READ_LIMITS }, keyLookup(inputs.keys, undefined));
    const kept = ['sha256', 'size', 'messageId', 'fromHeaders', 'unreadable', 'identity', 'signedAs', 'dkimSignatures', 'dkimError', 'receivedAt', 'receivedAtSource', 'quotedPapers'];
    for (const { facts } of entries) {
      const judgement = judgeMessage(facts, inputs.election, inputs.roster, { issued: inputs.issued });
      const slim = slimFacts(facts) as unknown as Record<string, unknown>;
      for (const key of Object.keys(facts)) {
        if (kept.includes(key)) expect(slim[key]).toEqual((facts as unknown as Record<string, unknown>)[key]);
        else if (key === 'from') expect(slim.from).toEqual(facts.from ? { address: facts.from.address, name: '' } : null);
        else if (key === 'dkim') expect(facts.dkim === null ? null : facts.dkim.some((d) => d.result === 'pass')).toBe(facts.dkim === null ? null : (slim.dkim as { result: string }[]).some((d) => d.result === 'pass'));
        else expect([null, 0, false]).toContain(Array.isArray(slim[key]) ? (slim[key] as unknown[]).length : slim[key]);
      }
      const slimJ = slimJudgement(judgement);
      expect(slimJ.verdict).toEqual(judgement.verdict);
      expect(slimJ.council).toBe(judgement.council);
      expect(slimJ.choices).toEqual(judgement.choices);
      expect(slimJ.auth && { ...slimJ.auth, signatures: [] }).toEqual(judgement.auth && { ...judgement.auth, summary: '', signatures: [], trustedHeaders: [], ignoredHeaders: [] });
      // Shared values are frozen: nothing can change one message's through another's.
      expect(Object.isFrozen(slimJ.verdict)).toBe(true);
    }
  });

  it('a count interrupted or terminated deletes its spill file (it holds what the mail says) and ends by the same signal', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const t = tempDir();
      try {
        const spill = join(ROOT, 'src', 'cli', 'spill.ts');
        const script = `import { SpillFile } from ${JSON.stringify(spill)}; new SpillFile().put(0, 'evidence'); console.log('open'); setInterval(() => {}, 1000);`;
        // Its own temporary folder: the spill file is made there.
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, TMPDIR: t.dir }, stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        const spills = (): string[] => readdirSync(t.dir).filter((f) => f.startsWith('ccin-tally-spill-'));
        expect(spills()).toHaveLength(1);
        child.kill(signal);
        const ended = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
        expect(ended).toEqual({ code: null, signal });
        expect(spills()).toEqual([]);
      } finally {
        t.cleanup();
      }
    }
  });

  it('the declaration and the spreadsheet are written a piece at a time, as they are rendered whole', async () => {
    const result = await runCount({ paths: [MAILBOX], election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED, adjudications: ADJUDICATIONS, generator: 'test', jobs: 1, spillAfter: 10 });
    const html: string[] = [];
    writeHtml(result, (s) => html.push(s), { officer: 'A. Officer' });
    const page = renderHtml(result, { officer: 'A. Officer' });
    expect(page.match(/<tr><td class="n">\d+<\/td><td class="mono">/g)).toHaveLength(result.messages.length);
    // Each message's row is a piece of its own: no piece holds the list.
    expect(html.length).toBeGreaterThan(result.messages.length);
    expect(Math.max(...html.map((p) => p.length))).toBeLessThan(page.length / 5);
    // The spreadsheet in blocks of rows: 2,500 rows are three blocks, numbered on across them.
    const many = { ...result, messages: Array.from({ length: 2500 }, (_, i) => result.messages[i % result.messages.length]!) };
    const csv: string[] = [];
    writeCsv(many, (s) => csv.push(s));
    expect(csv).toHaveLength(4);
    const lines = csv.join('').split('\r\n');
    expect(lines).toHaveLength(2502);
    expect(lines.slice(1, -1).map((l) => Number(l.split(',')[0]))).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  it('the progress bar counts messages read before the mailbox size is known, and never starts once reading is over', async () => {
    const { progressBar } = await import('../src/cli/progress.js');
    const terminal = (): { stream: NodeJS.WriteStream; text: () => string } => {
      let out = '';
      const w = new Writable({ write(chunk: Buffer, _e, done) { out += chunk.toString('utf8'); done(); } });
      return { stream: Object.assign(w, { isTTY: true, columns: 120 }) as unknown as NodeJS.WriteStream, text: () => out };
    };
    // A small folder: read to the end before its size is known; the size comes late.
    const late = terminal();
    const a = progressBar(late.stream);
    a.read({ size: 10 } as RawMessage);
    a.stop();
    a.start(10);
    await new Promise((r) => setTimeout(r, 400));
    expect(late.text()).toBe('');
    // A large one: messages read before the size comes are counted when the bar starts.
    const early = terminal();
    const b = progressBar(early.stream);
    for (let i = 0; i < 3; i++) b.read({ size: 100 } as RawMessage);
    b.start(1000);
    b.read({ size: 100 } as RawMessage);
    await new Promise((r) => setTimeout(r, 400));
    b.stop();
    expect(early.text()).toMatch(/40% \| 4 messages/);
  });

  it('a count interrupted while its progress bar is drawn gives the terminal its cursor back, and ends by the same signal', async () => {
    const progress = join(ROOT, 'src', 'cli', 'progress.ts');
    // A terminal of its own: a stream that says it is one, written to the child's stdout.
    const script = [
      `import { Writable } from 'node:stream'; import { progressBar } from ${JSON.stringify(progress)};`,
      `const tty = Object.assign(new Writable({ write(chunk, _e, done) { process.stdout.write(chunk, done); } }), { isTTY: true, columns: 120 });`,
      `const bar = progressBar(tty); bar.start(1000); bar.read({ size: 10 });`,
      `setTimeout(() => process.stdout.write('\\nSTARTED\\n'), 300); setInterval(() => {}, 1000);`,
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d.toString('utf8')), out.includes('STARTED') && resolve())));
    expect(out).toContain('\u001b[?25l'); // the bar hid the cursor
    child.kill('SIGINT');
    const ended = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
    expect(ended).toEqual({ code: null, signal: 'SIGINT' });
    expect(out.slice(out.indexOf('STARTED'))).toContain('\u001b[?25h');
  });

  it('a DNS failure on a spilled message still leaves the result provisional', async () => {
    const failing = async (): Promise<string[][]> => {
      throw Object.assign(new Error('queryTxt ETIMEOUT'), { code: 'ETIMEOUT' });
    };
    const result = await runCount({ paths: [join(ROOT, 'fixtures', 'dkim', 'messages', 'pass.eml')], election: ELECTION, roster: ROSTER, generator: 'test', spillAfter: 0, dns: { resolveTxt: failing, fetched: new Map() } });
    expect(result.final).toBe(false);
    expect(result.provisional.join('\n')).toMatch(/1 message\(s\) met a DNS failure/);
  });

  it('the JSON written piece by piece is JSON.stringify(result, null, 2), and the digest is that of the canonical JSON', async () => {
    const result = await runCount({ paths: [MAILBOX], election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED, generator: 'test', jobs: 1, spillAfter: 10 });
    expect(renderJson(result)).toBe(JSON.stringify(result, null, 2) + '\n');
    const { digest: _d, ...rest } = JSON.parse(renderJson(result)) as Record<string, unknown>;
    expect(result.digest).toBe(`sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`);
  });
});

describe('a result field written a piece at a time', () => {
  const pretty = (value: unknown, indent: string): { text: string; pieces: number } => {
    const parts: string[] = [];
    writePretty(value, indent, (s) => parts.push(s));
    return { text: parts.join(''), pieces: parts.length };
  };

  it('is JSON.stringify(value, null, 2) indented, whatever the value holds', () => {
    // JSON-like values, with what JSON.stringify leaves out or writes as null, and values it writes
    // through toJSON or as an empty object (a Date, a Map), at any depth.
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('array'), tie('object')),
      leaf: fc.oneof(
        fc.string({ unit: 'binary', maxLength: 12 }),
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.constant(() => 1),
        fc.constant(Symbol('s')),
        fc.date({ noInvalidDate: true }),
        fc.constant(new Map([[1, 2]])),
        fc.constant(Object.assign(Object.create(null) as object, { x: 1 })),
      ),
      array: fc.array(tie('tree'), { maxLength: 5 }),
      object: fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('tree'), { maxKeys: 5 }),
    }));
    fc.assert(
      fc.property(fc.oneof(fc.array(tree, { maxLength: 6 }), fc.dictionary(fc.string({ maxLength: 6 }), tree, { maxKeys: 6 })), fc.constantFrom('', '  ', '    '), (value, indent) => {
        expect(pretty(value, indent).text).toBe((JSON.stringify(value, null, 2) as string).replace(/\n/g, '\n' + indent));
      }),
      { seed: 8, numRuns: 2000 },
    );
  });

  it('writes a long list member by member, never as one string', () => {
    const files = Array.from({ length: 5000 }, (_, i) => ({ file: `mail/m${i}.eml`, kind: 'eml', sha256: 'ab'.repeat(32), bytes: i, messages: 1, note: i % 7 === 0 ? undefined : 'n' }));
    const { text, pieces } = pretty({ mailbox: files, none: [] }, '  ');
    expect(text).toBe(JSON.stringify({ mailbox: files, none: [] }, null, 2).replace(/\n/g, '\n  '));
    // Each record's fields are pieces of their own: the longest piece is one field, not the list.
    expect(pieces).toBeGreaterThan(files.length * 5);
    const longest = Math.max(...(() => {
      const lengths: number[] = [];
      writePretty(files, '  ', (s) => lengths.push(s.length));
      return lengths;
    })());
    expect(longest).toBeLessThan(200);
  });
});

describe('reader threads', () => {
  it("recurse as deep as the main thread, so that a message reads the same on either (a worker's default stack is four times as deep)", async () => {
    const probe = 'let d = 0; const f = () => { d++; f(); }; try { f(); } catch {}';
    const inWorker = (limits: object): Promise<number> =>
      new Promise((resolve, reject) => {
        const w = new Worker(`${probe}; require('node:worker_threads').parentPort.postMessage(d);`, { eval: true, resourceLimits: limits });
        w.once('message', (d: number) => void w.terminate().then(() => resolve(d)));
        w.once('error', reject);
      });
    // This test runs on its process's main thread (vitest's forks pool), whose stack V8 sizes as the command's.
    const main = new Function(`${probe}; return d;`) as () => number;
    const [here, reader, byDefault] = [main(), await inWorker(READER_RESOURCE_LIMITS), await inWorker({})];
    expect(Math.abs(reader - here) / here).toBeLessThan(0.1);
    expect(byDefault / here).toBeGreaterThan(3);
  });
  it('a count read on one or two reader threads is byte-identical to one read on the main thread', async () => {
    const t = tempDir();
    try {
      const s = await writeSynthetic(t.dir, IN_PROCESS_FIRST + 150);
      const outs: string[] = [];
      // --jobs 2: the main thread and one reader; --jobs 3: two readers, whose results come back out of order.
      for (const jobs of ['1', '2', '3']) {
        const out = join(t.dir, `r${jobs}.json`);
        const r = await run(['tally', s.mbox, '--election', s.election, '--roster', s.roster, '--json', out, '--jobs', jobs]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        outs.push(readFileSync(out, 'utf8'));
      }
      expect(outs[1]).toBe(outs[0]);
      expect(outs[2]).toBe(outs[0]);
      // And the command as built (the bundle, whose reader threads run dist/read/worker.js).
      const built = join(t.dir, 'built.json');
      execFileSync(join(ROOT, 'bin', 'ccin-tally'), ['tally', s.mbox, '--election', s.election, '--roster', s.roster, '--json', built, '--jobs', '2', '--quiet'], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: 'ignore' });
      expect(readFileSync(built, 'utf8')).toBe(outs[0]);
      const result = JSON.parse(outs[0]!) as { summary: { read: number; dispositions: { counted: number } } };
      expect(result.summary.read).toBe(IN_PROCESS_FIRST + 150);
      expect(result.summary.dispositions.counted).toBe(IN_PROCESS_FIRST + 150);
    } finally {
      t.cleanup();
    }
  });

  it('a failure in keeping a message a reader thread read stops the count with that error, never a crash or a hang', async () => {
    const inputs = await loadInputs({ election: ELECTION, roster: ROSTER });
    const limits = { ...DEFAULT_LIMITS, ...DEFAULT_READ_LIMITS };
    const setup: ReaderSetup = { receivedBy: inputs.election.receivedBy, limits, pinnedKeys: null, trustedAuthservIds: [], service: inputs.election.receivedVia };
    let kept = 0;
    const keep = (i: number, e: { facts: unknown }): unknown => {
      // Every message is handed to the reader (ahead 64, nothing read here first); the fifth kept fails.
      if (++kept === 5) throw new Error(`internal: a bug in keeping message ${i}`);
      return e.facts;
    };
    await expect(readAll(walkSources([MAILBOX], limits).messages, readOptionsFrom(setup), { setup, jobs: 2, inProcessFirst: 0, keep })).rejects.toThrow(/a bug in keeping message/);
  });

  it('the main thread reads its share when the readers have their fill, and every message comes back as the main thread alone reads it', async () => {
    const inputs = await loadInputs({ election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED });
    const limits = { ...DEFAULT_LIMITS, ...DEFAULT_READ_LIMITS };
    const setup: ReaderSetup = { receivedBy: inputs.election.receivedBy, limits, pinnedKeys: [...inputs.keys], trustedAuthservIds: [...(inputs.election.authservId ?? []), ...(inputs.election.receivedBy ?? [])], service: inputs.election.receivedVia };
    const options = readOptionsFrom(setup);
    const read = async (jobs: number, ahead: number): Promise<{ facts: unknown[]; here: number }> => {
      let here = 0;
      // Counts the messages read on the main thread: only they read these options.
      const watched = { ...options, get limits() { here++; return options.limits; } };
      const facts = await readAll(walkSources([MAILBOX], limits).messages, watched, { setup, jobs, inProcessFirst: 0, ahead, keep: (_i, e) => e.facts });
      return { facts, here };
    };
    const alone = await read(1, 1);
    for (const [jobs, ahead] of [[2, 1], [3, 1], [2, 64]] as const) {
      const shared = await read(jobs, ahead);
      expect(shared.facts).toEqual(alone.facts);
      // Handed one message ahead, a reader is always full when the next comes: the main thread reads some.
      if (ahead === 1) expect(shared.here).toBeGreaterThan(0);
    }
  });

  it('the benchmark\'s signed election: every message carries a real DKIM signature that verifies against the pinned key', async () => {
    const t = tempDir();
    try {
      const s = await writeSynthetic(t.dir, 40, 'prefer', { signed: true });
      const result = await runCount({ paths: [s.mbox], election: s.election, roster: s.roster, keys: s.keys ?? undefined, generator: 'test', jobs: 1 });
      expect(result.summary.authentication.authenticated).toBe(40);
      expect(result.summary.dispositions.counted).toBe(40);
      // The same N gives the same bytes.
      mkdirSync(join(t.dir, 'again'));
      const again = await writeSynthetic(join(t.dir, 'again'), 40, 'prefer', { signed: true });
      expect(readFileSync(again.mbox).equals(readFileSync(s.mbox))).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it('--jobs takes a whole number from 1 to 64', async () => {
    expect((await run(['tally', 'x', '--election', 'e', '--roster', 'r', '--jobs', '0'])).code).toBe(2);
  });
});
