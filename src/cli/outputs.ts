import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../model/errors.js';
import { Utf8Blocks } from './blocks.js';

/** A file the command will write, named by the option that asked for it. */
export interface OutputPath {
  option: string;
  path: string;
}

/** The path with its folder's links resolved (the file itself may not exist yet). */
function canonical(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

const inside = (child: string, parent: string): boolean => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
};

/**
 * Checks every output before anything is read or counted: its folder exists, it is not a folder,
 * it is not one of the inputs, it does not lie inside a mailbox folder (the next count would read
 * it as mail), and no two outputs are the same file. A mistake is an input error (exit 2) with a
 * sentence the officer can act on, never a report printed and then a crash.
 */
export function preflightOutputs(outputs: readonly OutputPath[], inputFiles: readonly string[], mailboxPaths: readonly string[]): void {
  const seen = new Map<string, string>();
  const inputs = inputFiles.map(canonical);
  const mailboxes = mailboxPaths.map(canonical);
  for (const o of outputs) {
    const where = { file: o.path, field: o.option };
    const target = canonical(o.path);
    const st = statSync(target, { throwIfNoEntry: false });
    if (st?.isDirectory()) throw new InputError('OUTPUT_INVALID', where, `${o.option} names a folder; give a file name in it, such as ${join(o.path, o.option === '--html' ? 'result.html' : o.option === '--json' ? 'result.json' : 'output')}`);
    const folder = dirname(target);
    const fst = statSync(folder, { throwIfNoEntry: false });
    if (!fst) throw new InputError('OUTPUT_INVALID', where, `${o.option}: the folder ${dirname(o.path)} does not exist; create it first`);
    if (!fst.isDirectory()) throw new InputError('OUTPUT_INVALID', where, `${o.option}: ${dirname(o.path)} is not a folder`);
    try {
      accessSync(folder, constants.W_OK);
    } catch {
      throw new InputError('OUTPUT_INVALID', where, `${o.option}: the folder ${dirname(o.path)} cannot be written to; choose another`);
    }
    if (inputs.includes(target)) throw new InputError('OUTPUT_INVALID', where, `${o.option} would overwrite an input of this count; choose another file name`);
    const box = mailboxes.find((m) => inside(target, m));
    if (box !== undefined) throw new InputError('OUTPUT_INVALID', where, `${o.option} would be written inside the mailbox export (${box}), and read as mail by the next count; write it elsewhere`);
    const twice = seen.get(target);
    if (twice !== undefined) throw new InputError('OUTPUT_INVALID', where, `${o.option} and ${twice} name the same file`);
    seen.set(target, o.option);
  }
}

/**
 * A folder a command writes several files into (`receipts --out`, `inspect --save-attachments`):
 * not a file, and not inside the mailbox export, where the next count would read what is written.
 */
export function preflightFolder(option: string, dir: string, mailboxPaths: readonly string[]): void {
  const where = { file: dir, field: option };
  const target = canonical(dir);
  const st = statSync(target, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new InputError('OUTPUT_INVALID', where, `${option} names a file, not a folder`);
  const box = mailboxPaths.map(canonical).find((m) => inside(target, m));
  if (box !== undefined) throw new InputError('OUTPUT_INVALID', where, `${option} would be written inside the mailbox export (${box}), and read as mail by the next count; write it elsewhere`);
}

/** Writes a file whole or not at all: a temporary file beside it, then a rename over the target. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { flag: 'wx' });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    throw new InputError('OUTPUT_INVALID', { file: path }, `cannot be written (${code})`);
  }
}

/**
 * As writeAtomic, for output made piece by piece (a large result): the pieces go to the temporary
 * file as they come, a block at a time (Utf8Blocks), and the file is renamed over the target when
 * whole.
 */
export function writeAtomicPieces(path: string, produce: (write: (s: string) => void) => void): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx');
    const out = fd;
    const blocks = new Utf8Blocks((bytes) => {
      for (let at = 0; at < bytes.length; ) at += writeSync(out, bytes, at, bytes.length - at);
    });
    // A piece that ends in the first half of a surrogate pair keeps it for the next piece, so that the
    // bytes are those of all the pieces joined, whatever their boundaries.
    let held = '';
    produce((piece) => {
      const s = held === '' ? piece : held + piece;
      const last = s.charCodeAt(s.length - 1);
      held = last >= 0xd800 && last <= 0xdbff ? s.slice(-1) : '';
      blocks.put(held === '' ? s : s.slice(0, -1));
    });
    blocks.put(held);
    blocks.flush();
    closeSync(out);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    throw new InputError('OUTPUT_INVALID', { file: path }, `cannot be written (${code})`);
  }
}
