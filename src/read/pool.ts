import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RawMessage, Provenance } from '../sources/types.js';
import { readSafely, type MessageFacts, type ReadOptions } from './message.js';
import type { ReaderSetup } from './setup.js';
import type { ReadDone, ReadJob } from './worker.js';

/**
 * Reading (MIME parse, DKIM, papers) is the cost of a count, and it is the same pure function for
 * every message: so it runs on every core. The main thread streams the mailbox and hands each
 * message to a reader thread (node:worker_threads: no dependency, and structured clone carries the
 * facts back); results are put back in input order, so the count is the same, byte for byte, as a
 * one-thread run. The main thread has work of its own (it judges each message as it comes back and
 * writes its evidence out), so `jobs` threads at work are the main thread and jobs − 1 readers: on
 * two cores, one reader (`npm run bench`, 100,000 messages: 39.8 s and 709 MiB with one reader,
 * against 42.8 s and 776 MiB with two, which left the three threads taking turns on two cores).
 * A small mailbox is read on the main thread alone: threads cost more to start than a few messages
 * cost to read. Starting a thread (it loads the reader's modules) cost about half a second here
 * (`npm run bench` at 1,000 messages: 1.66 s with threads from message 200, 1.02 s on the main
 * thread alone), so threads start only past the first thousand messages, unless the caller knows
 * the mailbox to be large before it is read (pipeline.ts: `inProcessFirst` 0).
 */
export const IN_PROCESS_FIRST = 1000;
/**
 * Messages handed to each reader and not yet back. Enough that a reader never runs dry while the
 * main thread is held up (a collection of its heap, judging a burst of results): 100,000 messages
 * took 36.5–37.6 s with 64, 42.0 s with 8, 38.9 s with 256. Bounded in bytes too, so that a mailbox
 * of large messages holds no more than IN_FLIGHT_BYTES of them at once (always at least one).
 */
const IN_FLIGHT_PER_THREAD = 64;
const IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export function defaultJobs(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

export interface ReadEntry {
  source: Provenance;
  facts: MessageFacts;
}

/** What the caller keeps of each message as it is read (the count may keep less than all of it). */
export type Keep<T> = (index: number, entry: ReadEntry) => T;

export const READER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 8, stackSizeMb: 1.15 } as const;

/** The worker's module: the compiled one beside this file, or (running from the sources) the TypeScript one through tsx. */
function spawn(setup: ReaderSetup): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const url = new URL(fromSources ? './worker-from-sources.mjs' : './worker.js', import.meta.url);
  // A small young generation: a reader thread's garbage is short-lived, and collecting it often keeps
  // each thread's memory small (10k messages, two runs each: 378–392 MB peak against 413–436 MB, in
  // 6.0–6.3 s against 5.6–5.9 s, within this machine's noise).
  //
  // The main thread's stack (V8's 984 KB), not a worker's default of 4 MB (Node keeps 192 KB of a
  // worker's stack in reserve: 1.15 MB gave 13,687 frames of a simple recursion against the main
  // thread's 13,683). The main thread reads messages too, and a message must read the same whichever
  // thread reads it: past the limits on nesting (HTML, Word, PDF, MIME) no reader recurses deep, but
  // if one ever did, it would now fail or succeed alike on every thread.
  return new Worker(url, { workerData: setup, resourceLimits: READER_RESOURCE_LIMITS });
}

/**
 * Reads every message of the stream; entries come back in the stream's order. `jobs` − 1 threads read
 * once the mailbox proves larger than IN_PROCESS_FIRST messages; `setup` null (a count that looks
 * keys up in live DNS) keeps all reading on the main thread.
 */
export interface ReadAllOptions<T> {
  /** Reader threads' setup; null (a count that looks keys up in live DNS) reads on the main thread only. */
  setup: ReaderSetup | null;
  /** Threads at work: the main thread and jobs − 1 reader threads; 1, the main thread alone. */
  jobs: number;
  /** Told of each message as it is taken from the mailbox (the progress bar). */
  onRead?: (raw: RawMessage) => void;
  keep: Keep<T>;
  /** Messages read on the main thread before threads start (default IN_PROCESS_FIRST). */
  inProcessFirst?: number | undefined;
  /** Messages handed to each reader ahead (default IN_FLIGHT_PER_THREAD; tests set it low to have the main thread read its share). */
  ahead?: number | undefined;
}

export async function readAll<T>(messages: AsyncIterable<RawMessage>, options: ReadOptions, how: ReadAllOptions<T>): Promise<T[]> {
  const { setup, jobs, onRead = () => undefined, keep, inProcessFirst = IN_PROCESS_FIRST, ahead = IN_FLIGHT_PER_THREAD } = how;
  const readers = jobs - 1;
  const entries: T[] = [];
  const workers: Worker[] = [];
  const busy: number[] = [];
  // What waits for each message handed to a reader: its provenance, size and reader, as data (no
  // promise and closures a message, which lived until the reply and then were garbage in the old
  // generation of V8's heap).
  const waiting = new Map<number, { source: Provenance; size: number; reader: number }>();
  let inFlight = 0;
  let inFlightBytes = 0;
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  let closing = false;
  const settle = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  try {
    let seq = 0;
    for await (const raw of messages) {
      const at = seq++;
      onRead(raw);
      if (setup === null || readers < 1 || at < inProcessFirst) {
        entries[at] = keep(at, { source: raw.source, facts: await readSafely(raw, options) });
        continue;
      }
      if (workers.length === 0) {
        for (let i = 0; i < readers; i++) {
          const w = spawn(setup);
          w.on('message', (done: ReadDone) => {
            const p = waiting.get(done.seq);
            if (p === undefined) return;
            waiting.delete(done.seq);
            try {
              entries[done.seq] = keep(done.seq, { source: p.source, facts: done.facts });
            } catch (e) {
              // A bug in what keeps the message: the count stops with it, as it would on this thread.
              failure ??= e as Error;
            }
            busy[p.reader]!--;
            inFlight--;
            inFlightBytes -= p.size;
            settle();
          });
          // A thread that dies is a bug (every bad message is a row, not an exception): stop the
          // count, never wait for it forever.
          const fail = (e: Error): void => {
            failure ??= e;
            waiting.clear();
            settle();
          };
          w.on('error', fail);
          w.on('exit', (code) => {
            if (!closing) fail(new Error(`a reader thread stopped (exit code ${code}) while messages were being read`));
          });
          workers.push(w);
          busy.push(0);
        }
      }
      if (failure) throw failure;
      if (inFlight >= readers * ahead || (inFlight > 0 && inFlightBytes + raw.bytes.length > IN_FLIGHT_BYTES)) {
        // The readers have their fill: rather than wait for them, the main thread reads this message
        // itself (reading is the same pure function wherever it runs, and the message keeps its place).
        // When reading costs more than judging (DKIM-signed mail), the main thread takes its share:
        // 100,000 signed messages took 81 s, against 98 s waiting.
        entries[at] = keep(at, { source: raw.source, facts: await readSafely(raw, options) });
        continue;
      }
      const k = busy.indexOf(Math.min(...busy));
      const size = raw.bytes.length;
      busy[k]!++;
      inFlight++;
      inFlightBytes += size;
      // Only the provenance waits for the reply: the message's own bytes (copied below) are not held
      // until its facts come back.
      waiting.set(at, { source: raw.source, size, reader: k });
      // A copy the thread owns: the mbox splitter's buffers may share memory with other messages.
      const bytes = new Uint8Array(raw.bytes);
      const job: ReadJob = { seq: at, source: raw.source, bytes, size: raw.size, sha256: raw.sha256, oversize: raw.oversize };
      workers[k]!.postMessage(job, [bytes.buffer]);
    }
    while (inFlight > 0 && failure === null) await new Promise<void>((r) => (wake = r));
    if (failure) throw failure;
    return entries;
  } finally {
    closing = true;
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
