import { createHash } from 'node:crypto';
import { close as fsClose, createReadStream, fstat as fsFstat, open as fsOpen, read as fsRead, type Dirent } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
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
  /**
   * The bytes of every file to be read (for a progress bar): each file's size is asked of the disk
   * only when this is called, beside the reading, never before it (a folder of 100,000 messages is
   * 100,000 questions). Resolves to 0 when the paths cannot be planned (`messages` says why).
   */
  plannedBytes: () => Promise<number>;
  /**
   * Whether the mailbox is known to be large before it is read (worth reading on every core from
   * its first message): LARGE_FILES files or more, or LARGE_BYTES or more in a few files (an mbox).
   * Only the few files' sizes are asked of the disk; a mailbox that cannot be planned is not large
   * (`messages` says why).
   */
  isLarge: () => Promise<boolean>;
}

/** A folder of this many message files is large. */
const LARGE_FILES = 8000;
/** A mailbox of at most FEW_FILES files is large at this many bytes. */
const LARGE_BYTES = 32 * 1024 * 1024;
const FEW_FILES = 64;

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

interface Looked {
  what: 'file' | 'dir' | 'missing' | 'other';
  real: string | null;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function walkSources(paths: readonly string[], limits: SourceLimits): SourceWalk {
  const files: InputFileRecord[] = [];
  let planning: Promise<Planned[]> | null = null;
  const planned = (): Promise<Planned[]> => (planning ??= plan(paths));
  let sizes: Promise<number> | null = null;
  const plannedBytes = (): Promise<number> => (sizes ??= planned().then(bytesOf, () => 0));
  const isLarge = (): Promise<boolean> =>
    planned().then(
      async (all) => {
        const read = all.filter((p) => p.kind !== 'skip');
        if (read.length >= LARGE_FILES) return true;
        return read.length <= FEW_FILES && (await bytesOf(read)) >= LARGE_BYTES;
      },
      () => false,
    );
  return { files, messages: generate(paths, planned, limits, files), plannedBytes, isLarge };
}

/** The bytes of the planned files that are to be read, each asked of the disk (a file gone meanwhile: 0). */
async function bytesOf(planned: readonly Planned[]): Promise<number> {
  const sizes = await eachLimited(planned, AHEAD, async (p) => (p.kind === 'skip' ? 0 : ((await stat(p.path).catch(() => null))?.size ?? 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

async function* generate(paths: readonly string[], planned: () => Promise<Planned[]>, limits: SourceLimits, files: InputFileRecord[]): AsyncGenerator<RawMessage> {
  let all: Planned[];
  try {
    all = await planned();
  } catch (e) {
    // A folder of the mailbox that cannot be listed (permissions, removed meanwhile): an input error naming it.
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === undefined) throw e;
    throw new InputError('FILE_UNREADABLE', { file: err.path ?? paths.join(', ') }, `mailbox folder cannot be read (${err.code})`);
  }
  // Small files (a folder of .eml, a Maildir) are read a window ahead, many at a time, while the
  // messages before them are counted; each is still read whole, hashed and passed on in order.
  // A larger one (an mbox, a large message) is streamed when its turn comes.
  const ahead: Promise<Buffer | null>[] = [];
  let next = 0;
  const prefetch = (i: number): Promise<Buffer | null> => {
    const p = all[i]!;
    return p.kind !== 'skip' ? readSmall(p.path, PREFETCH_MAX) : Promise.resolve(null);
  };
  for (let i = 0; i < all.length; i++) {
    while (next < all.length && next < i + AHEAD) ahead.push(prefetch(next++));
    const whole = await ahead.shift()!;
    const p = all[i]!;
    try {
      yield* readPlanned(p, limits, files, whole);
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

/**
 * A regular file's bytes when it holds no more than `max`, else null (as on any error: the file is
 * then read, and any error reported, in its turn). One open, one fstat, the reads and a close,
 * through node:fs's callbacks: for 100,000 small files here, 3.3 s and 5.9 s of CPU (the thread
 * pool's included), against 6.3 s and 10.3 s of CPU for fs/promises' readFile.
 */
function readSmall(path: string, max: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    fsOpen(path, 'r', (openError, fd) => {
      if (openError) return resolve(null);
      const done = (b: Buffer | null): void => fsClose(fd, () => resolve(b));
      fsFstat(fd, (statError, st) => {
        if (statError || !st.isFile() || st.size > max) return done(null);
        const buf = Buffer.allocUnsafe(st.size);
        let got = 0;
        const more = (): void => {
          if (got === buf.length) return done(buf);
          fsRead(fd, buf, got, buf.length - got, got, (readError, n) => {
            if (readError) return done(null);
            // Shorter than its size said (cut while being read): what is there is the file.
            if (n === 0) return done(buf.subarray(0, got));
            got += n;
            more();
          });
        };
        more();
      });
    });
  });
}

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
    const dirents = (await readdir(dir, { withFileTypes: true })).sort((x, y) => byName(x.name, y.name));
    // A Maildir holds cur, new and tmp; a copy of one (git, a zip, a sync) keeps only the folders
    // that hold something, so cur alone marks it too: the same mailbox reads the same from any copy.
    const isMaildir = dirents.some((e) => e.name === 'cur');
    const looked = await lookUpAll(dirents, dir, real);
    for (const [k, entry] of dirents.entries()) {
      const full = join(dir, entry.name);
      const childName = `${name}/${entry.name}`;
      const { what, real: realFile } = looked[k]!;
      if (what === 'missing') {
        out.push({ path: full, name: childName, kind: 'skip', note: 'a link to nothing' });
      } else if (what === 'dir') {
        if (isMaildir && (entry.name === 'cur' || entry.name === 'new')) {
          const mails = (await readdir(full, { withFileTypes: true })).sort((x, y) => byName(x.name, y.name));
          const mailLooked = await lookUpAll(mails, full, await realpath(full));
          for (const [j, m] of mails.entries()) {
            const mailPath = join(full, m.name);
            const found = mailLooked[j]!;
            if (found.what === 'file' && found.real !== null) addFile(mailPath, found.real, `${childName}/${m.name}`, 'maildir');
            else out.push({ path: mailPath, name: `${childName}/${m.name}`, kind: 'skip', note: 'not a message file in a Maildir folder' });
          }
        } else if (isMaildir && entry.name === 'tmp') {
          // Messages still being delivered are not read, but each is named, so that none goes unseen.
          for (const m of (await readdir(full)).sort(byName)) {
            out.push({ path: join(full, m), name: `${childName}/${m}`, kind: 'skip', hash: true, note: 'in the Maildir\'s tmp folder: a message still being delivered when the mailbox was exported, not read' });
          }
        } else {
          await visitDir(full, childName, visitedDirs);
        }
      } else if (what === 'file' && realFile !== null) {
        addFile(full, realFile, childName, 'sniff');
      } else {
        out.push({ path: full, name: childName, kind: 'skip', note: 'not a regular file (a device, socket or pipe)' });
      }
    }
  };
  /**
   * What each entry of a folder is, and (for a file) its real path, so that a file reached twice is
   * read once. The folder's listing says what most entries are: a plain file's real path is the
   * folder's real path and its name, asked of no one. Only a link (or an entry whose kind the file
   * system did not say) is looked up, many at a time: a folder of 100,000 messages is not 200,000
   * questions to the disk before the first is read.
   */
  const lookUpAll = (entries: readonly Dirent[], dir: string, realDir: string): Promise<Looked[]> =>
    eachLimited(entries, AHEAD, async (e): Promise<Looked> => {
      if (e.isFile()) return { what: 'file', real: join(realDir, e.name) };
      if (e.isDirectory()) return { what: 'dir', real: null };
      const path = join(dir, e.name);
      const st = await stat(path).catch(() => null);
      if (st === null) return { what: 'missing', real: null };
      if (st.isDirectory()) return { what: 'dir', real: null };
      return st.isFile() ? { what: 'file', real: await realpath(path) } : { what: 'other', real: null };
    });
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
    // Read ahead whole: its own buffer, passed on as it is; streamed: the chunks joined.
    bytes: oversize ? Buffer.alloc(0) : whole ?? Buffer.concat(parts),
    size,
    sha256: record.sha256,
    oversize,
  };
}
