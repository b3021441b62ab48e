/**
 * npm run bench — figures, never assertions. For each size of a synthetic election (N councils, one
 * paper each, every tenth with a 30 KB image, one mboxrd file: bench/synthetic.ts), in one run:
 *
 *   - sha256sum of the file: the I/O floor;
 *   - a bare loop that only runs mailparser's simpleParser on each message of the same file: the
 *     baseline every ratio is taken against, measured here, in this run, on this machine; and the
 *     same loop split over two worker threads, to show what this machine gives a parser on both cores;
 *   - ccin-tally counting it (dkim off with the default reader threads and with --jobs 1, and dkim
 *     prefer), timed inside the process (Node start excluded) and as the command a user runs (Node
 *     start included), with peak RSS; the same election with every message DKIM-signed, counted
 *     under dkim prefer with the keys pinned (each signature verified; its ratio is to the bare
 *     loop over the unsigned file); and verify's streaming read of the result file it wrote;
 *
 * (the bare loop and the count with dkim off are run BENCH_ROUNDS times in turns, default 3, and
 * the ratio shown is that of the median pair: this machine is shared, and one run can be a fifth
 * off the next), then `--help` and the bundled example, end to end, seven times each (median and range); then
 * hostile text (runs of the characters the paper, quote and date patterns look for, and HTML versions:
 * deep nesting, wide tables, elements hidden by an inline style) read and judged
 * at 128 KiB and 1 MiB, to show that the cost grows with the size of a message and never faster. Each measurement runs in a fresh process,
 * so peak memory is its own. Sizes: BENCH_SIZES (default 1000,10000,100000).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeSynthetic } from './synthetic.js';
import type * as Pipeline from '../src/cli/pipeline.js';
import type * as Json from '../src/report/json.js';
import type * as Outputs from '../src/cli/outputs.js';
import type * as Walk from '../src/sources/walk.js';
import type * as ResultFile from '../src/inputs/result-file.js';
import type * as Message from '../src/read/message.js';
import type * as Judge from '../src/judge/judge.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'ccin-tally');
/** The compiled module (what the command runs), typed as its source. */
const built = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(ROOT, 'dist', path)).href)) as T;

interface Measure {
  ms: number;
  maxRssMiB: number;
  messages: number;
}

/** In a child: the bare simpleParser loop over the file's messages (split by the same streaming splitter). */
async function bareLoop(mbox: string): Promise<void> {
  const { simpleParser } = await import('mailparser');
  const { walkSources } = await built<typeof Walk>('sources/walk.js');
  const started = performance.now();
  let n = 0;
  for await (const m of walkSources([mbox], { maxMessageBytes: 25 * 1024 * 1024 }).messages) {
    await simpleParser(m.bytes);
    n++;
  }
  report({ ms: performance.now() - started, maxRssMiB: process.resourceUsage().maxRSS / 1024, messages: n });
}

/**
 * In a child: the same bare loop on two worker threads, each parsing every other message: what this
 * machine gives a parser on both cores (the most reader threads can gain here).
 */
async function bareThreads(mbox: string): Promise<void> {
  const { Worker } = await import('node:worker_threads');
  const { walkSources } = await built<typeof Walk>('sources/walk.js');
  const messages: Uint8Array[] = [];
  for await (const m of walkSources([mbox], { maxMessageBytes: 25 * 1024 * 1024 }).messages) messages.push(new Uint8Array(m.bytes));
  const source = `const { parentPort, workerData } = require('node:worker_threads');
    const { simpleParser } = require(${JSON.stringify(join(ROOT, 'node_modules', 'mailparser'))});
    parentPort.once('message', async () => { for (const b of workerData) await simpleParser(Buffer.from(b)); parentPort.postMessage('done'); });`;
  const workers = [0, 1].map((k) => new Worker(source, { eval: true, workerData: messages.filter((_, i) => i % 2 === k) }));
  // Timed from when both threads hold their messages (mailparser loaded), so only the parsing is measured.
  await new Promise((r) => setTimeout(r, 500));
  const started = performance.now();
  await Promise.all(workers.map((w) => new Promise((r) => { w.once('message', r); w.postMessage('go'); })));
  report({ ms: performance.now() - started, maxRssMiB: process.resourceUsage().maxRSS / 1024, messages: messages.length });
  await Promise.all(workers.map((w) => w.terminate()));
}

/** In a child: what verify does with a result file before it recounts: read it as a stream, hash it. */
async function readResult(path: string): Promise<void> {
  const { readResultFile } = await built<typeof ResultFile>('inputs/result-file.js');
  const started = performance.now();
  const r = await readResultFile(path);
  report({ ms: performance.now() - started, maxRssMiB: process.resourceUsage().maxRSS / 1024, messages: r.messages.length });
}

/**
 * In a child: ccin-tally's count, as the CLI runs it (compiled JavaScript), writing the JSON result.
 * Timed from when its modules are loaded, as the bare loop is timed from when mailparser is: both
 * rows measure the work on the mailbox alone (the command's row has Node start and loading too).
 */
async function count(mbox: string, election: string, roster: string, out: string, jobs?: number, keys?: string): Promise<void> {
  const { runCount } = await built<typeof Pipeline>('cli/pipeline.js');
  const { writeJson } = await built<typeof Json>('report/json.js');
  const { writeAtomicPieces } = await built<typeof Outputs>('cli/outputs.js');
  const started = performance.now();
  const result = await runCount({ paths: [mbox], election, roster, generator: 'bench', jobs, keys });
  // Written as the command writes it: piece by piece, a megabyte at a time, then renamed into place.
  writeAtomicPieces(out, (write) => writeJson(result, write));
  report({ ms: performance.now() - started, maxRssMiB: process.resourceUsage().maxRSS / 1024, messages: result.summary.read });
}

/**
 * In a child: messages of hostile text (lines of the characters the paper, quote and date patterns
 * look for), read and judged at two sizes eight times apart. Printed: the time at each size and how
 * much it grew (8 is linear; a pattern that backtracks would show 64 or more).
 */
async function hostileText(): Promise<void> {
  const { readMessage, DEFAULT_READ_LIMITS } = await built<typeof Message>('read/message.js');
  const { judgeMessage } = await built<typeof Judge>('judge/judge.js');
  const { loadInputs } = await built<typeof Pipeline>('cli/pipeline.js');
  const inputs = await loadInputs({ election: join(ROOT, 'fixtures', 'ccin-2024', 'election.json'), roster: join(ROOT, 'fixtures', 'ccin-2024', 'roster.csv') });
  const shapes: [string, (n: number) => string][] = [
    ['soft line breaks', (n) => '=\n'.repeat(n / 2)],
    ['one line of spaces', (n) => ' '.repeat(n) + '!'],
    ['ticked boxes', (n) => Array.from({ length: n / 64 }, () => '[X] '.repeat(15) + '!').join('\n')],
    ['quote markers', (n) => Array.from({ length: n / 32 }, () => '> '.repeat(15) + '!').join('\n')],
    ['header-like lines', (n) => Array.from({ length: n / 96 }, () => 'From: '.repeat(15) + '!').join('\n')],
    ['"On … wrote"', (n) => Array.from({ length: n / 48 }, () => 'On '.repeat(15) + '!').join('\n')],
    ['ballot lines', (n) => '[X] Cllr Jacky Alty\n'.repeat(n / 20)],
    ['crosses without boxes', (n) => 'X Cllr Jacky Alty\nCllr Jacky Alty X\n'.repeat(n / 36)],
    ['boxes alone on lines', (n) => '[X]\nCllr Jacky Alty\n[ ]\n\n\n'.repeat(n / 27)],
  ];
  // The same shapes as a message's HTML version beside a short text one (read, converted, compared).
  const inHtml = (html: string): string => `\u0000html${html}`;
  shapes.push(
    ['HTML: nested elements', (n) => inHtml('<div><b>'.repeat(490) + 'x</b></div>'.repeat(490) + '<p>[X] Cllr Jacky Alty</p>'.repeat(Math.max(0, (n - 8820) / 26)))],
    ['HTML: table cells', (n) => inHtml(`<table>${'<tr><td>[X]</td><td>Cllr Jacky Alty</td></tr>'.repeat(n / 45)}</table>`)],
    // Read twice, as it holds and as it is shown, when markup hides some of it.
    ['HTML: hidden elements', (n) => inHtml('<span style="display: none">[X] Cllr Jacky Alty</span><p>[ ] Cllr Jacky Alty</p>'.repeat(n / 83))],
    // A stylesheet of the shapes that cost CSS libraries the square of their length (src/read/css.ts).
    ['HTML: clipping boxes', (n) => inHtml(`${'<div style="width:9000px;overflow:hidden">'.repeat(400)}${'<p>[X] Cllr Jacky Alty</p>'.repeat((n - 20000) / 26)}${'</div>'.repeat(400)}`)],
    ['HTML: moved elements', (n) => inHtml('<p>[<span style="position:relative;top:1em">X</span>] Cllr Jacky Alty</p>'.repeat(n / 81))],
    ['HTML: stylesheet }{a', (n) => inHtml(`<style>${'}{a'.repeat(n / 3)}</style><p>[X] Cllr Jacky Alty</p>`)],
    ['HTML: stylesheet "*:[', (n) => inHtml(`<style>${'"*:['.repeat(n / 4)}</style><p>[X] Cllr Jacky Alty</p>`)],
    ['HTML: content "\\', (n) => inHtml(`<style>.t::before{content:${'"\\'.repeat(n / 2)}}</style><p class="t">[X] Cllr Jacky Alty</p>`)],
    ['HTML: long styles', (n) => inHtml(`<p style="font-size:${'1'.repeat(n / 2)}-;color:rgba(0,0,0,${'0'.repeat(n / 2)}x">[X] Cllr Jacky Alty</p>`)],
    ['HTML: hiding rules', (n) => inHtml(`<style>${'.h { display:none } '.repeat(400)}</style>${'<p class="h">[X] Cllr Jacky Alty</p><p>[ ] Cllr Jacky Alty</p>'.repeat((n - 8000) / 68)}`)],
  );
  const message = (body: string): string[] => {
    if (!body.startsWith('\u0000html')) return ['Content-Type: text/plain; charset=utf-8', '', body];
    const part = ['Content-Type: text/plain; charset=utf-8', '', '[X] Cllr Jacky Alty', '--alt', 'Content-Type: text/html; charset=utf-8', '', body.slice(5), '--alt--'];
    return ['Content-Type: multipart/alternative; boundary="alt"', '', '--alt', ...part];
  };
  const timeOf = async (body: string): Promise<number> => {
    const bytes = Buffer.from(['From: Leader <leader@york.gov.uk>', 'Subject: Ballot', 'Date: Thu, 25 Jan 2024 10:00:00 +0000', ...message(body)].join('\r\n'));
    const started = performance.now();
    const facts = await readMessage({ source: { file: 'hostile.eml', kind: 'eml', index: null, line: null }, bytes, size: bytes.length, sha256: '', oversize: false }, { limits: DEFAULT_READ_LIMITS, receivedBy: null, dkim: null });
    judgeMessage(facts, inputs.election, inputs.roster);
    return performance.now() - started;
  };
  await timeOf(shapes[0]![1](1 << 14)); // warm-up
  const rows: string[] = [];
  for (const [name, make] of shapes) {
    // The better of two runs at each size: a collection falling in one run is not the text's cost.
    const [smallText, largeText] = [make(1 << 17), make(1 << 20)];
    const small = Math.min(await timeOf(smallText), await timeOf(smallText));
    const large = Math.min(await timeOf(largeText), await timeOf(largeText));
    rows.push(`${name.padEnd(22)} 128 KiB ${f(small, 1).padStart(7)} ms · 1 MiB ${f(large, 1).padStart(7)} ms · ×${f(large / small, 1)}`);
  }
  // Past the limits on lines (MAX_MESSAGE_LINES) and on text (MAX_TEXT_CHARS): a message near the
  // size limit is refused at the cost of a look at its bytes, or of parsing it, never of reading it.
  const near = 24 << 20;
  for (const [name, body] of [
    ['24 MiB of 2-byte lines', '=\n'.repeat(near / 2)],
    ['24 MiB of 1,000-byte lines', ('x'.repeat(999) + '\n').repeat(near / 1000)],
  ] as const) {
    const took = Math.min(await timeOf(body), await timeOf(body));
    rows.push(`${name.padEnd(27)} ${f(took, 0).padStart(6)} ms (past a limit: not read for papers)`);
  }
  process.stdout.write(rows.join('\n') + '\n');
}

function report(m: Measure): void {
  process.stdout.write(JSON.stringify(m) + '\n');
}

function child(args: string[]): Measure {
  const out = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Measure;
}

/** A whole command, Node start included: wall time, and peak RSS from GNU time when it is installed. */
function command(cmd: string, args: string[]): { ms: number; maxRssMiB: number | null } {
  const started = performance.now();
  const gnuTime = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - started;
  if (gnuTime.error) {
    const t = performance.now();
    spawnSync(cmd, args, { maxBuffer: 1 << 26 });
    return { ms: performance.now() - t, maxRssMiB: null };
  }
  const kib = Number(gnuTime.stderr.trim().split('\n').pop());
  return { ms, maxRssMiB: Number.isFinite(kib) ? kib / 1024 : null };
}

const f = (n: number, d = 2): string => n.toFixed(d);
/**
 * Rounds of the bare loop and of the count that each ratio is taken from (BENCH_ROUNDS, default 3):
 * on this shared machine one run of either can be a fifth off the next.
 */
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 3)) || 1);
/** The roster of the bench's row that shows memory a message apart from memory a council. */
const FEW_COUNCILS = 1000;
const row = (cells: (string | number)[]): string => cells.map((c, i) => (i === 2 ? String(c).padEnd(40) : String(c).padStart(10))).join('  ');

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'ccin-bench-'));
  try {
    console.log(`ccin-tally benchmark · node ${process.version} · ${new Date().toISOString().slice(0, 10)} · ratios against a bare simpleParser loop over the same file, measured in this run`);
    console.log(row(['messages', 'MiB', 'what', 'seconds', 'msg/s', 'µs/msg', 'peak MiB', '× bare', '× sha256sum']));
    const timed: { n: number; ms: number; bareMs: number }[] = [];
    for (const n of sizes) {
      const sub = join(dir, String(n));
      mkdirSync(sub);
      const s = await writeSynthetic(sub, n, 'off');
      const prefer = join(sub, 'election-prefer.json');
      writeFileSync(prefer, JSON.stringify({ ...JSON.parse(readFileSync(s.election, 'utf8')), dkim: 'prefer' }));
      const mib = s.bytes / 1048576;
      const sha = command('sha256sum', [s.mbox]);
      // The bare loop and the count (dkim off), taken in turns ROUNDS times: each ratio is of a pair
      // run one after the other, and the one shown is the median pair's, with every round's beside it.
      const rounds: { bare: Measure; count: Measure }[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const pairBare = child(['--bare', s.mbox]);
        const pairCount = child(['--count', s.mbox, s.election, s.roster, join(sub, 'r.json'), '']);
        if (pairCount.messages !== n) throw new Error(`expected ${n} messages, counted ${pairCount.messages}`);
        rounds.push({ bare: pairBare, count: pairCount });
      }
      rounds.sort((a, b) => a.count.ms / a.bare.ms - b.count.ms / b.bare.ms);
      const median = rounds[Math.floor(rounds.length / 2)]!;
      const bare = median.bare;
      const line = (what: string, ms: number, rss: number | null, ratio = ms / bare.ms): void =>
        console.log(row([n, f(mib, 1), what, f(ms / 1000), Math.round((n / ms) * 1000), Math.round((ms * 1000) / n), rss === null ? '-' : Math.round(rss), f(ratio), f(ms / sha.ms, 1)]));
      line('sha256sum (the I/O floor)', sha.ms, sha.maxRssMiB);
      line('bare simpleParser loop', bare.ms, bare.maxRssMiB);
      const bare2 = child(['--bare-threads', s.mbox]);
      line('bare loop on 2 threads (parse only)', bare2.ms, bare2.maxRssMiB);
      // Peak memory: the highest of the rounds.
      const peak = Math.max(...rounds.map((r) => r.count.maxRssMiB));
      line('ccin-tally, dkim off', median.count.ms, peak);
      if (rounds.length > 1) {
        const ratioOf = (r: { bare: Measure; count: Measure }): string => f(r.count.ms / r.bare.ms);
        console.log(`${' '.repeat(24)}(the median of ${rounds.length} rounds, each the bare loop then the count: × ${rounds.map(ratioOf).join(', ')}; peak RSS the highest)`);
      }
      timed.push({ n, ms: median.count.ms, bareMs: bare.ms });
      for (const [label, election, jobs] of [
        ['dkim off, --jobs 1', s.election, '1'],
        ['dkim prefer (no signatures)', prefer, ''],
      ] as const) {
        const m = child(['--count', s.mbox, election, s.roster, join(sub, 'r.json'), jobs]);
        if (m.messages !== n) throw new Error(`expected ${n} messages, counted ${m.messages}`);
        line(`ccin-tally, ${label}`, m.ms, m.maxRssMiB);
      }
      // The same number of messages from a roster of 1,000 councils (each sends N / 1,000 papers, the
      // latest counts): what a count holds for each message, apart from what it holds for each council.
      if (n > FEW_COUNCILS) {
        const fewDir = join(sub, 'few');
        mkdirSync(fewDir);
        const few = await writeSynthetic(fewDir, n, 'off', { councils: FEW_COUNCILS });
        const fm = child(['--count', few.mbox, few.election, few.roster, join(fewDir, 'r.json'), '']);
        if (fm.messages !== n) throw new Error(`expected ${n} messages from ${FEW_COUNCILS} councils, counted ${fm.messages}`);
        line(`ccin-tally, dkim off, from ${FEW_COUNCILS} councils`, fm.ms, fm.maxRssMiB);
        rmSync(fewDir, { recursive: true, force: true });
      }
      // The same election with every message signed (Ed25519, aligned, keys pinned): each signature is verified.
      const signedDir = join(sub, 'signed');
      mkdirSync(signedDir);
      const signed = await writeSynthetic(signedDir, n, 'prefer', { signed: true });
      const sm = child(['--count', signed.mbox, signed.election, signed.roster, join(signedDir, 'r.json'), '', signed.keys ?? '']);
      if (sm.messages !== n) throw new Error(`expected ${n} signed messages, counted ${sm.messages}`);
      line(`ccin-tally, dkim prefer, all signed (${f(signed.bytes / 1048576, 0)} MiB)`, sm.ms, sm.maxRssMiB);
      rmSync(signedDir, { recursive: true, force: true });
      const verify = child(['--read-result', join(sub, 'r.json')]);
      line(`verify: reads the result (${f(statSync(join(sub, 'r.json')).size / 1048576, 0)} MiB) as a stream`, verify.ms, verify.maxRssMiB);
      const cli = command(BIN, ['tally', s.mbox, '--election', s.election, '--roster', s.roster, '--json', join(sub, 'cli.json'), '--quiet']);
      line('ccin-tally command, Node start incl.', cli.ms, cli.maxRssMiB);
      rmSync(sub, { recursive: true, force: true });
    }
    // How cost grows: the cost of each further message, between one size and the next, so that what
    // is paid once (modules, threads, the roster) is left out.
    for (let i = 1; i < timed.length; i++) {
      const [a, b] = [timed[i - 1]!, timed[i]!];
      const each = ((b.ms - a.ms) * 1000) / (b.n - a.n);
      const bareEach = ((b.bareMs - a.bareMs) * 1000) / (b.n - a.n);
      console.log(`from ${a.n} to ${b.n} messages, each further message: ccin-tally (dkim off) ${Math.round(each)} µs, bare loop ${Math.round(bareEach)} µs (× ${f(each / bareEach)})`);
    }
    // Short commands, timed seven times each: the median and the range, as one start on a shared
    // machine can take a fifth longer than the next.
    const startups = (args: string[]): { text: string; peak: string } => {
      const runs = Array.from({ length: 7 }, () => command(BIN, args));
      const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
      const peaks = runs.map((r) => r.maxRssMiB).filter((m): m is number => m !== null);
      return { text: `${f(ms[3]! / 1000)} s (${f(ms[0]! / 1000)}–${f(ms[6]! / 1000)}, median of 7)`, peak: peaks.length > 0 ? `${Math.round(Math.max(...peaks))} MiB` : '-' };
    };
    const help = startups(['--help']);
    const example = startups(['example']);
    console.log(`\nccin-tally --help: ${help.text} · the bundled example end to end (68 messages, DKIM, PDF, Word, .msg): ${example.text}, peak ${example.peak} (Node start included)`);
    console.log('\nhostile text, one message read and judged (×8 is linear in its size):');
    process.stdout.write(execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--hostile-text'], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--bare') await bareLoop(process.argv[3] ?? '');
else if (process.argv[2] === '--count') await count(process.argv[3] ?? '', process.argv[4] ?? '', process.argv[5] ?? '', process.argv[6] ?? '', process.argv[7] ? Number(process.argv[7]) : undefined, process.argv[8] || undefined);
else if (process.argv[2] === '--bare-threads') await bareThreads(process.argv[3] ?? '');
else if (process.argv[2] === '--read-result') await readResult(process.argv[3] ?? '');
else if (process.argv[2] === '--hostile-text') await hostileText();
else await main();
