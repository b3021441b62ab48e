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

  put(index: number, value: unknown): void {
    if (this.fd === null) throw new Error('internal: spill file used after it was closed');
    const bytes = serialize(value);
    writeSync(this.fd, bytes, 0, bytes.length, this.end);
    this.offsets[index] = this.end;
    this.lengths[index] = bytes.length;
    this.end += bytes.length;
  }

  get<T>(index: number): T {
    const offset = this.offsets[index];
    const length = this.lengths[index];
    if (this.fd === null || offset === undefined || length === undefined) throw new Error(`internal: no spilled record ${index}`);
    const bytes = Buffer.allocUnsafe(length);
    readSync(this.fd, bytes, 0, length, offset);
    return deserialize(bytes) as T;
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
