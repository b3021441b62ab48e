import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Utf8Blocks } from './blocks.js';
import { beforeSignalEnd } from './signals.js';

/**
 * Where a large count keeps each message's evidence while it counts: a temporary file, one text
 * record per message (its evidence text in one form: report/evidence-text.ts), read back one at a
 * time when the result is written. Memory then holds a small record per message, not its evidence,
 * whatever the size of the mailbox. The file holds what the mail says (senders, subjects, choices):
 * it is deleted when the command ends, when the process exits, and when it is interrupted or
 * terminated (SIGINT, SIGTERM, SIGHUP) while a count runs.
 */
export class SpillFile {
  private readonly dir: string;
  private fd: number | null;
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private end = 0;
  /**
   * Records are written in the order of their index, whatever the order they are put in, so that
   * reading them back in that order (the result file, the digest) reads the file once, front to
   * back. They come some dozens of places out of order (a reader thread's messages, up to 64 in
   * flight each, come back after the ones the main thread reads itself meanwhile): such a record
   * waits here until those before it are put. Written in the order put, reading 100,000 messages'
   * records back in order read 4.15 GB in 29,157 reads (the blocks read ahead were thrown away at
   * each record out of place), against the files' 407 MB in 1,659 reads now.
   */
  private next: number;
  /** Records put ahead of their turn, as UTF-8 (outside V8's heap: a text waiting here would outlive a collection or two, then be garbage in its old generation). */
  private readonly waiting = new Map<number, Buffer>();

  /** `first`: the index of the first record that will be put (every index from it on is put, once). */
  constructor(first = 0) {
    this.next = first;
    this.dir = mkdtempSync(join(tmpdir(), 'ccin-tally-spill-'));
    this.fd = openSync(join(this.dir, 'messages.bin'), 'w+', 0o600);
    if (open.size === 0) stopListening = beforeSignalEnd(closeSpills);
    open.add(this);
  }

  /** Records not yet written: written a block at a time (Utf8Blocks), not with a system call each. */
  private readonly pending = new Utf8Blocks((bytes) => this.writeOut(bytes));
  private written = 0;

  /**
   * A message's record. It is kept as UTF-8, so it must be well-formed text: a lone surrogate would
   * come back as U+FFFD (JSON.stringify, which makes every text a record holds, writes one as an escape).
   */
  put(index: number, text: string): void {
    if (this.fd === null) throw new Error('internal: spill file used after it was closed');
    if (!(text as WellFormedText).isWellFormed()) throw new Error(`internal: spilled record ${index} is not well-formed text`);
    if (index < this.next || this.waiting.has(index)) throw new Error(`internal: spilled record ${index} put twice, or before the first`);
    if (index > this.next) {
      this.waiting.set(index, Buffer.from(text, 'utf8'));
      return;
    }
    this.append(index, text);
    for (let t = this.waiting.get(this.next); t !== undefined; t = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      this.append(this.next, t);
    }
  }

  /** Writes the record of index `this.next`, the next in order: its text, or its UTF-8 bytes. */
  private append(index: number, text: string | Buffer): void {
    this.next = index + 1;
    const length = this.pending.put(text);
    this.offsets[index] = this.end;
    this.lengths[index] = length;
    this.end += length;
  }

  private flush(): void {
    if (this.fd !== null) this.pending.flush();
  }

  /** Bytes at the file's end (put and flush write what is pending first). */
  private writeOut(chunk: Buffer): void {
    if (this.fd === null) return;
    for (let at = 0; at < chunk.length; ) at += writeSync(this.fd, chunk, at, chunk.length - at, this.written + at);
    this.written += chunk.length;
  }

  /** The part of the file read last: records are wanted in the order they were written, mostly. */
  private block: Buffer = Buffer.alloc(0);
  private blockStart = 0;
  private read = 0;
  /** Bytes read back from the file so far (reading in order costs each byte once). */
  get bytesRead(): number {
    return this.read;
  }
  /** Bytes of the records written to the file so far. */
  get bytesWritten(): number {
    return this.end;
  }

  get(index: number): string {
    // Still waiting for a record before it: never the case once every record is put.
    const waiting = this.waiting.get(index);
    if (waiting !== undefined) return waiting.toString('utf8');
    this.flush();
    const offset = this.offsets[index];
    const length = this.lengths[index];
    if (this.fd === null || offset === undefined || length === undefined) throw new Error(`internal: no spilled record ${index}`);
    const blockEnd = this.blockStart + this.block.length;
    if (offset < this.blockStart || offset + length > blockEnd) {
      // Reading on past the last block (the result file, the digest: in order), a block ahead; a
      // record that runs over the block's end keeps the part already read, so that reading in order
      // reads each byte once. Anywhere else, the record alone.
      const onward = this.block.length === 0 || (offset >= this.blockStart && offset < blockEnd + READ_AHEAD);
      const block = Buffer.allocUnsafe(onward ? Math.max(length, READ_AHEAD) : length);
      let got = 0;
      if (onward && offset < blockEnd) got = this.block.copy(block, 0, offset - this.blockStart);
      while (got < length) {
        const n = readSync(this.fd, block, got, block.length - got, offset + got);
        if (n === 0) throw new Error(`internal: spilled record ${index} is cut short`);
        got += n;
        this.read += n;
      }
      this.block = block.subarray(0, got);
      this.blockStart = offset;
    }
    return this.block.toString('utf8', offset - this.blockStart, offset - this.blockStart + length);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.dir, { recursive: true, force: true });
    open.delete(this);
    if (open.size === 0) stopListening();
  }
}


/** Read from the spill file at a time: some hundred records, one system call. */
const READ_AHEAD = 256 * 1024;

/** String.prototype.isWellFormed, in Node since 20 (V8 11.1), in TypeScript's lib from ES2024. */
type WellFormedText = string & { isWellFormed(): boolean };

const open = new Set<SpillFile>();
/** Spill files are deleted before a signal ends the process, while any is open (signals.ts). */
let stopListening = (): void => undefined;

/** Deletes every spill file still open: when a command has written its outputs, and at exit. */
export function closeSpills(): void {
  for (const s of [...open]) s.close();
}
process.once('exit', closeSpills);
