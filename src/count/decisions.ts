import type { Election } from '../inputs/election.js';
import type { Roster } from '../inputs/roster.js';
import type { AdjudicationRow } from '../inputs/adjudications.js';
import type { InputError } from '../model/errors.js';
import type { Result } from '../model/result-type.js';
import type { AdjudicationReason } from '../model/reasons.js';
import { resolveAdjudications, type AdjudicableMessage, type Adjudication } from './adjudicate.js';
import { applyDuplicatePolicy, type SignedProof, type ValidPaper } from './duplicates.js';
import type { JudgedMessage } from './result.js';

/** Whether the judge proved the message's sender: null when the election does not check (dkim off). */
function provenSender(m: JudgedMessage): boolean | null {
  const a = m.judgement?.auth;
  return a && a.checked ? a.authenticated : null;
}

/**
 * The papers that take part in one vote per council: those the judge found valid, and those the
 * returning officer decided to count. An officer's `count` vouches for the paper's sender (the
 * officer has seen the evidence, authentication included), so it stands as authenticated; an
 * officer's `reject` of an unauthenticated change takes the paper out.
 */
export function validPapers(messages: readonly JudgedMessage[], decisions: ReadonlyMap<string, Adjudication>): ValidPaper[] {
  // When each signed message first arrived, by its signature (signedAs): a council's signed paper
  // delivered again later by anyone, even with a header its signature leaves out changed (a new
  // Message-ID), is ordered among the council's papers by when the council's message first came,
  // so that a replay never makes an old paper the council's latest.
  const firstArrived = new Map<string, string>();
  for (const m of messages) {
    const { signedAs, receivedAt } = m.facts;
    if (signedAs === null || receivedAt === null) continue;
    const seen = firstArrived.get(signedAs);
    if (seen === undefined || receivedAt < seen) firstArrived.set(signedAs, receivedAt);
  }
  const valid: ValidPaper[] = [];
  for (const m of messages) {
    const j = m.judgement;
    if (!j || !j.council || !m.facts.receivedAt) continue;
    const id = m.facts.sha256;
    const council = j.council.id;
    const receivedAt = (m.facts.signedAs === null ? undefined : firstArrived.get(m.facts.signedAs)) ?? m.facts.receivedAt;
    const adj = decisions.get(id);
    if (j.verdict.kind === 'valid') {
      if (adj?.decision === 'reject') continue;
      if (adj?.decision === 'count') valid.push({ id, council, choices: adj.choices, receivedAt, authenticated: true });
      else valid.push({ id, council, choices: j.choices, receivedAt, authenticated: provenSender(m) });
    } else if (j.verdict.kind === 'needs-adjudication' && adj?.decision === 'count') {
      valid.push({ id, council, choices: adj.choices, receivedAt, authenticated: true });
    }
  }
  return valid;
}

/**
 * For each council, proof that its mail is signed though no valid paper of it is authenticated: an
 * authenticated message of it that is not a valid paper (a rejected ballot, one awaiting the
 * officer, or even an auto-reply), else a DKIM key for its domain pinned in the keys file (`keyed`).
 * An unauthenticated paper must not silently turn such a council's silence into a vote. Of several
 * messages the lowest hash is named, so the choice never depends on order.
 */
export function spoiltBallots(messages: readonly JudgedMessage[], decisions: ReadonlyMap<string, Adjudication>, keyed: ReadonlyMap<string, string> = new Map()): Map<string, SignedProof> {
  const found = new Map<string, string>();
  for (const m of messages) {
    const j = m.judgement;
    if (!j || !j.council || provenSender(m) !== true) continue;
    const kind = j.verdict.kind;
    const counted = kind === 'valid' || (kind === 'needs-adjudication' && decisions.get(m.facts.sha256)?.decision === 'count');
    if (counted) continue;
    const prior = found.get(j.council.id);
    if (prior === undefined || m.facts.sha256 < prior) found.set(j.council.id, m.facts.sha256);
  }
  const out = new Map<string, SignedProof>([...keyed].map(([council, domain]) => [council, { key: domain }]));
  for (const [council, sha] of found) out.set(council, { message: sha });
  return out;
}

/** The judge's own adjudication finding of a message, if any. */
const judgePending = (m: JudgedMessage): AdjudicationReason | null => (m.judgement?.verdict.kind === 'needs-adjudication' ? m.judgement.verdict.reason : null);

function adjudicable(messages: readonly JudgedMessage[], election: Election, extra: ReadonlySet<string>): AdjudicableMessage[] {
  return messages.map((m) => ({
    sha256: m.facts.sha256,
    messageId: m.facts.messageId,
    pending: judgePending(m) ?? (m.judgement && extra.has(m.facts.sha256) ? 'unauthenticated-change' : null),
    council: m.judgement?.council?.id ?? null,
    eligible: m.judgement?.council ? election.eligibleMembership.includes(m.judgement.council.membership) : false,
  }));
}

/**
 * Resolves the adjudications file against the count. The messages awaiting a decision are those the
 * judge sent to adjudication, and the unauthenticated papers that would change a council's
 * authenticated vote — which depends on the officer's decisions about the first kind (a signed paper
 * with a misspelt sign-off, once counted, is a vote that an unsigned one may try to change).
 */
export function resolveDecisions(
  messages: readonly JudgedMessage[],
  rows: readonly AdjudicationRow[],
  election: Election,
  file: string,
  keyed: ReadonlyMap<string, string> = new Map(),
): Result<Map<string, Adjudication>, InputError> {
  if (rows.length === 0) return resolveAdjudications(rows, adjudicable(messages, election, new Set()), election, file);
  // First pass: every valid unauthenticated paper may be named, so that the rows can be read at all.
  const unproved = new Set(messages.filter((m) => m.judgement?.verdict.kind === 'valid' && provenSender(m) === false).map((m) => m.facts.sha256));
  const first = resolveAdjudications(rows, adjudicable(messages, election, unproved), election, file);
  if (!first.ok) return first;
  const judgeFound = new Set(messages.filter((m) => judgePending(m) !== null).map((m) => m.facts.sha256));
  const onJudgeFindings = new Map([...first.value].filter(([sha]) => judgeFound.has(sha)));
  // Second pass: only the unauthenticated changes that those decisions leave pending may be decided.
  const pending = pendingUnauthenticatedChanges(messages, onJudgeFindings, election.duplicates, keyed);
  return resolveAdjudications(rows, adjudicable(messages, election, pending), election, file);
}

/** The unauthenticated papers that would change their council's authenticated vote, given these decisions. */
export function pendingUnauthenticatedChanges(
  messages: readonly JudgedMessage[],
  decisions: ReadonlyMap<string, Adjudication>,
  policy: Election['duplicates'],
  keyed: ReadonlyMap<string, string> = new Map(),
): Set<string> {
  const outcome = applyDuplicatePolicy(validPapers(messages, decisions), policy, spoiltBallots(messages, decisions, keyed));
  return new Set([...outcome].filter(([, o]) => o.disposition === 'needs-adjudication').map(([id]) => id));
}

/**
 * Councils whose mail is known to be signed because the officer pinned a DKIM key for one of their
 * domains (a key with an empty p=, withdrawn, does not count): council id → that domain.
 */
export function councilsWithPinnedKeys(roster: Roster, keys: ReadonlyMap<string, string[][]>): Map<string, string> {
  const domains = new Set<string>();
  for (const [name, records] of keys) {
    const m = /^[^.]+\._domainkey\.(.+)$/i.exec(name);
    if (!m?.[1]) continue;
    if (records.some((r) => /(?:^|;)\s*p=\s*[A-Za-z0-9+/]/.test(r.join('')))) domains.add(m[1].toLowerCase().replace(/\.$/, ''));
  }
  const out = new Map<string, string>();
  for (const c of roster.councils) {
    const own = [...c.domains, ...c.emails.map((e) => e.slice(e.lastIndexOf('@') + 1))];
    const d = own.find((x) => domains.has(x));
    if (d !== undefined) out.set(c.id, d);
  }
  return out;
}
