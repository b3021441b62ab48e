import { deserialize, serialize } from 'node:v8';
import type { Judgement } from '../judge/judge.js';
import type { MessageFacts } from '../read/message.js';
import { renderEvidence, type EvidenceText } from '../report/evidence-text.js';
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
  /** The evidence text (EvidenceText), serialised as the spill file keeps it. */
  evidence: Uint8Array;
}

export function compactMessage(source: Provenance, facts: MessageFacts, judgement: Judgement): CompactMessage {
  const text = renderEvidence(evidenceOf(facts, judgement, [], null, null), evidenceOf(facts, null, [], null, null), JUDGED_EVIDENCE);
  return { source, facts: slimFacts(facts), judgement: slimJudgement(judgement), evidence: serialize(text) };
}

/** The evidence text back from its bytes. */
export function evidenceText(bytes: Uint8Array): EvidenceText {
  return deserialize(bytes) as EvidenceText;
}

/** One empty list for every slim record (nothing adds to a judged message's facts). */
const NONE: never[] = Object.freeze([]) as unknown as never[];

/** Strings the parser sliced out of a whole message keep that message alive; copies do not. */
const own = <T extends string | null>(x: T): T => (x === null ? x : (Buffer.from(x, 'utf8').toString('utf8') as T));

/** The facts the count needs once a message is judged: identity, times, sender; nothing of the evidence. */
export function slimFacts(f: MessageFacts): MessageFacts {
  return {
    ...f,
    sha256: own(f.sha256),
    identity: own(f.identity),
    messageId: own(f.messageId),
    from: f.from ? { address: own(f.from.address), name: '' } : null,
    unreadable: own(f.unreadable),
    dkimError: own(f.dkimError),
    dateHeaderAt: null,
    receivedAt: own(f.receivedAt),
    fromHeader: null,
    fromAddresses: NONE,
    senderHeader: null,
    replyToHeader: null,
    subject: null,
    dateHeader: null,
    received: NONE,
    receiptNote: null,
    signals: NONE,
    papers: NONE,
    forwarded: NONE,
    attachments: NONE,
    dkim: f.dkim === null ? null : f.dkim.some((d) => d.result === 'pass') ? f.dkim.filter((d) => d.result === 'pass') : NONE,
    authResults: NONE,
    notes: NONE,
  };
}

const temperror = (s: { result: string }): boolean => s.result === 'temperror';

export function slimJudgement(j: Judgement): Judgement {
  return {
    verdict: j.verdict,
    council: j.council,
    senderMatch: null,
    choices: j.choices,
    findings: NONE,
    papers: NONE,
    rawPapers: NONE,
    signOff: null,
    // Signatures a DNS failure left undecided stay: they make the result provisional.
    auth: j.auth ? { ...j.auth, summary: '', signatures: j.auth.signatures.some(temperror) ? j.auth.signatures.filter(temperror) : NONE, trustedHeaders: NONE, ignoredHeaders: NONE } : null,
  };
}
