/**
 * The mail services that receive ballots, as they really stamp a message (election key
 * `receivedVia`). A service's stamps — its receipt time and its Authentication-Results — are
 * trusted only where the service itself wrote them: in the block of headers it adds when the
 * message crosses its edge. Everything below that block came with the message from the sender, who
 * can write any header, including one that imitates the service's.
 *
 * Each profile says how to find the edge (the Received header the service adds when the message
 * enters it from outside), which headers it writes with that edge, and under which authserv-ids.
 */
import type { TrustRegion } from './auth-results.js';

export type ServiceName = 'microsoft365' | 'google' | 'postfix';

export interface ServiceProfile {
  name: ServiceName;
  label: string;
  /** Whether a Received header's `by` host is the service's edge (where mail enters it). */
  isEdge: (by: string) => boolean;
  /** Host-name suffixes of the service's own servers, for evidence and documentation. */
  hosts: readonly string[];
  /**
   * The authserv-ids of its stamps: "" is an Authentication-Results header without one (Exchange
   * Online writes none). Checked together with the position rule, never alone.
   */
  authservIds: readonly string[];
  /** Headers the service writes directly below its edge Received header, in that block (Gmail's Received-SPF and Authentication-Results). */
  belowEdge: readonly string[];
}

const endsWithAny = (host: string, suffixes: readonly string[]): boolean => suffixes.some((s) => host === s.replace(/^\./, '') || host.endsWith(s));

/**
 * Exchange Online (Microsoft 365). Mail enters a tenant at `<server>.mail.protection.outlook.com`
 * ("via Frontend Transport"); the tenant then writes, above that edge Received header, its
 * Received-SPF and an Authentication-Results header with no authserv-id
 * (`spf=pass (sender IP is …) …; dkim=pass (signature was verified) header.d=…;dmarc=pass action=none
 * header.from=…;compauth=pass reason=100`), and an ARC set whose ARC-Authentication-Results names
 * `mx.microsoft.com`; its internal hops are `*.prod.outlook.com`, `*.outlook.office365.com`,
 * `*.protection.outlook.com`. The top-most edge header is the recipient tenant's: a sender on
 * Microsoft 365 too has hops of its own below it, and a forger can write any of these lower down.
 */
const MICROSOFT_365: ServiceProfile = {
  name: 'microsoft365',
  label: 'Microsoft 365 (Exchange Online)',
  isEdge: (by) => endsWithAny(by, ['.mail.protection.outlook.com', '.mail.protection.office365.us']),
  hosts: ['.outlook.com', '.protection.outlook.com', '.prod.outlook.com', '.outlook.office365.com', '.office365.us', '.exchangelabs.com'],
  authservIds: ['', 'mx.microsoft.com'],
  belowEdge: [],
};

/**
 * Gmail and Google Workspace. Mail enters at `mx.google.com`: Google writes that Received header
 * with, directly below it, Received-SPF and `Authentication-Results: mx.google.com; dkim=pass
 * header.i=@… …; dmarc=pass (p=…) header.from=…`, and above it an ARC set
 * (`ARC-Authentication-Results: i=N; mx.google.com; …`) and its internal hops (`by 2002:…` with
 * SMTP id). An Authentication-Results header further down is the sender's.
 */
const GOOGLE: ServiceProfile = {
  name: 'google',
  label: 'Google (Gmail, Google Workspace)',
  isEdge: (by) => by === 'mx.google.com',
  hosts: ['mx.google.com', '.google.com'],
  authservIds: ['mx.google.com'],
  belowEdge: ['received-spf', 'authentication-results'],
};

/** The ballot address's own server: the election's `receivedBy` hosts and `authservId`s, as before. */
const POSTFIX: ServiceProfile = {
  name: 'postfix',
  label: 'the ballot address\u2019s own server (receivedBy)',
  isEdge: () => false,
  hosts: [],
  authservIds: [],
  belowEdge: [],
};

export const SERVICES: Record<ServiceName, ServiceProfile> = { microsoft365: MICROSOFT_365, google: GOOGLE, postfix: POSTFIX };

/**
 * Where a message's trusted headers end: the service's edge Received header (its position in the
 * header block, 0 the top-most), and the headers from the top down to the end of the block the
 * service wrote with it. Null when the message never crossed the service's edge (moved in from
 * elsewhere, or not received by that service at all).
 */
export interface TrustBoundary {
  /** Header position of the edge Received header. */
  edge: number;
  /** Header positions above this (exclusive) were written by the service. */
  trustedBelow: number;
  by: string;
}

export function serviceBoundary(service: ServiceProfile, headers: readonly { key: string; value: string }[], receivedBy: (position: number) => string | null): TrustBoundary | null {
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]?.key !== 'received') continue;
    const by = receivedBy(i);
    if (by === null || !service.isEdge(by)) continue;
    // The block the service writes with its edge header: only its own kinds, each once, in order.
    let end = i + 1;
    const expected = [...service.belowEdge];
    while (end < headers.length && expected.length > 0) {
      const k = headers[end]?.key ?? '';
      const at = expected.indexOf(k);
      if (at < 0) break;
      expected.splice(0, at + 1);
      end++;
    }
    return { edge: i, trustedBelow: end, by };
  }
  return null;
}

/** Which stamps are the service's own: those above its edge, or in the block it writes with it. */
export function serviceRegion(service: ServiceProfile, boundary: TrustBoundary | null, extraIds: readonly string[]): TrustRegion {
  return {
    ids: [...service.authservIds, ...extraIds],
    check: (position) =>
      boundary === null
        ? { trusted: false, why: `the message has no Received header from ${service.label}'s edge, so nothing shows who added it` }
        : position < boundary.trustedBelow
          ? { trusted: true, why: `written by ${service.label} at its edge (${boundary.by})` }
          : { trusted: false, why: `it stands below ${service.label}'s edge Received header (${boundary.by}) and the block written with it, so the sender wrote it` },
  };
}
