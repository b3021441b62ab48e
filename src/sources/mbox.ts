import { createHash, hash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';

/**
 * Splits an mbox stream into messages without holding more than one message in memory. Reads both
 * mboxrd and mboxo: a line ">From " (with any number of ">") loses one ">", which restores mboxrd
 * exactly and mboxo for the usual case of a body line that began "From ".
 *
 * A separator is a line "From <sender> <date>" at the start of the file or after an empty line.
 */
export interface MboxMessage {
  index: number;
  line: number;
  bytes: Buffer;
  size: number;
  sha256: string;
  oversize: boolean;
}

const SEPARATOR = /^From \S+ ?.*\d{1,2}:\d{2}/;

export async function* splitMbox(
  stream: Readable,
  maxMessageBytes: number,
  fileHash: Hash,
): AsyncGenerator<MboxMessage> {
  let carry: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  let prevBlank = true;
  let index = 0;
  let current: {
    line: number;
    parts: Buffer[];
    size: number;
    /** Hashed line by line only once the message is over the size limit and its lines are let go; else hashed whole at its end. */
    hash: Hash | null;
    oversize: boolean;
    pendingBlank: Buffer | null;
  } | null = null;
  let preamble: Preamble | null = null;

  const append = (line: Buffer): void => {
    if (!current) {
      // Text before the first separator: kept as a message of its own unless blank.
      preamble ??= { parts: [], size: 0, hash: createHash('sha256'), blank: true };
      if (line.toString('latin1').trim() !== '') preamble.blank = false;
      preamble.hash.update(line);
      preamble.size += line.length;
      if (preamble.size <= maxMessageBytes) preamble.parts.push(line);
      return;
    }
    // A blank line is held back: the one just before a separator belongs to the mbox, not the message.
    if (current.pendingBlank) {
      push(current.pendingBlank);
      current.pendingBlank = null;
    }
    if (isBlank(line)) {
      current.pendingBlank = line;
      return;
    }
    push(unescape(line));
  };
  const push = (b: Buffer): void => {
    if (!current) return;
    current.size += b.length;
    if (current.oversize) {
      current.hash?.update(b);
      return;
    }
    if (current.size > maxMessageBytes) {
      current.oversize = true;
      const h = createHash('sha256');
      for (const part of current.parts) h.update(part);
      h.update(b);
      current.hash = h;
      current.parts = [];
      return;
    }
    current.parts.push(b);
  };
  const finish = (): MboxMessage | null => {
    if (!current) return null;
    const bytes = current.oversize ? Buffer.alloc(0) : joined(current.parts, current.size);
    const m: MboxMessage = {
      index: ++index,
      line: current.line,
      bytes,
      size: current.size,
      sha256: current.hash ? current.hash.digest('hex') : hash('sha256', bytes),
      oversize: current.oversize,
    };
    current = null;
    return m;
  };
  const handle = (line: Buffer): MboxMessage | null => {
    lineNo++;
    const startsFrom = line.length >= 5 && line[0] === 0x46 && line.subarray(0, 5).toString('latin1') === 'From ';
    let emitted: MboxMessage | null = null;
    if (startsFrom && prevBlank && SEPARATOR.test(line.subarray(0, 200).toString('latin1'))) {
      if (preamble && !preamble.blank && !current) emitted = preambleMessage(preamble, ++index, maxMessageBytes);
      preamble = null;
      const done = finish();
      current = { line: lineNo, parts: [], size: 0, hash: null, oversize: false, pendingBlank: null };
      prevBlank = false;
      return done ?? emitted;
    }
    append(line);
    prevBlank = isBlank(line);
    return emitted;
  };

  /**
   * Lines of the current message that need nothing done (neither blank, nor a separator, nor an
   * escaped "From " line) are appended as they are: a run of them at once, as one piece, rather
   * than a piece a line (100,000 messages are some ten million lines: a Buffer each took 3 s).
   * The same bytes in the same order: the same message, size and hash.
   */
  const appendRun = (run: Buffer): void => {
    if (!current) return;
    if (current.pendingBlank) {
      push(current.pendingBlank);
      current.pendingBlank = null;
    }
    push(run);
  };

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    fileHash.update(chunk);
    let buf = chunk;
    let start = 0;
    if (carry.length > 0) {
      // The line the last chunk left unfinished, made whole on its own: the chunk is not copied.
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) buf = Buffer.concat([carry, chunk]);
      else {
        const out = handle(Buffer.concat([carry, chunk.subarray(0, nl + 1)]));
        if (out) yield out;
        start = nl + 1;
      }
    }
    let run = -1;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      if (current !== null && plainLine(buf, start, nl, prevBlank)) {
        lineNo++;
        prevBlank = false;
        if (run < 0) run = start;
        start = nl + 1;
        continue;
      }
      if (run >= 0) appendRun(buf.subarray(run, start));
      run = -1;
      const out = handle(buf.subarray(start, nl + 1));
      if (out) yield out;
      start = nl + 1;
    }
    if (run >= 0) appendRun(buf.subarray(run, start));
    buf = buf.subarray(start);
    // A line longer than the message limit is passed on in pieces so memory stays bounded.
    if (buf.length > maxMessageBytes) {
      const out = handle(buf);
      if (out) yield out;
      buf = Buffer.alloc(0);
    }
    carry = Buffer.from(buf);
  }
  if (carry.length > 0) {
    const out = handle(carry);
    if (out) yield out;
  }
  if (current) {
    const c = current as { pendingBlank: Buffer | null };
    c.pendingBlank = null; // the final blank line is the mbox's
    const done = finish();
    if (done) yield done;
  } else if (preamble !== null && !(preamble as Preamble).blank) {
    yield preambleMessage(preamble as Preamble, ++index, maxMessageBytes);
  }
}

/**
 * A message's pieces as one Buffer. Pieces that lie one after another in the same memory (a message
 * within one chunk of the file, no ">From " line un-escaped in it: nearly every one) are that memory
 * itself, not a copy; else they are copied into one.
 */
function joined(parts: readonly Buffer[], size: number): Buffer {
  const first = parts[0];
  if (first === undefined) return Buffer.alloc(0);
  let end = first.byteOffset + first.length;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.buffer !== first.buffer || p.byteOffset !== end) return Buffer.concat(parts, size);
    end += p.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

interface Preamble {
  parts: Buffer[];
  size: number;
  hash: Hash;
  blank: boolean;
}

/** Text before the first "From " line is kept as a message of its own, so that nothing is lost. */
function preambleMessage(p: Preamble, index: number, maxMessageBytes: number): MboxMessage {
  const oversize = p.size > maxMessageBytes;
  return { index, line: 1, bytes: oversize ? Buffer.alloc(0) : Buffer.concat(p.parts), size: p.size, sha256: p.hash.digest('hex'), oversize };
}

/**
 * Whether the line buf[start..nl] (its newline included) is appended to a message as it is: not
 * blank, not a possible separator ("From " after a blank line), not an escaped "From " line (">From ",
 * ">>From "…). What `handle` would append unchanged, told without making a Buffer of the line.
 */
function plainLine(buf: Buffer, start: number, nl: number, prevBlank: boolean): boolean {
  const length = nl - start + 1;
  const first = buf[start];
  if (length === 1 || (length === 2 && first === 0x0d)) return false;
  if (first === 0x46) return !prevBlank;
  if (first !== 0x3e) return true;
  let i = start;
  while (i < nl && buf[i] === 0x3e) i++;
  return !(nl - i >= 5 && buf[i] === 0x46 && buf[i + 1] === 0x72 && buf[i + 2] === 0x6f && buf[i + 3] === 0x6d && buf[i + 4] === 0x20);
}

function isBlank(line: Buffer): boolean {
  return line.length === 0 || (line.length === 1 && line[0] === 0x0a) || (line.length === 2 && line[0] === 0x0d && line[1] === 0x0a);
}

function unescape(line: Buffer): Buffer {
  if (line[0] !== 0x3e) return line;
  let i = 0;
  while (i < line.length && line[i] === 0x3e) i++;
  if (line.length - i >= 5 && line.subarray(i, i + 5).toString('latin1') === 'From ') return line.subarray(1);
  return line;
}

/** Whether a file's first bytes look like an mbox. */
export function looksLikeMbox(head: Buffer): boolean {
  return SEPARATOR.test(head.subarray(0, 200).toString('latin1').split('\n')[0] ?? '');
}
