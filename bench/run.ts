/**
 * npm run bench — how fast ccin-tally reads a mailbox and how much memory it takes, on mailboxes
 * made by repeating the bundled example's messages (each with its own Message-ID) N times.
 * Prints figures; asserts nothing. Each size runs in a fresh process so peak memory is its own.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

const ROOT = resolve(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'fixtures', 'ccin-2024');

async function makeMbox(path: string, copies: number): Promise<number> {
  const mbox = readFileSync(join(EXAMPLE, 'mailbox', 'ballots.mbox'), 'latin1');
  const messages = mbox.split(/\n(?=From MAILER-DAEMON )/).map((m) => (m.endsWith('\n') ? m : m + '\n'));
  const out = createWriteStream(path, { encoding: 'latin1' });
  let n = 0;
  for (let i = 0; i < copies; i++) {
    for (const m of messages) {
      n++;
      if (!out.write(m.replace(/^Message-ID: <([^>]*)>/im, `Message-ID: <bench-${i}-$1>`) + '\n')) await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
  return n;
}

async function child(mbox: string, election: string): Promise<void> {
  const { runCount } = await import('../src/cli/pipeline.js');
  const started = process.hrtime.bigint();
  const result = await runCount({
    paths: [mbox],
    election,
    roster: join(EXAMPLE, 'roster.csv'),
    keys: join(EXAMPLE, 'keys.zone'),
    generator: 'bench',
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ messages: result.summary.read, ms, maxRssMiB }) + '\n');
}

async function mainBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ccin-bench-'));
  try {
    const sizes = (process.env.BENCH_COPIES ?? '10,50,200').split(',').map(Number);
    // The same election with DKIM off, to show what verification adds per message.
    const example = JSON.parse(readFileSync(join(EXAMPLE, 'election.json'), 'utf8')) as Record<string, unknown>;
    const off = join(dir, 'election-dkim-off.json');
    writeFileSync(off, JSON.stringify({ ...example, dkim: 'off' }));
    const elections = [
      { label: 'require', path: join(EXAMPLE, 'election.json') },
      { label: 'off', path: off },
    ];
    console.log('ccin-tally benchmark: mbox made of the example messages repeated; one fresh process per run');
    console.log('messages   mbox MiB   DKIM      seconds   messages/s   µs/message   peak RSS MiB');
    for (const copies of sizes) {
      const path = join(dir, `bench-${copies}.mbox`);
      const n = await makeMbox(path, copies);
      const mib = statSync(path).size / 1048576;
      const perMessage: Record<string, number> = {};
      for (const e of elections) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', path, e.path], { encoding: 'utf8', maxBuffer: 1 << 24 });
        const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { messages: number; ms: number; maxRssMiB: number };
        if (r.messages !== n) throw new Error(`expected ${n} messages, read ${r.messages}`);
        perMessage[e.label] = (r.ms * 1000) / n;
        console.log(
          `${String(n).padStart(8)}   ${mib.toFixed(1).padStart(8)}   ${e.label.padEnd(7)}   ${(r.ms / 1000).toFixed(2).padStart(7)}   ${Math.round((n / r.ms) * 1000).toString().padStart(10)}   ${Math.round(perMessage[e.label] ?? 0).toString().padStart(10)}   ${r.maxRssMiB.toFixed(0).padStart(12)}`,
        );
      }
      console.log(`${' '.repeat(21)}DKIM adds ${Math.round((perMessage.require ?? 0) - (perMessage.off ?? 0))} µs per message`);
      rmSync(path);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] ?? '', process.argv[4] ?? '');
else await mainBench();
