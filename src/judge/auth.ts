import type { Election } from '../inputs/election.js';
import type { Council } from '../inputs/roster.js';
import type { SignatureAssessment } from '../model/result.js';
import { forbiddenAlgorithm, signatureFlaw, signsFrom } from '../read/dkim.js';
import type { MessageFacts } from '../read/message.js';

/** How a message's sender was (or was not) proved: DKIM evidence weighed against the roster. */
export interface AuthAssessment {
  /** False when the election's dkim is "off": nothing was checked or recorded. */
  checked: boolean;
  authenticated: boolean;
  decidedBy: 'signature' | 'trusted-header' | null;
  signatures: SignatureAssessment[];
  trustedHeaders: { authservId: string; result: string; domain: string | null; authenticates: boolean }[];
  ignoredHeaders: { authservId: string; why: string }[];
  /** A signature is present and fails: the message may have been altered after signing. */
  failing: boolean;
  summary: string;
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
const within = (domain: string, parent: string): boolean => domain === parent || domain.endsWith(`.${parent}`);

/**
 * How long before voting opened a signature may have been made and still prove a paper: the
 * signer's clock, and a paper sent a moment before opening and delivered after it.
 */
export const SIGNED_BEFORE_OPENING_GRACE_MS = 60 * 60 * 1000;

export function assessAuthentication(f: MessageFacts, council: Council | null, election: Election): AuthAssessment {
  const none: AuthAssessment = { checked: false, authenticated: false, decidedBy: null, signatures: [], trustedHeaders: [], ignoredHeaders: [], failing: false, summary: 'DKIM not checked (dkim: off)' };
  if (election.dkim === 'off' || f.dkim === null) return none;
  const fromDomain = f.from ? domainOf(f.from.address) : '';
  const registered = (d: string): boolean =>
    council !== null && (council.domains.some((cd) => within(d, cd)) || council.emails.some((e) => domainOf(e) === d));

  // A signature made before voting opened (its t= tag) was made before any paper of this election
  // was filled in: it proves a council's earlier message, sent again (a paper of a past election
  // with the same candidates), not a vote. Neither it nor a receiving server's pass for it counts.
  // A signature without t= (Microsoft 365 writes none) is dated by the Date header it signs.
  const opensAt = election.opens?.getTime();
  const madeAt = (s: { signTime: string | null; signedHeaders: string[] }): string | null =>
    s.signTime ?? (s.signedHeaders.some((h) => h.toLowerCase() === 'date') ? f.earliestDateAt : null);
  const madeBeforeOpening = (s: { signTime: string | null; signedHeaders: string[] }): boolean => {
    const at = madeAt(s);
    return opensAt !== undefined && at !== null && Date.parse(at) < opensAt - SIGNED_BEFORE_OPENING_GRACE_MS;
  };
  // Why a signature proves nothing though it passes (the words after "passes, but"); null when
  // nothing is wrong with it. One list, for the signature and for a receiving server's pass for it
  // alike: that server checked the same signature.
  const flaw = (s: (typeof f.dkim)[number]): string | null => {
    const made = signatureFlaw(s, f);
    if (made !== null) return made;
    if (madeBeforeOpening(s)) {
      const when = s.signTime !== null ? `was made at ${s.signTime}` : `signs a Date header of ${madeAt(s)}`;
      return `${when}, before voting opened: a signature made before the papers could be filled in proves no vote in this election (a council's earlier message sent again?)`;
    }
    return null;
  };
  const flaws = new Map(f.dkim.map((s) => [s, flaw(s)]));
  // A domain whose every aligned signature proves nothing (it leaves out From, or has a flaw) gets
  // nothing from a receiving server's pass for it either.
  const provesNothing = (s: (typeof f.dkim)[number]): boolean => !signsFrom(s) || flaws.get(s) !== null;
  const alignedDkim = f.dkim.filter((s) => fromDomain !== '' && within(fromDomain, s.domain));
  const discountedDomains = new Set(alignedDkim.filter(provesNothing).map((s) => s.domain));
  for (const s of alignedDkim) if (!provesNothing(s)) discountedDomains.delete(s.domain);

  const signatures: SignatureAssessment[] = f.dkim.map((s) => {
    const aligned = fromDomain !== '' && within(fromDomain, s.domain);
    const councilDomain = registered(s.domain);
    let why: string;
    let authenticates = false;
    if (s.result !== 'pass') why = `${s.result}${s.reason ? ` (${s.reason})` : ''}`;
    // RFC 6376 §6.1.1: a signature whose h= leaves out From is to be ignored (PERMFAIL); mailauth passes it.
    else if (!signsFrom(s)) why = 'passes, but does not sign the From header (RFC 6376 §6.1.1: such a signature proves nothing of the sender)';
    else if (!aligned) why = `passes, but d=${s.domain} is not the From domain (${fromDomain || 'none'}) or a parent of it`;
    else if (!councilDomain) why = `passes, but ${s.domain} is not registered to ${council ? council.name : 'any council'} in the roster`;
    else if (flaws.get(s) !== null) why = `passes, but ${flaws.get(s)}`;
    else {
      authenticates = true;
      why = 'passes, aligned with the From domain and registered to the council';
    }
    return {
      domain: s.domain,
      selector: s.selector,
      algorithm: s.algorithm,
      result: s.result,
      reason: s.reason,
      keySource: s.keySource,
      aligned,
      councilDomain,
      authenticates,
      why,
    };
  });
  const stampName = (a: (typeof f.authResults)[number]): string => `${a.header === 'arc-authentication-results' ? 'ARC ' : ''}${a.authservId || '(no authserv-id)'}`;
  const trustedHeaders = f.authResults
    .filter((a) => a.trusted)
    .flatMap((a) =>
      a.dkim.map((d) => ({
        authservId: stampName(a),
        result: d.result,
        domain: d.domain,
        authenticates: d.result === 'pass' && d.domain !== null && fromDomain !== '' && within(fromDomain, d.domain) && registered(d.domain) && !forbiddenAlgorithm(d.algorithm) && !discountedDomains.has(d.domain.toLowerCase()),
      })),
    );
  const ignoredHeaders = f.authResults.filter((a) => !a.trusted).map((a) => ({ authservId: stampName(a), why: a.why }));
  // The receiving service's own verdict that the From domain did not authenticate the message.
  const dmarcFail = f.authResults.find((a) => a.trusted && a.dmarc?.result === 'fail' && (a.dmarc.domain === null || a.dmarc.domain === fromDomain));
  const compauthFail = f.authResults.find((a) => a.trusted && a.compauth === 'fail');
  const stampedFailure = dmarcFail ?? compauthFail;
  const failing = f.dkim.some((s) => s.result === 'fail' || (s.result === 'neutral' && /body hash|signature/i.test(s.reason ?? ''))) || stampedFailure !== undefined;
  let decidedBy: AuthAssessment['decidedBy'] = null;
  if (signatures.some((s) => s.authenticates)) decidedBy = 'signature';
  else if (trustedHeaders.some((t) => t.authenticates)) decidedBy = 'trusted-header';
  const authenticated = decidedBy !== null;
  let summary: string;
  if (decidedBy === 'signature') {
    const s = signatures.find((x) => x.authenticates)!;
    summary = `authenticated by the DKIM signature of ${s.domain} (selector ${s.selector}, key ${s.keySource ?? 'unknown source'})`;
  } else if (decidedBy === 'trusted-header') {
    const t = trustedHeaders.find((x) => x.authenticates)!;
    summary = `authenticated by the ballot server's own Authentication-Results (${t.authservId}: dkim=pass header.d=${t.domain})`;
  } else if (stampedFailure) {
    const said = [dmarcFail ? `dmarc=fail for ${dmarcFail.dmarc?.domain ?? fromDomain}` : null, compauthFail ? 'compauth=fail' : null].filter((x) => x !== null).join(' and ');
    const by = [...new Set([dmarcFail, compauthFail].filter((x) => x !== undefined).map(stampName))].join(', ');
    summary = `the receiving service's own stamps (${by}) say ${said}: the From address is probably forged`;
  } else if (f.dkim.length === 0) {
    summary = f.dkimError ?? 'no DKIM signature, and no trusted Authentication-Results saying dkim=pass';
  } else {
    summary = `no signature authenticates it: ${signatures.map((s) => `${s.domain}/${s.selector}: ${s.why}`).join('; ')}`;
  }
  return { checked: true, authenticated, decidedBy, signatures, trustedHeaders, ignoredHeaders, failing, summary };
}
