import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
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
  let total = 0;
  for (const p of planned) if (p.kind !== 'skip') total += (await stat(p.path).catch(() => null))?.size ?? 0;
  reportBytes(total);
  for (const p of planned) {
    try {
      yield* readPlanned(p, limits, files);
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
    for (const entry of entries) {
      const full = join(dir, entry);
      const childName = `${name}/${entry}`;
      const st = await stat(full).catch(() => null);
      if (st === null) {
        out.push({ path: full, name: childName, kind: 'skip', note: 'a link to nothing' });
      } else if (st.isDirectory()) {
        if (isMaildir && (entry === 'cur' || entry === 'new')) {
          for (const m of (await readdir(full)).sort(byName)) {
            const mailPath = join(full, m);
            const mailStat = await stat(mailPath).catch(() => null);
            if (mailStat?.isFile()) await addFile(mailPath, `${childName}/${m}`, 'maildir');
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
      } else if (st.isFile()) {
        await addFile(full, childName, 'sniff');
      } else {
        out.push({ path: full, name: childName, kind: 'skip', note: 'not a regular file (a device, socket or pipe)' });
      }
    }
  };
  const addFile = async (path: string, name: string, kind: Planned['kind'], explicit = false): Promise<void> => {
    const real = await realpath(path);
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
    else if (st.isFile()) await addFile(p, displayName(p), 'sniff', true);
    else throw new InputError('FILE_UNREADABLE', { file: p }, 'not a file or folder (a device, socket or pipe cannot be a mailbox)');
  }
  return out;
}

async function sniff(path: string, name: string): Promise<SourceKind | { skip: string; container?: Container }> {
  const lower = name.toLowerCase();
  if (lower.endsWith('.msg')) return 'msg';
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const h = head.subarray(0, bytesRead);
    if (h.length >= 8 && h.readUInt32BE(0) === 0xd0cf11e0) return 'msg'; // OLE compound file
    if (looksLikeMbox(h)) return 'mbox';
    const container = recogniseContainer(h, lower);
    if (container) return { skip: `${container.what}, not read: ${container.howTo}`, container };
    if (lower.endsWith('.eml') || lower.endsWith('.mbox') || lower.endsWith('.mbx')) return lower.endsWith('.eml') ? 'eml' : 'mbox';
    const firstLine = h.toString('latin1').split(/\r?\n/)[0] ?? '';
    if (/^[!-9;-~]+:/.test(firstLine)) return 'eml';
    return { skip: bytesRead === 0 ? 'empty file' : 'not a mail file (no header at the start)' };
  } finally {
    await fh.close();
  }
}

async function* readPlanned(p: Planned, limits: SourceLimits, files: InputFileRecord[]): AsyncGenerator<RawMessage> {
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
  let kind: SourceKind | { skip: string; container?: Container } = p.kind === 'sniff' ? await sniff(p.path, p.name) : p.kind;
  if (p.kind === 'maildir') {
    // Maildir also holds dot-files and index files of mail clients; only real messages are read.
    const k = await sniff(p.path, p.name);
    kind = typeof k === 'object' ? k : 'maildir';
  }
  const fileHash = createHash('sha256');
  if (typeof kind === 'object' && kind.container && p.explicit) {
    // Named on the command line: the officer meant it to be read, so say what it is and stop.
    throw new InputError('NOT_MAIL', { file: p.path }, `this is ${kind.container.what}, which ccin-tally cannot read: ${kind.container.howTo}`);
  }
  if (typeof kind === 'object') {
    const st = await stat(p.path);
    for await (const chunk of createReadStream(p.path)) fileHash.update(chunk as Buffer);
    files.push({ file: p.name, kind: 'skipped', sha256: fileHash.digest('hex'), bytes: st.size, messages: 0, note: kind.skip });
    return;
  }
  const st = await stat(p.path);
  const record: InputFileRecord = { file: p.name, kind, sha256: '', bytes: st.size, messages: 0 };
  files.push(record);
  if (kind === 'mbox') {
    for await (const m of splitMbox(createReadStream(p.path, { highWaterMark: 1 << 20 }), limits.maxMessageBytes, fileHash)) {
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
  for await (const chunk of createReadStream(p.path, { highWaterMark: 1 << 20 })) {
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
