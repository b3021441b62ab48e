import { resolveTxt as dnsResolveTxt } from 'node:dns/promises';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Chalk, type ChalkInstance } from 'chalk';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { TxtRecords } from '../inputs/keys.js';
import { InputError } from '../model/errors.js';
import type { ResultModel } from '../model/result.js';
import type { Roster } from '../inputs/roster.js';
import { safe } from '../report/sanitize.js';
import { preflightFolder, preflightOutputs, writeAtomic, writeAtomicPieces } from './outputs.js';

// The counting machinery and the renderers are loaded when a command needs them, so that `--help`,
// `--version` and a usage mistake answer at once.
const pipeline = () => import('./pipeline.js');
const reports = async () => {
  const [terminal, html, json, pending] = await Promise.all([import('../report/terminal.js'), import('../report/html.js'), import('../report/json.js'), import('../report/pending.js')]);
  return { ...terminal, ...html, ...json, ...pending };
};

export const EXIT = { ok: 0, internal: 1, input: 2, provisional: 3, verifyFailed: 4 } as const;

/** Everything the CLI touches of the outside world, so that it can be run in-process by the tests. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  stdoutIsTTY: boolean;
  /** Live DNS TXT lookups, used only with --dns. */
  resolveTxt?: (name: string) => Promise<string[][]>;
  /** The terminal to draw a progress bar on, when stderr is one. */
  progressStream?: NodeJS.WriteStream | undefined;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
export const GENERATOR = `ccin-tally ${pkg.version}`;
export const EXAMPLE_DIR = join(packageRoot, 'fixtures', 'ccin-2024');

export function colourFor(io: CliIo): ChalkInstance {
  const force = io.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return new Chalk({ level: 1 });
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  return new Chalk({ level: !noColor && io.stdoutIsTTY && io.env.TERM !== 'dumb' ? 1 : 0 });
}

interface CountOptions {
  election: string;
  roster: string;
  adjudications?: string;
  keys?: string;
  issued?: string;
  dns?: boolean;
  saveKeys?: string;
  jobs?: number;
  quiet?: boolean;
  json?: string;
  html?: string;
  pending?: string;
  csv?: string;
  officer?: string;
  witness?: string;
  tallySheet?: string;
  secretFile?: string;
}

function addCountOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--election <file>', 'election file (JSON)')
    .requiredOption('--roster <file>', 'eligible-council roster (CSV)')
    .option('--adjudications <file>', "returning officer's decisions on needs-adjudication messages (CSV)")
    .option('--issued <file>', 'issued.csv written by papers: a paper whose reference was not issued to its council is rejected')
    .option('--keys <file>', 'pinned DKIM keys: zone-file TXT records or mailauth DNS-cache JSON')
    .option('--dns', 'look up DKIM keys missing from --keys in live DNS (otherwise nothing touches the network)')
    .option('--save-keys <file>', 'with --dns: write the keys fetched, to pin with --keys')
    .option('--jobs <n>', 'threads at work: the main thread and N-1 that read messages (default: one per core, up to 8; 1: the main thread only)', positiveInteger)
    .option('--tally-sheet <file>', 'the tally sheet of receipts: for every counted paper "hash  choices", sorted by hash (needs the secret)')
    .option('--secret-file <file>', "the officer's secret (as for papers; else CCIN_TALLY_SECRET), for the tally sheet and receipts")
    .option('--quiet', 'no progress bar');
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('a whole number from 1 to 64');
  return n;
}

/**
 * Runs a count with the options every counting command shares, saving fetched keys when asked.
 * Returns the result, and the officer's secret when it was needed (kept beside the result, never in it).
 */
async function count(paths: string[], opts: CountOptions, io: CliIo, needsSecret = false): Promise<{ result: ResultModel; receiptSecret: Buffer | undefined; roster: Roster }> {
  if (opts.saveKeys !== undefined && !opts.dns) throw new InputError('KEYS_INVALID', { file: opts.saveKeys }, '--save-keys saves what --dns fetched: give --dns too');
  const fetched: TxtRecords = new Map();
  const resolveTxt = io.resolveTxt ?? ((name: string) => dnsResolveTxt(name));
  const { countWithInputs } = await pipeline();
  const receiptSecret = opts.tallySheet !== undefined || needsSecret ? await readSecret(opts.secretFile, io.env) : undefined;
  const { result, inputs } = await countWithInputs({
    paths,
    election: opts.election,
    roster: opts.roster,
    adjudications: opts.adjudications,
    keys: opts.keys,
    issued: opts.issued,
    dns: opts.dns ? { resolveTxt, fetched } : undefined,
    generator: GENERATOR,
    jobs: opts.jobs,
    progress: io.progressStream && !opts.quiet ? (await import('./progress.js')).progressBar(io.progressStream) : undefined,
    receiptSecret,
  });
  if (opts.saveKeys !== undefined) await writeAtomic(opts.saveKeys, (await import('../inputs/keys.js')).renderKeysFile(fetched));
  return { result, receiptSecret, roster: inputs.roster };
}

interface OutputOptions {
  tallySheet?: string | undefined;
  receiptSecret?: Buffer | undefined;
  json?: string | undefined;
  html?: string | undefined;
  pending?: string | undefined;
  csv?: string | undefined;
  officer?: string | undefined;
  witness?: string | undefined;
}

async function writeOutputs(result: ResultModel, opts: OutputOptions): Promise<void> {
  const { writeHtml, renderPendingTemplate } = await reports();
  if (opts.csv !== undefined) {
    const { writeCsv } = await import('../report/csv.js');
    writeAtomicPieces(opts.csv, (write) => writeCsv(result, write));
  }
  if (opts.tallySheet !== undefined && opts.receiptSecret) {
    const { tallySheet } = await import('../issue/receipts.js');
    await writeAtomic(opts.tallySheet, tallySheet(result.election.id, result.messages, opts.receiptSecret));
  }
  if (opts.json !== undefined) {
    const { writeJson } = await import('../report/json.js');
    writeAtomicPieces(opts.json, (write) => writeJson(result, write));
  }
  if (opts.html !== undefined) writeAtomicPieces(opts.html, (write) => writeHtml(result, write, { officer: opts.officer, witness: opts.witness }));
  if (opts.pending !== undefined) await writeAtomic(opts.pending, renderPendingTemplate(result));
}

/** The files a counting command reads, and the files it will write, checked before anything is counted. */
function preflight(paths: readonly string[], opts: Partial<CountOptions> & { pending?: string | undefined; csv?: string | undefined }, extraInputs: string[] = []): void {
  const inputs = [opts.election, opts.roster, opts.adjudications, opts.keys, opts.issued, opts.secretFile, ...extraInputs].filter((x): x is string => x !== undefined);
  const outputs = [
    ['--json', opts.json],
    ['--html', opts.html],
    ['--save-keys', opts.saveKeys],
    ['--pending', opts.pending],
    ['--csv', opts.csv],
    ['--tally-sheet', opts.tallySheet],
  ]
    .filter((o): o is [string, string] => o[1] !== undefined)
    .map(([option, path]) => ({ option, path }));
  preflightOutputs(outputs, inputs, paths);
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT.ok;
  const colour = colourFor(io);
  const program = new Command()
    .name('ccin-tally')
    .description('Counts a CCIN emailed-ballot election from the exported ballot mailbox and the roster, reproducibly.')
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  addCountOptions(
    program
      .command('tally')
      .description('count the election and print the declaration, the statement of rejected papers and every message')
      .argument('<paths...>', 'mailbox export: .eml files, folders, mbox files, Maildir folders'),
  )
    .option('--json <file>', 'write the canonical JSON result')
    .option('--html <file>', 'write the printable declaration (self-contained HTML)')
    .option('--pending <file>', 'write the messages awaiting adjudication as an adjudications file to fill in')
    .option('--csv <file>', 'write one row per message for a spreadsheet (UTF-8 with BOM)')
    .option('--officer <name>', "the returning officer's name, for the declaration")
    .option('--witness <name>', 'the witness or scrutineer who signs beside the officer')
    .action(async (paths: string[], opts: CountOptions) => {
      preflight(paths, opts);
      const { result, receiptSecret } = await count(paths, opts, io);
      (await reports()).writeTerminal(result, colour, { officer: opts.officer, witness: opts.witness }, io.stdout);
      await writeOutputs(result, { ...opts, receiptSecret });
      exitCode = result.final ? EXIT.ok : EXIT.provisional;
    });

  addCountOptions(
    program
      .command('verify')
      .description('recount from the same files and compare with a result; says which messages and figures differ')
      .argument('<result>', 'result JSON written by tally --json')
      .argument('<paths...>', 'the mailbox export the result was counted from'),
  ).action(async (resultPath: string, paths: string[], opts: CountOptions) => {
    preflight(paths, { ...opts, tallySheet: undefined }, [resultPath, ...(opts.tallySheet ? [opts.tallySheet] : [])]);
    const { loadInputFile } = await import('../inputs/files.js');
    // Read as a stream: a result of any size is checked without holding it whole.
    const claimedFile = await (await import('../inputs/result-file.js')).readResultFile(resultPath);
    const claimed = claimedFile.top;
    // The tally sheet's line hashes need the officer's secret; a second person has the sheet and the
    // result but not the secret, and checks what can be checked without it.
    const claimedSheet = (claimed as { tallySheet?: { sha256: string; lines: number } | null }).tallySheet ?? null;
    const haveSecret = opts.secretFile !== undefined || io.env.CCIN_TALLY_SECRET !== undefined;
    const withSecret = claimedSheet !== null && haveSecret;
    const counted = await count(paths, { ...opts, tallySheet: undefined }, io, withSecret);
    let recount = counted.result;
    const notes: string[] = [];
    if (claimedSheet !== null && !withSecret) {
      // Everything but the sheet's hashes is recounted; the sheet's SHA-256 is taken from the result.
      const { resultDigest } = await import('../model/canonical.js');
      const { digest: _old, ...rest } = { ...recount, tallySheet: claimedSheet };
      recount = { ...rest, digest: resultDigest(rest as unknown as Record<string, unknown>) } as ResultModel;
      notes.push('the tally sheet\'s line hashes were not recomputed (no secret given): give --secret-file to check them');
    }
    const cmp = (await import('../report/compare.js')).compareResults(claimedFile, recount);
    if (opts.tallySheet !== undefined) {
      const { sheetDifferences, tallySheet } = await import('../issue/receipts.js');
      const published = (await loadInputFile(opts.tallySheet, 'tally sheet')).bytes.toString('utf8');
      const remade = withSecret ? tallySheet(recount.election.id, recount.messages, counted.receiptSecret!) : null;
      const differences = sheetDifferences(published, opts.tallySheet, recount, claimedSheet, remade);
      if (differences.length > 0) {
        cmp.verified = false;
        cmp.differences.push(...differences);
      }
    }
    for (const n of notes) io.stdout(`  note: ${n}\n`);
    if (cmp.verified) {
      io.stdout(`${colour.green.bold('VERIFIED')}: the recount reproduces ${safe(resultPath)} exactly (${recount.digest}).\n`);
      exitCode = EXIT.ok;
    } else {
      io.stdout(`${colour.red.bold('NOT VERIFIED')}: the recount does not reproduce ${safe(resultPath)}.\n`);
      // A result file is input too: what it says is shown, never obeyed as terminal codes.
      for (const d of cmp.differences) io.stdout(`  - ${safe(d, 1000)}\n`);
      io.stdout(`  result digest  ${safe(claimed.digest)}\n  recount digest ${recount.digest}\n`);
      exitCode = EXIT.verifyFailed;
    }
  });

  addCountOptions(
    program
      .command('inspect')
      .description('show how each message was read and judged, with all evidence; with ids, only those messages and the text a person must judge')
      .argument('<paths-and-ids...>', 'the mailbox paths of the count, and (optionally) ids of messages in it: a SHA-256 prefix, file#index, or a Message-ID'),
  )
    .option('--save-attachments <dir>', "write the inspected messages' attachments into this folder, to open a scan")
    .action(async (args: string[], opts: CountOptions & { saveAttachments?: string }) => {
      const { officerView, selectMessages, splitPathsAndIds } = await import('./inspect.js');
      const { paths, ids } = splitPathsAndIds(args);
      if (paths.length === 0) throw new InputError('FILE_NOT_FOUND', { file: args.join(' ') }, 'give the mailbox paths of the count, then the ids of the messages to show');
      preflight(paths, opts);
      if (opts.saveAttachments !== undefined) preflightFolder('--save-attachments', opts.saveAttachments, paths);
      const { result } = await count(paths, opts, io);
      const chosen = selectMessages(result, ids);
      io.stdout((await reports()).renderInspect({ ...result, messages: chosen }, colour));
      if (ids.length > 0 || opts.saveAttachments !== undefined) io.stdout(await officerView(paths, chosen, colour, opts.saveAttachments));
      exitCode = EXIT.ok;
    });

  addCountOptions(
    program
      .command('receipts')
      .description("write one private notice per council that sent anything: its messages, what became of them, its receipt code and how to find its line on the tally sheet")
      .argument('<paths...>', 'the mailbox export of the count'),
  )
    .requiredOption('--out <dir>', 'folder to write <council_id>.txt and <council_id>.eml into')
    .action(async (paths: string[], opts: CountOptions & { out: string }) => {
      preflight(paths, opts);
      preflightFolder('--out', opts.out, paths);
      const { result, receiptSecret, roster } = await count(paths, opts, io, true);
      const { receiptNotices, sheetDigest, tallySheet } = await import('../issue/receipts.js');
      const sheet = tallySheet(result.election.id, result.messages, receiptSecret!);
      await mkdir(opts.out, { recursive: true });
      const notices = receiptNotices(result, roster, receiptSecret!, sheetDigest(sheet));
      for (const n of notices) {
        await writeAtomic(join(opts.out, `${n.council}.txt`), n.text);
        await writeAtomic(join(opts.out, `${n.council}.eml`), n.eml);
      }
      io.stdout(`Wrote receipts for ${notices.length} council(s) into ${safe(opts.out)}: <council_id>.txt and <council_id>.eml, ready to send. The tally sheet they refer to has SHA-256 ${sheetDigest(sheet)}.\n`);
      exitCode = result.final ? EXIT.ok : EXIT.provisional;
    });

  program
    .command('papers')
    .description('issue the ballot papers: a text and a fillable PDF paper per eligible council, and issued.csv')
    .requiredOption('--election <file>', 'election file (JSON)')
    .requiredOption('--roster <file>', 'eligible-council roster (CSV)')
    .requiredOption('--out <dir>', 'folder to write the papers and issued.csv into')
    .option('--secret-file <file>', 'the secret the references are derived from (else the CCIN_TALLY_SECRET environment variable)')
    .option('--force', 'replace an issued set already in --out (the old issued.csv is kept beside it, named by its SHA-256)')
    .action(async (opts: { election: string; roster: string; out: string; secretFile?: string; force?: boolean }) => {
      const { election, roster } = await (await pipeline()).loadInputs(opts);
      const { issuedCsv, issuePapers } = await import('../issue/papers.js');
      const { sha256Hex } = await import('../inputs/files.js');
      const secret = await readSecret(opts.secretFile, io.env);
      const issuedPath = join(opts.out, 'issued.csv');
      const existing = await readFile(issuedPath).catch(() => null);
      if (existing !== null && !opts.force) {
        throw new InputError(
          'PAPERS_EXIST',
          { file: issuedPath },
          'papers were already issued into this folder; issuing again (another secret gives other references) would make every paper already sent a wrong-reference. Use another --out folder, or --force to replace them (the old issued.csv is kept)',
        );
      }
      const papers = await issuePapers(election, roster, secret);
      await mkdir(opts.out, { recursive: true });
      if (existing !== null) {
        const kept = join(opts.out, `issued-replaced-${sha256Hex(existing).slice(0, 12)}.csv`);
        await writeAtomic(kept, existing);
        io.stdout(`The issued set that was in ${opts.out} is kept as ${kept}.\n`);
      }
      for (const p of papers) {
        await writeAtomic(join(opts.out, p.textFile), p.text);
        await writeAtomic(join(opts.out, p.pdfFile), p.pdf);
      }
      await writeAtomic(issuedPath, issuedCsv(papers));
      io.stdout(`Issued ${papers.length} papers (text and fillable PDF) for ${safe(election.title)} into ${opts.out}; references in ${issuedPath}.\n`);
      io.stdout('Keep the secret: the same secret gives the same references; it is written to no file.\n');
      exitCode = EXIT.ok;
    });

  program
    .command('example')
    .description('count the bundled 2024 example election (fixtures/ccin-2024), with its adjudications')
    .addOption(new Option('--json <file>', 'write the canonical JSON result'))
    .addOption(new Option('--html <file>', 'write the printable declaration'))
    .option('--pending <file>', 'write the messages awaiting adjudication as an adjudications file to fill in')
    .option('--csv <file>', 'write one row per message for a spreadsheet (UTF-8 with BOM)')
    .option('--officer <name>', "the returning officer's name, for the declaration")
    .option('--witness <name>', 'the witness or scrutineer who signs beside the officer')
    .option('--tally-sheet <file>', "write the tally sheet of receipts, with the example's own (test) secret")
    .option('--jobs <n>', 'threads at work: the main thread and N-1 that read messages', positiveInteger)
    .option('--quiet', 'no progress bar')
    .option('--no-adjudications', 'leave the needs-adjudication messages undecided')
    .action(async (opts: OutputOptions & { adjudications: boolean; jobs?: number; quiet?: boolean }) => {
      const ex = (f: string): string => join(EXAMPLE_DIR, f);
      preflight([ex('mailbox')], {
        json: opts.json,
        html: opts.html,
        pending: opts.pending,
        csv: opts.csv,
        tallySheet: opts.tallySheet,
        election: ex('election.json'),
        roster: ex('roster.csv'),
        adjudications: ex('adjudications.csv'),
        keys: ex('keys.zone'),
        issued: ex(join('issued', 'issued.csv')),
        secretFile: ex('secret.txt'),
      });
      const receiptSecret = opts.tallySheet !== undefined ? await readSecret(ex('secret.txt'), io.env) : undefined;
      const result = await (await pipeline()).runCount({
        receiptSecret,
        jobs: opts.jobs,
        progress: io.progressStream && !opts.quiet ? (await import('./progress.js')).progressBar(io.progressStream) : undefined,
        paths: [join(EXAMPLE_DIR, 'mailbox')],
        election: join(EXAMPLE_DIR, 'election.json'),
        roster: join(EXAMPLE_DIR, 'roster.csv'),
        adjudications: opts.adjudications ? join(EXAMPLE_DIR, 'adjudications.csv') : undefined,
        keys: join(EXAMPLE_DIR, 'keys.zone'),
        issued: join(EXAMPLE_DIR, 'issued', 'issued.csv'),
        generator: GENERATOR,
      });
      (await reports()).writeTerminal(result, colour, { officer: opts.officer, witness: opts.witness }, io.stdout);
      await writeOutputs(result, { ...opts, receiptSecret });
      exitCode = result.final ? EXIT.ok : EXIT.provisional;
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version exit 0; every usage mistake (unknown option, missing argument) is exit 2.
      return e.exitCode === 0 ? EXIT.ok : EXIT.input;
    }
    if (e instanceof InputError) {
      io.stderr(`ccin-tally: error [${e.code}] ${safe(e.message, 2000)}\n`);
      return EXIT.input;
    }
    io.stderr(`ccin-tally: internal error (please report): ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.internal;
  } finally {
    // A large count's spilled messages are not wanted once its outputs are written.
    (await import('./spill.js')).closeSpills();
  }
}

/** The officer's secret for references: a file, or CCIN_TALLY_SECRET; at least 16 characters. */
async function readSecret(path: string | undefined, env: CliIo['env']): Promise<Buffer> {
  let secret: string;
  if (path !== undefined) secret = (await (await import('../inputs/files.js')).loadInputFile(path, 'secret')).bytes.toString('utf8');
  else if (env.CCIN_TALLY_SECRET !== undefined) secret = env.CCIN_TALLY_SECRET;
  else throw new InputError('SECRET_MISSING', { file: '--secret-file' }, 'papers needs a secret: --secret-file FILE or the CCIN_TALLY_SECRET environment variable');
  const trimmed = secret.trim();
  if (trimmed.length < 16) throw new InputError('SECRET_MISSING', { file: path ?? 'CCIN_TALLY_SECRET' }, 'the secret must be at least 16 characters');
  return Buffer.from(trimmed, 'utf8');
}

function processIo(): CliIo {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    progressStream: process.stderr.isTTY === true && process.env.CI === undefined ? process.stderr : undefined,
  };
}
