/**
 * A reader thread: receives raw messages, returns their facts. The same readMessage as the main
 * thread runs, with the same options rebuilt from plain data, so facts are the same wherever read.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readSafely, type MessageFacts } from './message.js';
import { readOptionsFrom, type ReaderSetup } from './setup.js';
import type { Provenance } from '../sources/types.js';

export interface ReadJob {
  seq: number;
  source: Provenance;
  bytes: Uint8Array;
  size: number;
  sha256: string;
  oversize: boolean;
}
export interface ReadDone {
  seq: number;
  facts: MessageFacts;
}

const options = readOptionsFrom(workerData as ReaderSetup);
parentPort?.on('message', (job: ReadJob) => {
  const raw = { source: job.source, bytes: Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), size: job.size, sha256: job.sha256, oversize: job.oversize };
  void readSafely(raw, options).then((facts) => parentPort?.postMessage({ seq: job.seq, facts } satisfies ReadDone));
});
