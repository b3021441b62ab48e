import { InputError } from '../model/errors.js';
import { lineOfPath } from '../inputs/json-locate.js';
import { parseAdjudications, type AdjudicationRow } from '../inputs/adjudications.js';
import { parseElection, type Election } from '../inputs/election.js';
import { loadInputFile, type LoadedFile } from '../inputs/files.js';
import { parseIssued, type IssuedReferences } from '../inputs/issued.js';
import { parseKeysFile, type TxtRecords } from '../inputs/keys.js';
import { parseRoster, type Roster } from '../inputs/roster.js';
import type { TxtLookup } from '../read/dkim.js';
import type { ResultModel } from '../model/result.js';
import { councilsWithPinnedKeys, resolveDecisions } from '../count/decisions.js';
import { buildResult, findDuplicateCopies, type EvidenceStore, type JudgedMessage, type SpilledEvidence } from '../count/result.js';
import { judgeMessage } from '../judge/judge.js';
import { DEFAULT_READ_LIMITS, type MessageFacts, type ReadLimits } from '../read/message.js';
import { defaultJobs, readAll, type Keep } from '../read/pool.js';
import { SpillFile } from './spill.js';
import { compactMessage, evidenceForm } from '../count/compact.js';
import type { Judgement } from '../judge/judge.js';
import { keyLookup, readOptionsFrom, type DnsSource, type ReaderSetup } from '../read/setup.js';
import { DEFAULT_LIMITS, type InputFileRecord, type Provenance, type RawMessage, type SourceLimits } from '../sources/types.js';
import { walkSources } from '../sources/walk.js';

export { keyLookup };

export interface CountRequest {
  paths: string[];
  election: string;
  roster: string;
  adjudications?: string | undefined;
  keys?: string | undefined;
  issued?: string | undefined;
  /** Live DNS for keys the pinned file lacks (`--dns`); what it finds is added to `fetched`. */
  dns?: DnsSource | undefined;
  limits?: Partial<SourceLimits & ReadLimits>;
  generator: string;
  /** Threads at work (`--jobs`): the main thread and jobs − 1 readers; default: one per core, up to 8. 1 reads on the main thread only. */
  jobs?: number | undefined;
  /** Told of the mailbox's size, and of each message as it is read (the progress bar). */
  progress?: Progress | undefined;
  /** The officer's secret, to make the tally sheet of receipts. */
  receiptSecret?: Buffer | undefined;
  /** Messages kept whole in memory before the rest are spilled to disk (default SPILL_AFTER). */
  spillAfter?: number | undefined;
  /** Messages read on the main thread before reader threads start (default IN_PROCESS_FIRST; tests set 0). */
  inProcessFirst?: number | undefined;
}

export interface Progress {
  start(totalBytes: number): void;
  read(raw: RawMessage): void;
  stop(): void;
}

/**
 * An input file once it is parsed: what the result and the messages name it by, and its SHA-256.
 * Its bytes are not kept for the count (a roster of 100,000 councils is 12 MB of them).
 */
export type InputFileRef = Omit<LoadedFile, 'bytes'>;

const parsed = (f: LoadedFile): InputFileRef => ({ name: f.name, path: f.path, sha256: f.sha256 });

export interface LoadedInputs {
  /** Whether keys the pinned file lacks were looked up in live DNS (--dns). */
  dnsLookups?: boolean;
  election: Election;
  roster: Roster;
  electionFile: InputFileRef;
  rosterFile: InputFileRef;
  adjudicationFile: InputFileRef | null;
  adjudicationRows: AdjudicationRow[];
  keysFile: InputFileRef | null;
  keys: TxtRecords;
  issuedFile: InputFileRef | null;
  issued: IssuedReferences | null;
}

/** Reads and validates the election, roster and adjudications; any problem stops the run before counting. */
export async function loadInputs(req: Pick<CountRequest, 'election' | 'roster' | 'adjudications' | 'keys' | 'issued'>): Promise<LoadedInputs> {
  const electionFile = await loadInputFile(req.election, 'election');
  const election = parseElection(electionFile);
  const rosterFile = await loadInputFile(req.roster, 'roster');
  const roster = parseRoster(rosterFile);
  let adjudicationFile: LoadedFile | null = null;
  let adjudicationRows: AdjudicationRow[] = [];
  if (req.adjudications !== undefined) {
    adjudicationFile = await loadInputFile(req.adjudications, 'adjudications');
    adjudicationRows = parseAdjudications(adjudicationFile);
  }
  let keysFile: LoadedFile | null = null;
  let keys: TxtRecords = new Map();
  if (req.keys !== undefined) {
    keysFile = await loadInputFile(req.keys, 'keys');
    keys = parseKeysFile(keysFile);
  }
  if (election.references === 'required' && req.issued === undefined) {
    throw new InputError(
      'ISSUED_REQUIRED',
      { file: electionFile.path, line: lineOfPath(new TextDecoder().decode(electionFile.bytes), ['references']), field: 'references' },
      'the election says "references": "required", so the count needs the issued.csv that `ccin-tally papers` wrote: add --issued FILE',
    );
  }
  let issuedFile: LoadedFile | null = null;
  let issued: IssuedReferences | null = null;
  if (req.issued !== undefined) {
    issuedFile = await loadInputFile(req.issued, 'issued');
    issued = parseIssued(issuedFile, roster, election.id);
  }
  return {
    election,
    roster,
    electionFile: parsed(electionFile),
    rosterFile: parsed(rosterFile),
    adjudicationFile: adjudicationFile && parsed(adjudicationFile),
    adjudicationRows,
    keysFile: keysFile && parsed(keysFile),
    keys,
    issuedFile: issuedFile && parsed(issuedFile),
    issued,
  };
}

/** Reads every message once, on every core when the mailbox is large; only the facts are kept, never a mailbox's bytes. */
export async function readMailbox(
  paths: readonly string[],
  election: Election,
  limits: SourceLimits & ReadLimits,
  lookup: TxtLookup | null,
  how: { threads?: { pinned: TxtRecords; jobs: number } | null; progress?: Progress | undefined; keep?: Keep<CountEntry>; inProcessFirst?: number | undefined } = {},
): Promise<{ entries: CountEntry[]; files: InputFileRecord[] }> {
  const { threads = null, progress, keep = (_i, e) => e, inProcessFirst } = how;
  const walk = walkSources(paths, limits);
  if (progress) void walk.plannedBytes().then((n) => progress.start(n));
  const setup: ReaderSetup = {
    receivedBy: election.receivedBy,
    limits,
    pinnedKeys: election.dkim === 'off' || lookup === null ? null : [...(threads?.pinned ?? new Map<string, string[][]>())],
    trustedAuthservIds: [...(election.authservId ?? []), ...(election.receivedBy ?? [])],
    service: election.receivedVia,
  };
  // Reader threads look keys up in the pinned file only; a count that may ask live DNS reads here.
  const options = readOptionsFrom(setup, lookup ?? undefined);
  try {
    // A mailbox known to be large is read on every core from its first message; any other, on the
    // main thread until it proves large (IN_PROCESS_FIRST messages). 10,000 messages in one mbox
    // (47 MB), five runs of each in turns: 4.17–4.83 s (median 4.48) from the first message, against
    // 4.45–5.27 s (median 4.89); no difference at 2,000 or 3,000, and 1,000 (5 MB) slower with threads.
    const first = inProcessFirst ?? (threads !== null && (await walk.isLarge()) ? 0 : undefined);
    const entries = await readAll<CountEntry>(walk.messages, options, {
      setup: threads ? setup : null,
      jobs: threads?.jobs ?? 1,
      onRead: progress ? (raw) => progress.read(raw) : undefined,
      keep,
      inProcessFirst: first,
    });
    return { entries, files: walk.files };
  } finally {
    progress?.stop();
  }
}

export async function runCount(req: CountRequest): Promise<ResultModel> {
  return (await countWithInputs(req)).result;
}

/** A count, and the inputs it loaded (the roster, for the receipts), so that nothing is read twice. */
export async function countWithInputs(req: CountRequest): Promise<{ result: ResultModel; inputs: LoadedInputs }> {
  const inputs = await loadInputs(req);
  if (inputs.election.dkim === 'require' && inputs.keys.size === 0 && !req.dns) {
    const where = inputs.keysFile ? { file: inputs.keysFile.path } : { file: inputs.electionFile.path, field: 'dkim' };
    throw new InputError(
      'NO_KEYS',
      where,
      inputs.keysFile
        ? 'the keys file holds no DKIM key, and the election says "dkim": "require": every ballot would be rejected unauthenticated. Give the councils\' keys (--keys), or look them up with --dns'
        : 'the election says "dkim": "require", but no keys were given (--keys FILE) and live DNS was not asked for (--dns): every ballot would be rejected unauthenticated',
    );
  }
  const limits = { ...DEFAULT_LIMITS, ...DEFAULT_READ_LIMITS, ...req.limits };
  const jobs = req.jobs ?? defaultJobs();
  const threads = req.dns === undefined && jobs > 1 ? { pinned: inputs.keys, jobs } : null;
  const keep = spilling(inputs, req.spillAfter ?? SPILL_AFTER);
  const { entries, files } = await readMailbox(req.paths, inputs.election, limits, keyLookup(inputs.keys, req.dns), { threads, progress: req.progress, keep, inProcessFirst: req.inProcessFirst });
  if (entries.length === 0) throw new InputError('NO_MESSAGES', { file: req.paths.join(', ') }, nothingRead(files));
  return { result: countMessages(entries, files, { ...inputs, dnsLookups: req.dns !== undefined }, limits, req.generator, req.receiptSecret ?? null), inputs };
}

/** Why a count read nothing: a result from no messages is never a declaration. */
function nothingRead(files: readonly InputFileRecord[]): string {
  const skipped = files.filter((f) => f.kind === 'skipped');
  if (skipped.length === 0) return 'no message was read: the mailbox paths hold no files. Check the path (an empty folder?)';
  const listed = skipped.slice(0, 8).map((f) => `${f.file} (${f.note ?? 'skipped'})`);
  return `no message was read; ${skipped.length} file(s) were not mail: ${listed.join('; ')}${skipped.length > 8 ? '; …' : ''}`;
}

/**
 * What the count keeps of a message: all of its facts; or, past SPILL_AFTER messages, slim facts
 * and judgement (what counting needs) with its evidence, already written out, spilled to disk.
 */
export interface CountEntry {
  source: Provenance;
  facts: MessageFacts;
  judgement?: Judgement;
  evidence?: SpilledEvidence;
}

/** A count keeps every message's facts in memory up to this many messages, and spills the rest. */
export const SPILL_AFTER = 2000;

/**
 * Keeps the first `after` messages whole; each one after them is judged here as it comes back from
 * its reader, its evidence written out once as text, and that text spilled. (Judging on the reader
 * threads was tried: each thread then needs the roster, some 75 MB apiece at 100,000 councils, and
 * a count of 100,000 messages took no less time: 48.8 s and 1.10 GB, against 46.8 s and 0.95 GB.)
 */
function spilling(inputs: LoadedInputs, after: number): Keep<CountEntry> {
  let files: SpillFiles | null = null;
  return (index, e) => {
    if (index < after) return { source: e.source, facts: e.facts };
    const compact = compactMessage(e.source, e.facts, judgeMessage(e.facts, inputs.election, inputs.roster, { issued: inputs.issued }));
    files ??= spillFiles(after);
    files.pretty.put(index, compact.evidence.pretty);
    files.canonical.put(index, compact.evidence.canonical);
    return { source: compact.source, facts: compact.facts, judgement: compact.judgement, evidence: { store: files.store, index } };
  };
}

interface SpillFiles {
  pretty: SpillFile;
  canonical: SpillFile;
  store: EvidenceStore;
}

/**
 * One spill file for each form of the text (the result file and the digest each read back only
 * their own), and the store the result's records read them from. Made apart from `spilling`, whose
 * closure holds the inputs: every spilled record holds the store until the outputs are written, and
 * a store made there would hold the roster and its index with it (60 MiB at 100,000 councils).
 */
function spillFiles(first: number): SpillFiles {
  const pretty = new SpillFile(first);
  const canonical = new SpillFile(first);
  return { pretty, canonical, store: { text: (i, form) => evidenceForm((form === 'pretty' ? pretty : canonical).get(i)) } };
}

/**
 * The pure middle of a count: messages already read, judged against the election and roster, one
 * vote per council, tallied. Nothing is read from files or the network here (a spilled message's
 * evidence aside); the same entries give the same result.
 */
export function countMessages(
  entries: readonly CountEntry[],
  files: InputFileRecord[],
  inputs: LoadedInputs,
  limits: SourceLimits & ReadLimits,
  generator: string,
  receiptSecret: Buffer | null = null,
): ResultModel {
  const duplicateOf = findDuplicateCopies(entries);
  const judged: JudgedMessage[] = entries.map((e, i) => {
    const dup = duplicateOf.get(i) ?? null;
    const judgement = dup ? null : (e.judgement ?? judgeMessage(e.facts, inputs.election, inputs.roster, { issued: inputs.issued }));
    return e.evidence ? { source: e.source, facts: e.facts, duplicateOf: dup, judgement, evidence: e.evidence } : { source: e.source, facts: e.facts, duplicateOf: dup, judgement };
  });
  // A council whose domain's key the officer pinned signs its mail: unsigned papers in its name go to the officer.
  const keyedCouncils = inputs.election.dkim === 'off' ? new Map<string, string>() : councilsWithPinnedKeys(inputs.roster, inputs.keys);
  const resolved = resolveDecisions(judged, inputs.adjudicationRows, inputs.election, inputs.adjudicationFile?.path ?? '', keyedCouncils);
  if (!resolved.ok) throw resolved.error;
  return buildResult({
    generator,
    election: inputs.election,
    roster: inputs.roster,
    files: {
      keys: inputs.keysFile ? { file: inputs.keysFile.name, sha256: inputs.keysFile.sha256, records: inputs.keys.size } : null,
      dns: inputs.dnsLookups === true,
      issued: inputs.issuedFile && inputs.issued ? { file: inputs.issuedFile.name, sha256: inputs.issuedFile.sha256, councils: inputs.issued.size } : null,
      election: { file: inputs.electionFile.name, sha256: inputs.electionFile.sha256 },
      roster: { file: inputs.rosterFile.name, sha256: inputs.rosterFile.sha256 },
      adjudications: inputs.adjudicationFile
        ? { file: inputs.adjudicationFile.name, sha256: inputs.adjudicationFile.sha256, rows: inputs.adjudicationRows.length }
        : null,
      mailbox: files,
    },
    limits,
    messages: judged,
    adjudications: resolved.value,
    receiptSecret,
    keyedCouncils,
  });
}
