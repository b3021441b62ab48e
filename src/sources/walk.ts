import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { open, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InputError } from '../model/errors.js';
import { displayName } from '../inputs/files.js';
import { recogniseContainer, type Container } from './containers.js';
import { looksLikeMbox, splitMbox } from './mbox.js';
import type { InputFileRecord, Provenance, RawMessage, SourceKind, SourceLimits } from './types.js';

/**
 * Turns command-line paths into a stream of raw messages, one at a time, with provenance and
 * SHA-256. Each input file is recorded (with its own SHA-256) in `files` as it is read.
 */
export interface SourceWalk {
  messages: AsyncGenerator<RawMessage>;
  /** Filled in while `messages` is consumed. */
  files: InputFileRecord[];
  /** The bytes of every file to be read, known once the paths are planned (for a progress bar). */
  plannedBytes: Promise<number>;
}

interface Planned {
  path: string;
  name: string;
  kind: SourceKind | 'sniff' | 'skip';
  /** Why a path is skipped (kind 'skip'). */
  note?: string;
  /** Named on the command line itself, not met inside a folder. */
  explicit?: boolean;
  /** A skipped file that is still recorded with its SHA-256 and size (a Maildir's tmp message). */
  hash?: boolean;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function walkSources(paths: readonly string[], limits: SourceLimits): SourceWalk {
  const files: InputFileRecord[] = [];
  let reportBytes: (n: number) => void = () => undefined;
  const plannedBytes = new Promise<number>((resolve) => (reportBytes = resolve));
  return { files, messages: generate(paths, limits, files, reportBytes), plannedBytes };
}

async function* generate(paths: readonly string[], limits: SourceLimits, files: InputFileRecord[], reportBytes: (n: number) => void): AsyncGenerator<RawMessage> {
  let planned: Planned[];
  try {
    planned = await plan(paths);
  } catch (e) {
    // A folder of the mailbox that cannot be listed (permissions, removed meanwhile): an input error naming it.
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === undefined) throw e;
    throw new InputError('FILE_UNREADABLE', { file: err.path ?? paths.join(', ') }, `mailbox folder cannot be read (${err.code})`);
  }
  // The files' sizes, asked many at a time: a folder of 100,000 messages is 100,000 questions to the disk.
  const sizes = await eachLimited(planned, AHEAD, async (p) => (p.kind === 'skip' ? 0 : ((await stat(p.path).catch(() => null))?.size ?? 0)));
  reportBytes(sizes.reduce((a, b) => a + b, 0));
  // Small files (a folder of .eml, a Maildir) are read a window ahead, many at a time, while the
  // messages before them are counted; each is still read whole, hashed and passed on in order.
  const ahead: Promise<Buffer | null>[] = [];
  let next = 0;
  const prefetch = (i: number): Promise<Buffer | null> => {
    const p = planned[i]!;
    return p.kind !== 'skip' && (sizes[i] ?? Infinity) <= PREFETCH_MAX ? readFile(p.path).catch(() => null) : Promise.resolve(null);
  };
  for (let i = 0; i < planned.length; i++) {
    while (next < planned.length && next < i + AHEAD) ahead.push(prefetch(next++));
    const whole = await ahead.shift()!;
    const p = planned[i]!;
    try {
      yield* readPlanned(p, limits, files, whole !== null && whole.length <= PREFETCH_MAX ? whole : null);
    } catch (e) {
      // A mailbox file that cannot be read (permissions, removed while reading) stops the count:
      // an input error naming the file, not an internal one.
      if (e instanceof InputError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === undefined) throw e;
      throw new InputError('FILE_UNREADABLE', { file: p.path }, `mailbox file cannot be read (${code})`);
    }
  }
}

/** Files read ahead, and questions to the disk asked at once. */
const AHEAD = 32;
/** Files no larger than this are read ahead whole (an mbox or a large message is streamed as it is read). */
const PREFETCH_MAX = 1 << 20;

/** `f` of every item, at most `limit` at a time, in the items' order. */
async function eachLimited<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Every file to read, in an order that does not depend on argument order; a file reached twice is read once. */
export async function plan(paths: readonly string[]): Promise<Planned[]> {
  const seen = new Set<string>();
  const out: Planned[] = [];
  const visitDir = async (dir: string, name: string, visitedDirs: Set<string>): Promise<void> => {
    const real = await realpath(dir);
    if (visitedDirs.has(real)) return;
    visitedDirs.add(real);
    const entries = (await readdir(dir, { withFileTypes: true })).map((e) => e.name).sort(byName);
    // A Maildir holds cur, new and tmp; a copy of one (git, a zip, a sync) keeps only the folders
    // that hold something, so cur alone marks it too: the same mailbox reads the same from any copy.
    const isMaildir = entries.includes('cur');
    // Each entry's kind and real path are asked many at a time, then taken in order.
    const looked = await eachLimited(entries, AHEAD, (entry) => lookUp(join(dir, entry)));
    for (const [k, entry] of entries.entries()) {
      const full = join(dir, entry);
      const childName = `${name}/${entry}`;
      const { st, real } = looked[k]!;
      if (st === null) {
        out.push({ path: full, name: childName, kind: 'skip', note: 'a link to nothing' });
      } else if (st.isDirectory()) {
        if (isMaildir && (entry === 'cur' || entry === 'new')) {
          const mails = (await readdir(full)).sort(byName);
          const mailLooked = await eachLimited(mails, AHEAD, (m) => lookUp(join(full, m)));
          for (const [j, m] of mails.entries()) {
            const mailPath = join(full, m);
            const found = mailLooked[j]!;
            if (found.st?.isFile() && found.real !== null) addFile(mailPath, found.real, `${childName}/${m}`, 'maildir');
            else out.push({ path: mailPath, name: `${childName}/${m}`, kind: 'skip', note: 'not a message file in a Maildir folder' });
          }
        } else if (isMaildir && entry === 'tmp') {
          // Messages still being delivered are not read, but each is named, so that none goes unseen.
          for (const m of (await readdir(full)).sort(byName)) {
            out.push({ path: join(full, m), name: `${childName}/${m}`, kind: 'skip', hash: true, note: 'in the Maildir\'s tmp folder: a message still being delivered when the mailbox was exported, not read' });
          }
        } else {
          await visitDir(full, childName, visitedDirs);
        }
      } else if (st.isFile() && real !== null) {
        addFile(full, real, childName, 'sniff');
      } else {
        out.push({ path: full, name: childName, kind: 'skip', note: 'not a regular file (a device, socket or pipe)' });
      }
    }
  };
  /** What a path is, and (for a file) its real path: a file reached twice is read once. */
  const lookUp = async (path: string): Promise<{ st: Stats | null; real: string | null }> => {
    const st = await stat(path).catch(() => null);
    return { st, real: st?.isFile() ? await realpath(path) : null };
  };
  const addFile = (path: string, real: string, name: string, kind: Planned['kind'], explicit = false): void => {
    if (seen.has(real)) return;
    seen.add(real);
    out.push({ path, name, kind, explicit });
  };
  const sorted = [...paths].sort((a, b) => byName(displayName(a), displayName(b)) || byName(a, b));
  for (const p of sorted) {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new InputError('FILE_NOT_FOUND', { file: p }, 'mailbox path not found');
    }
    if (st.isDirectory()) await visitDir(p, displayName(p), new Set());
    else if (st.isFile()) addFile(p, await realpath(p), displayName(p), 'sniff', true);
    else throw new InputError('FILE_UNREADABLE', { file: p }, 'not a file or folder (a device, socket or pipe cannot be a mailbox)');
  }
  return out;
}

async function sniff(path: string, name: string, whole: Buffer | null): Promise<SourceKind | { skip: string; container?: Container }> {
  const lower = name.toLowerCase();
  if (lower.endsWith('.msg')) return 'msg';
  if (whole !== null) return sniffHead(whole.subarray(0, 512), lower);
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    return sniffHead(head.subarray(0, bytesRead), lower);
  } finally {
    await fh.close();
  }
}

/** What a file is, from its first 512 bytes and its name (lower case). */
function sniffHead(h: Buffer, lower: string): SourceKind | { skip: string; container?: Container } {
  if (h.length >= 8 && h.readUInt32BE(0) === 0xd0cf11e0) return 'msg'; // OLE compound file
  if (looksLikeMbox(h)) return 'mbox';
  const container = recogniseContainer(h, lower);
  if (container) return { skip: `${container.what}, not read: ${container.howTo}`, container };
  if (lower.endsWith('.eml') || lower.endsWith('.mbox') || lower.endsWith('.mbx')) return lower.endsWith('.eml') ? 'eml' : 'mbox';
  const firstLine = h.toString('latin1').split(/\r?\n/)[0] ?? '';
  if (/^[!-9;-~]+:/.test(firstLine)) return 'eml';
  return { skip: h.length === 0 ? 'empty file' : 'not a mail file (no header at the start)' };
}

/** Reads one planned file; `whole` is its content when it was read ahead, else it is read here. */
async function* readPlanned(p: Planned, limits: SourceLimits, files: InputFileRecord[], whole: Buffer | null): AsyncGenerator<RawMessage> {
  if (p.kind === 'skip') {
    const st = p.hash ? await stat(p.path).catch(() => null) : null;
    if (st?.isFile()) {
      const h = createHash('sha256');
      for await (const chunk of createReadStream(p.path)) h.update(chunk as Buffer);
      files.push({ file: p.name, kind: 'skipped', sha256: h.digest('hex'), bytes: st.size, messages: 0, note: p.note ?? 'skipped' });
      return;
    }
    files.push({ file: p.name, kind: 'skipped', sha256: '', bytes: 0, messages: 0, note: p.note ?? 'skipped' });
    return;
  }
  let kind: SourceKind | { skip: string; container?: Container } = p.kind === 'sniff' ? await sniff(p.path, p.name, whole) : p.kind;
  if (p.kind === 'maildir') {
    // Maildir also holds dot-files and index files of mail clients; only real messages are read.
    const k = await sniff(p.path, p.name, whole);
    kind = typeof k === 'object' ? k : 'maildir';
  }
  const fileHash = createHash('sha256');
  if (typeof kind === 'object' && kind.container && p.explicit) {
    // Named on the command line: the officer meant it to be read, so say what it is and stop.
    throw new InputError('NOT_MAIL', { file: p.path }, `this is ${kind.container.what}, which ccin-tally cannot read: ${kind.container.howTo}`);
  }
  if (typeof kind === 'object') {
    const size = whole !== null ? whole.length : (await stat(p.path)).size;
    if (whole !== null) fileHash.update(whole);
    else for await (const chunk of createReadStream(p.path)) fileHash.update(chunk as Buffer);
    files.push({ file: p.name, kind: 'skipped', sha256: fileHash.digest('hex'), bytes: size, messages: 0, note: kind.skip });
    return;
  }
  const record: InputFileRecord = { file: p.name, kind, sha256: '', bytes: whole !== null ? whole.length : (await stat(p.path)).size, messages: 0 };
  files.push(record);
  if (kind === 'mbox') {
    const stream = whole !== null ? Readable.from([whole]) : createReadStream(p.path, { highWaterMark: 1 << 20 });
    for await (const m of splitMbox(stream, limits.maxMessageBytes, fileHash)) {
      record.messages++;
      const source: Provenance = { file: p.name, kind, index: m.index, line: m.line };
      yield { source, bytes: m.bytes, size: m.size, sha256: m.sha256, oversize: m.oversize };
    }
    record.sha256 = fileHash.digest('hex');
    return;
  }
  // One message per file: hashed while read; bytes kept only within the size limit.
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of whole !== null ? [whole] : createReadStream(p.path, { highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    fileHash.update(b);
    size += b.length;
    if (size <= limits.maxMessageBytes) parts.push(b);
  }
  record.sha256 = fileHash.digest('hex');
  record.messages = 1;
  const oversize = size > limits.maxMessageBytes;
  yield {
    source: { file: p.name, kind, index: null, line: null },
    bytes: oversize ? Buffer.alloc(0) : Buffer.concat(parts),
    size,
    sha256: record.sha256,
    oversize,
  };
}
