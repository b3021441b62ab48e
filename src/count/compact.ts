import type { Judgement } from '../judge/judge.js';
import { keyNotLookedUp, type DkimSignatureFact } from '../read/dkim.js';
import type { MessageFacts } from '../read/message.js';
import { decodeEvidenceForm, encodeEvidenceForm, renderEvidence, type EvidenceForm, type EvidenceText } from '../report/evidence-text.js';
import type { Provenance } from '../sources/types.js';
import { JUDGED_EVIDENCE, evidenceOf } from './result.js';

/**
 * What a large count keeps of a message once it is judged: slim facts and judgement, which is all
 * that one vote per council and the tally need, and the evidence already written out as text (which
 * the count spills to disk). Nothing is judged or rendered twice, and nothing of the message's
 * bytes is held.
 */
export interface CompactMessage {
  source: Provenance;
  facts: MessageFacts;
  judgement: Judgement;
  /** The evidence text in each form (EvidenceForm), as the spill files keep it (encodeEvidenceForm). */
  evidence: Record<keyof EvidenceText, string>;
}

export function compactMessage(source: Provenance, facts: MessageFacts, judgement: Judgement): CompactMessage {
  const text = renderEvidence(evidenceOf(facts, judgement, [], null, null), evidenceOf(facts, null, [], null, null), JUDGED_EVIDENCE);
  return { source, facts: slimFacts(facts), judgement: slimJudgement(judgement), evidence: { pretty: encodeEvidenceForm(text.pretty), canonical: encodeEvidenceForm(text.canonical) } };
}

/** The evidence text in one form back from the spill file's string. */
export function evidenceForm(text: string): EvidenceForm {
  return decodeEvidenceForm(text);
}

/** One empty list for every slim record (nothing adds to a judged message's facts). */
const NONE: never[] = Object.freeze([]) as unknown as never[];

/** Strings the parser sliced out of a whole message keep that message alive; copies do not. */
const own = <T extends string | null>(x: T): T => (x === null ? x : (Buffer.from(x, 'utf8').toString('utf8') as T));

/**
 * The facts the count needs once a message is judged: identity, times, sender; nothing of the
 * evidence. Each record holds its own fourteen values; the fields the count no longer reads are one
 * shared value on the prototype (null, or an empty list), so that they cost nothing a message (a
 * plain object with every field took about 100 bytes more). Slim facts are never judged again (a
 * spread of them would lose the shared fields): a spilled message keeps the judgement made of its
 * whole facts.
 */
class SlimFacts implements MessageFacts {
  readonly sha256: string;
  readonly size: number;
  readonly messageId: string | null;
  readonly from: { address: string; name: string } | null;
  readonly fromHeaders: number;
  readonly unreadable: string | null;
  readonly identity: string;
  readonly signedAs: string | null;
  readonly dkimSignatures: number;
  readonly dkim: DkimSignatureFact[] | null;
  readonly dkimError: string | null;
  readonly receivedAt: string | null;
  readonly receivedAtSource: MessageFacts['receivedAtSource'];
  readonly quotedPapers: number;
  declare readonly fromHeader: null;
  declare readonly fromAddresses: string[];
  declare readonly senderHeader: null;
  declare readonly resent: null;
  declare readonly replyToHeader: null;
  declare readonly subject: null;
  declare readonly dateHeader: null;
  declare readonly dateHeaderAt: null;
  declare readonly earliestDateAt: null;
  declare readonly repeatedHeaders: MessageFacts['repeatedHeaders'];
  declare readonly bodyNotAsDeclared: null;
  declare readonly received: MessageFacts['received'];
  declare readonly receiptNote: null;
  declare readonly signals: MessageFacts['signals'];
  declare readonly papers: MessageFacts['papers'];
  declare readonly quotedSample: MessageFacts['quotedSample'];
  declare readonly prose: MessageFacts['prose'];
  declare readonly htmlPapers: null;
  declare readonly forwarded: MessageFacts['forwarded'];
  declare readonly attachments: MessageFacts['attachments'];
  declare readonly authResults: MessageFacts['authResults'];
  declare readonly notes: string[];

  constructor(f: MessageFacts) {
    this.sha256 = own(f.sha256);
    this.size = f.size;
    this.messageId = own(f.messageId);
    this.from = f.from ? { address: own(f.from.address), name: '' } : null;
    this.fromHeaders = f.fromHeaders;
    this.unreadable = own(f.unreadable);
    this.identity = own(f.identity);
    this.signedAs = own(f.signedAs);
    this.dkimSignatures = f.dkimSignatures;
    // A judged message's signatures are its judgement's now (and which copy of a message is judged
    // goes by signedAs): the record keeps only whether one passed, one shared value for every message.
    this.dkim = f.dkim === null ? null : f.dkim.some((d) => d.result === 'pass') ? PASSED : NONE;
    this.dkimError = own(f.dkimError);
    this.receivedAt = own(f.receivedAt);
    this.receivedAtSource = f.receivedAtSource;
    this.quotedPapers = f.quotedPapers;
  }
}
const DROPPED = ['fromHeader', 'bodyNotAsDeclared', 'senderHeader', 'resent', 'replyToHeader', 'subject', 'dateHeader', 'dateHeaderAt', 'earliestDateAt', 'receiptNote', 'htmlPapers'] as const;
const EMPTIED = ['fromAddresses', 'repeatedHeaders', 'received', 'signals', 'papers', 'quotedSample', 'prose', 'forwarded', 'attachments', 'authResults', 'notes'] as const;
for (const key of DROPPED) Object.defineProperty(SlimFacts.prototype, key, { value: null, enumerable: true });
for (const key of EMPTIED) Object.defineProperty(SlimFacts.prototype, key, { value: NONE, enumerable: true });

export function slimFacts(f: MessageFacts): MessageFacts {
  return new SlimFacts(f);
}

/** A passing signature, as a slim record keeps it: only that it passed. */
const PASSED: DkimSignatureFact[] = Object.freeze([
  Object.freeze({
    domain: '',
    selector: '',
    algorithm: null,
    canonicalization: null,
    result: 'pass',
    reason: null,
    keySource: null,
    signedHeaders: NONE,
    bodyLengthLimit: null,
    unsignedBytes: 0,
    unsignedTailHasContent: false,
    signTime: null,
    expiresAfter: null,
    signatureId: null,
  }),
]) as unknown as DkimSignatureFact[];

/** A signature left undecided: its key lookup failed (temperror) or was never made. */
const undecidedSignature = (s: { result: string; reason: string | null }): boolean => s.result === 'temperror' || keyNotLookedUp(s);

/**
 * Verdicts, choices, and assessments of authentication (with any undecided signature, alike for
 * every message signed with one key) are a handful of values over a whole count: each slim
 * judgement shares one frozen copy of its value rather than holding its own (some 170 bytes a
 * message). There are never more of them than messages.
 */
const shared = new Map<string, object>();
function intern<T extends object>(value: T): T {
  const key = JSON.stringify(value);
  let found = shared.get(key);
  if (found === undefined) {
    found = Object.freeze(value);
    shared.set(key, found);
  }
  return found as T;
}

export function slimJudgement(j: Judgement): Judgement {
  // Signatures left undecided (a DNS failure, a key not looked up) stay: they make the result provisional.
  const undecided = j.auth ? j.auth.signatures.filter(undecidedSignature) : [];
  const auth = j.auth ? { ...j.auth, summary: '', signatures: undecided.length > 0 ? undecided.map((s) => intern({ ...s })) : NONE, trustedHeaders: NONE, ignoredHeaders: NONE } : null;
  return {
    verdict: intern({ ...j.verdict }),
    council: j.council,
    senderMatch: null,
    // A few lists of candidates over a whole count: one frozen copy of each (some 50 bytes a message).
    choices: intern(j.choices),
    findings: NONE,
    papers: NONE,
    rawPapers: NONE,
    signOff: null,
    auth: auth && intern(auth),
  };
}
