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

/** Live DNS for the keys the pinned file lacks (`--dns`); what it finds is added to `fetched`. */
export interface DnsSource {
  resolveTxt: (name: string) => Promise<string[][]>;
  fetched: Map<string, string[][]>;
}

/**
 * Pinned keys first; live DNS only when asked for, and what it returns is kept for --save-keys.
 * Each name is asked of DNS once in a count: every message signed with the same key is judged on
 * the same answer (or the same failure), and a mailbox of messages naming keys whose servers never
 * answer costs one time-out a name, not one a message.
 */
export function keyLookup(pinned: PinnedKeys, dns: DnsSource | undefined): TxtLookup {
  const asked = new Map<string, ReturnType<TxtLookup>>();
  // A name pinned with no key (an empty TXT string, or an empty list in a DNS-cache file: what
  // --save-keys writes where DNS had none) is looked up, and has none. Made once, not a lookup at a time.
  const answers = new Map<string, Awaited<ReturnType<TxtLookup>>>();
  for (const [name, records] of pinned) {
    const keys = records.filter((r) => r.join('') !== '');
    answers.set(name, keys.length > 0 ? { records: keys, source: 'pinned' } : null);
  }
  const live = async (source: DnsSource, name: string): ReturnType<TxtLookup> => {
    try {
      const records = await source.resolveTxt(name);
      // None is kept too (an empty list), so that a count with the saved keys knows DNS had none.
      source.fetched.set(name, records);
      if (records.length === 0) return null;
      return { records, source: 'dns' };
    } catch (e) {
      // No such record is "no key"; anything else (a time-out, a refused query) is a DNS failure
      // that mailauth reports as temperror, and that leaves the result provisional.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') {
        source.fetched.set(name, []);
        return null;
      }
      throw e;
    }
  };
  return (name) => {
    if (answers.has(name)) return Promise.resolve(answers.get(name) ?? null);
    if (!dns) return Promise.resolve('not-looked-up');
    let answer = asked.get(name);
    if (!answer) {
      answer = live(dns, name);
      asked.set(name, answer);
    }
    return answer;
  };
}

export function readOptionsFrom(setup: ReaderSetup, lookup?: TxtLookup): ReadOptions {
  return {
    receivedBy: setup.receivedBy,
    limits: setup.limits,
    // A reader thread looks keys up in the pinned file only: a count that may ask live DNS reads on the main thread.
    dkim: setup.pinnedKeys === null ? null : { lookup: lookup ?? keyLookup(new Map(setup.pinnedKeys), undefined) },
    trustedAuthservIds: setup.trustedAuthservIds,
    service: setup.service ? SERVICES[setup.service] : null,
  };
}
