import type { ReadLimits, ReadOptions } from './message.js';
import type { TxtLookup } from './dkim.js';
import { SERVICES, type ServiceName } from './services.js';

/** DNS TXT records by name, as the keys file gives them. */
export type PinnedKeys = ReadonlyMap<string, string[][]>;

/**
 * How to read messages, as plain data that can be sent to a worker thread: everything in
 * ReadOptions that is a function (the key lookup, the service's edge test) is rebuilt from it.
 */
export interface ReaderSetup {
  receivedBy: string[] | null;
  limits: ReadLimits;
  /** Pinned DKIM keys; null when the election does not check DKIM. */
  pinnedKeys: [string, string[][]][] | null;
  trustedAuthservIds: string[];
  service: ServiceName | null;
}

/** Keys from the pinned file only: what a worker can look up without the network. */
export function pinnedLookup(pinned: PinnedKeys): TxtLookup {
  return async (name) => {
    const p = pinned.get(name);
    return p ? { records: p, source: 'pinned' } : null;
  };
}

export function readOptionsFrom(setup: ReaderSetup, lookup?: TxtLookup): ReadOptions {
  return {
    receivedBy: setup.receivedBy,
    limits: setup.limits,
    dkim: setup.pinnedKeys === null ? null : { lookup: lookup ?? pinnedLookup(new Map(setup.pinnedKeys)) },
    trustedAuthservIds: setup.trustedAuthservIds,
    service: setup.service ? SERVICES[setup.service] : null,
  };
}
