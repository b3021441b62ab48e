/**
 * A reader thread: receives raw messages, returns their facts. The same readMessage as the main
 * thread runs, with the same options rebuilt from plain data, so facts are the same wherever read.
 * In a large count it also judges each message and writes its evidence out (the same functions
 * again), and returns only what the count keeps.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readSafely, type MessageFacts } from './message.js';
import { readOptionsFrom, type ReaderSetup } from './setup.js';
import type { Provenance } from '../sources/types.js';
import { judgeMessage } from '../judge/judge.js';
import { compactMessage, type CompactMessage } from '../count/compact.js';

export interface ReadJob {
  seq: number;
  source: Provenance;
  bytes: Uint8Array;
  size: number;
  sha256: string;
  oversize: boolean;
}
export type ReadDone = { seq: number; facts: MessageFacts } | { seq: number; compact: CompactMessage };

const setup = workerData as ReaderSetup;
const options = readOptionsFrom(setup);
const judge = setup.judge;
parentPort?.on('message', (job: ReadJob) => {
  const raw = { source: job.source, bytes: Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), size: job.size, sha256: job.sha256, oversize: job.oversize };
  void readSafely(raw, options).then((facts) => {
    if (judge && job.seq >= judge.from) {
      const judgement = judgeMessage(facts, judge.election, judge.roster, { issued: judge.issued });
      const compact = compactMessage(job.source, facts, judgement);
      // The evidence text goes over as bytes, transferred: the main thread only writes them to the spill file.
      parentPort?.postMessage({ seq: job.seq, compact } satisfies ReadDone, [compact.evidence.buffer as ArrayBuffer]);
    } else {
      parentPort?.postMessage({ seq: job.seq, facts } satisfies ReadDone);
    }
  });
});
