import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';

/**
 * Where a large count keeps what it read of each message while it counts: a temporary file, one
 * structured-clone record per message, read back one at a time when a message's evidence is
 * written out. Memory then holds a small record per message, not its facts, whatever the size of
 * the mailbox. The file is deleted when the command ends (or the process exits).
 */
export class SpillFile {
  private readonly dir: string;
  private fd: number | null;
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private end = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'ccin-tally-spill-'));
    this.fd = openSync(join(this.dir, 'messages.bin'), 'w+', 0o600);
    open.add(this);
  }

  /** Records not yet written: written a megabyte at a time, not with a system call each. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private written = 0;

  put(index: number, value: unknown): void {
    this.putBytes(index, serialize(value));
  }

  /** A record already serialised (v8.serialize). */
  putBytes(index: number, bytes: Uint8Array): void {
    if (this.fd === null) throw new Error('internal: spill file used after it was closed');
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.offsets[index] = this.end;
    this.lengths[index] = bytes.length;
    this.end += bytes.length;
    if (this.pendingBytes >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    writeSync(this.fd, chunk, 0, chunk.length, this.written);
    this.written += chunk.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  get<T>(index: number): T {
    return deserialize(this.getBytes(index)) as T;
  }

  getBytes(index: number): Buffer {
    this.flush();
    const offset = this.offsets[index];
    const length = this.lengths[index];
    if (this.fd === null || offset === undefined || length === undefined) throw new Error(`internal: no spilled record ${index}`);
    const bytes = Buffer.allocUnsafe(length);
    readSync(this.fd, bytes, 0, length, offset);
    return bytes;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.dir, { recursive: true, force: true });
    open.delete(this);
  }
}

const open = new Set<SpillFile>();
/** Deletes every spill file still open: when a command has written its outputs, and at exit. */
export function closeSpills(): void {
  for (const s of [...open]) s.close();
}
process.once('exit', closeSpills);
