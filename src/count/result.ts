import type { Election } from '../inputs/election.js';
import type { Roster } from '../inputs/roster.js';
import { formatInZone, isoSeconds } from '../inputs/time.js';
import { resultDigest } from '../model/canonical.js';
import { DISPOSITIONS, REASON_TEXT, type Disposition, type Reason } from '../model/reasons.js';
import { RENDERED, RESULT_SCHEMA, type FindingRecord, type MessageRecord, type RenderRecord, type ResultModel } from '../model/result.js';
import { composeRecord, type CountEvidence, type EvidenceForm } from '../report/evidence-text.js';
import type { Judgement, Verdict } from '../judge/judge.js';
import type { AuthAssessment } from '../judge/auth.js';
import { keyNotLookedUp } from '../read/dkim.js';
import type { MessageFacts, ReadLimits } from '../read/message.js';
import { SERVICES } from '../read/services.js';
import { sheetDigest, tallySheet } from '../issue/receipts.js';
import type { InputFileRecord, Provenance, SourceLimits } from '../sources/types.js';
import type { Adjudication } from './adjudicate.js';
import { applyDuplicatePolicy, type PolicyOutcome, type SignedProof, type ValidPaper } from './duplicates.js';
import { spoiltBallots, validPapers } from './decisions.js';
import { tallyVotes } from './tally.js';

/** A message after reading and judging: the judgement is null for a copy of a message already met. */
export interface JudgedMessage {
  source: Provenance;
  facts: MessageFacts;
  judgement: Judgement | null;
  duplicateOf: string | null;
  /**
   * For a large count whose evidence was spilled to disk: `facts` and `judgement` above are slim
   * (what the count needs), and the message's evidence, already written out, is read back from here.
   */
  evidence?: SpilledEvidence;
}

/** Where a large count keeps its messages' evidence text (the spill files), by the message's number in the mailbox, in each form. */
export interface EvidenceStore {
  text(index: number, form: 'pretty' | 'canonical'): EvidenceForm;
}

/** A spilled message's evidence: the store and the message's number in it. */
export interface SpilledEvidence {
  store: EvidenceStore;
  index: number;
}

export interface CountInputs {
  generator: string;
  election: Election;
  roster: Roster;
  files: {
    keys: { file: string; sha256: string; records: number } | null;
    /** Whether DKIM keys missing from `keys` were looked up in live DNS. */
    dns: boolean;
    issued: { file: string; sha256: string; councils: number } | null;
    election: { file: string; sha256: string };
    roster: { file: string; sha256: string };
    adjudications: { file: string; sha256: string; rows: number } | null;
    mailbox: InputFileRecord[];
  };
  limits: SourceLimits & ReadLimits;
  messages: JudgedMessage[];
  adjudications: Map<string, Adjudication>;
  /** The officer's secret, when a tally sheet of receipts is made: its SHA-256 enters the result. */
  receiptSecret?: Buffer | null;
  /** Councils known to sign their mail from the pinned keys: council id → domain (see decisions.ts). */
  keyedCouncils?: ReadonlyMap<string, string>;
}

/** Message order in the result: by source file and position, never by argument order. */
export function compareSources(a: { source: Provenance; facts: { sha256: string } }, b: { source: Provenance; facts: { sha256: string } }): number {
  if (a.source.file !== b.source.file) return a.source.file < b.source.file ? -1 : 1;
  const ai = a.source.index ?? 0;
  const bi = b.source.index ?? 0;
  if (ai !== bi) return ai - bi;
  return a.facts.sha256 < b.facts.sha256 ? -1 : a.facts.sha256 > b.facts.sha256 ? 1 : 0;
}

/**
 * Finds every copy of a message: the same message with different bytes, such as an mbox and an .eml
 * export of one mailbox, or the same message delivered again (a replay, a server's retry). Returns,
 * by position in `entries`, the SHA-256 of the copy that is judged: a readable one; of those, one a
 * signature over From still proves (a copy someone stripped of its signature, or whose export broke
 * it, never stands in for the signed one); of those, the one received first (a message is received
 * when it first arrives: a copy delivered again later never gives it a later receipt time, nor
 * makes it a council's latest paper; this holds when the first copy's time is its Date header,
 * which a later stamp of the server never outranks); then by source. (A signed message delivered
 * again with a header its signature leaves out changed is another message, judged as such; it is
 * ordered among its council's papers by when the signed message first arrived: validPapers.)
 */
export function findDuplicateCopies(entries: readonly { source: Provenance; facts: MessageFacts }[]): Map<number, string> {
  const order = entries.map((e, i) => ({ e, i }));
  const weaker = (f: MessageFacts): number => Number(f.unreadable !== null) * 2 + Number(f.signedAs === null);
  // A readable message always has a receipt time; '~' sorts after every ISO time.
  const receivedAt = (f: MessageFacts): string => f.receivedAt ?? '~';
  order.sort(
    (a, b) =>
      weaker(a.e.facts) - weaker(b.e.facts) ||
      (receivedAt(a.e.facts) < receivedAt(b.e.facts) ? -1 : receivedAt(a.e.facts) > receivedAt(b.e.facts) ? 1 : 0) ||
      compareSources(a.e, b.e) ||
      a.i - b.i,
  );
  const firstByIdentity = new Map<string, string>();
  const duplicateOf = new Map<number, string>();
  for (const { e, i } of order) {
    const prior = firstByIdentity.get(e.facts.identity);
    if (prior !== undefined) duplicateOf.set(i, prior);
    else firstByIdentity.set(e.facts.identity, e.facts.sha256);
  }
  return duplicateOf;
}

export function buildResult(input: CountInputs): ResultModel {
  const { election, roster } = input;
  const messages = [...input.messages].sort(compareSources);
  const eligibleCouncils = roster.councils.filter((c) => election.eligibleMembership.includes(c.membership));

  const valid = validPapers(messages, input.adjudications);
  const spoilt = spoiltBallots(messages, input.adjudications, input.keyedCouncils);
  const policy = applyDuplicatePolicy(valid, election.duplicates, spoilt);
  const validById = new Map(valid.map((v) => [v.id, v]));

  const records: MessageRecord[] = messages.map((m) => toRecord(m, input.adjudications, policy, validById));
  const unauthenticatedInCouncilName = unauthenticatedAgainstAuthenticated(messages, records, valid, spoilt);

  const counted = records.filter((r) => r.disposition === 'counted');
  const outcome = tallyVotes(election.candidates, counted.map((r) => r.choices), election.vacancies, election.tieBreakSeed);

  const dispositions = Object.fromEntries(DISPOSITIONS.map((d) => [d, 0])) as Record<Disposition, number>;
  const rejected: Partial<Record<Reason, number>> = {};
  const needsAdjudication: Partial<Record<Reason, number>> = {};
  const notABallot: Record<string, number> = {};
  for (const r of records) {
    dispositions[r.disposition]++;
    if (r.disposition === 'rejected' && r.reason) rejected[r.reason] = (rejected[r.reason] ?? 0) + 1;
    if (r.disposition === 'needs-adjudication' && r.reason) needsAdjudication[r.reason] = (needsAdjudication[r.reason] ?? 0) + 1;
  }
  for (const m of messages) {
    if (m.judgement?.verdict.kind === 'not-a-ballot') {
      const why = m.judgement.verdict.why;
      notABallot[why] = (notABallot[why] ?? 0) + 1;
    }
  }
  const ballotIndexes = records.flatMap((r, i) => (r.disposition !== 'not-a-ballot' && r.disposition !== 'duplicate-copy' ? [i] : []));
  const ballots = ballotIndexes.map((i) => records[i]!);
  // Authentication as the judge assessed it (a copy of another message is not assessed), without loading evidence.
  const authOf = (i: number): AuthAssessment | null => messages[i]?.judgement?.auth ?? null;
  const votedCouncils = new Set(counted.map((r) => r.council));
  const notVoted = eligibleCouncils.filter((c) => !votedCouncils.has(c.id));
  // What each council that did not vote sent: kept for those councils only, not for every message.
  const sentBy = new Map<string, string[]>(notVoted.map((c) => [c.id, []]));
  for (const r of records) if (r.council !== null) sentBy.get(r.council)?.push(r.reason ? `${r.disposition}: ${r.reason}` : r.disposition);
  const councilsNotVoted = notVoted.map((c) => ({ council: c.id, name: c.name, sent: sentBy.get(c.id) ?? [] }));
  const provisional: string[] = [];
  const pending = dispositions['needs-adjudication'];
  if (pending > 0) provisional.push(`${pending} message(s) need adjudication`);
  // An election that names its receiving servers, in a mailbox where not one ballot carries their
  // stamp: the names are wrong (a typo, another server) or the export lost the headers, and every
  // receipt time, so the deadline itself, is what each sender wrote.
  const receiverNamed = receiverName(election);
  if (receiverNamed !== undefined && ballots.length > 0 && ballots.every((r) => r.receivedAtSource !== 'received')) {
    provisional.push(
      `no ballot carries a Received header from ${receiverNamed}, so every receipt time is the sender's own Date header and the deadline was not checked: is receivedBy (or receivedVia) in the election file right? \`ccin-tally inspect\` shows a message's Received headers`,
    );
  }
  if (counted.length === 0) {
    provisional.push(`no paper was counted (${records.length} message(s) read, none of them a vote), so no candidate is elected. Check that the mailbox paths are the ballot mailbox's export (not another folder), and that the election and roster files are this election's`);
  }
  // From the judgements, not the records' evidence: a large count would read every message back for it.
  const dnsFailures = messages.filter((m) => m.judgement?.auth?.signatures.some((sig) => sig.result === 'temperror')).length;
  if (dnsFailures > 0 && election.dkim !== 'off') {
    provisional.push(`${dnsFailures} message(s) met a DNS failure looking up a DKIM key: count again, or pin the keys with --keys`);
  }
  // A ballot whose signature by its own council's domain nobody checked, for want of the key (not
  // pinned, DNS not asked): whether the council sent it, and whether another paper in its name may
  // replace it, is not known. A forgotten --keys never yields a declaration from signed mail.
  if (election.dkim !== 'off') {
    let unchecked = 0;
    const domains = new Set<string>();
    for (const i of ballotIndexes) {
      const mine = (authOf(i)?.signatures ?? []).filter((s) => s.aligned && s.councilDomain && keyNotLookedUp(s));
      if (mine.length > 0) unchecked++;
      for (const s of mine) domains.add(s.domain);
    }
    if (unchecked > 0) {
      const sorted = [...domains].sort();
      const shown = sorted.slice(0, 5).join(', ') + (sorted.length > 5 ? ` and ${sorted.length - 5} more` : '');
      provisional.push(
        `${unchecked} ballot(s) signed by their council's domain were not checked: no key for ${shown} ${input.files.keys === null ? '(no --keys given)' : `in ${input.files.keys.file}`}, and live DNS not asked (--dns). Pin the keys (--dns --save-keys FILE fetches them) and count again`,
      );
    }
  }
  if (outcome.unresolvedTie) provisional.push(`tie at the boundary between ${outcome.unresolvedTie.join(', ')} and the election file gives no lot seed`);
  const notices = officerNotices(input, records, ballots.length);
  const machineMade = machineMadeVotes(messages, records, votedCouncils);
  if (machineMade !== null) notices.push(machineMade);
  const inWords = votesInWords(messages, records);
  if (inWords !== null) notices.push(inWords);
  const toCompare = htmlToCompare(messages, records);
  if (toCompare !== null) notices.push(toCompare);
  const sheet = input.receiptSecret ? tallySheet(election.id, records, input.receiptSecret) : null;

  const withoutDigest: Omit<ResultModel, 'digest'> = {
    schema: RESULT_SCHEMA,
    generator: input.generator,
    election: {
      id: election.id,
      title: election.title,
      vacancies: election.vacancies,
      method: election.method,
      candidates: election.candidates.map((c) => ({ id: c.id, name: c.name, council: c.council })),
      opens: election.opens ? isoSeconds(election.opens) : null,
      deadline: isoSeconds(election.deadline),
      opensLocal: election.opensText,
      deadlineLocal: election.deadlineText,
      timezone: election.timezone,
      ballotAddress: election.ballotAddress,
      eligibleMembership: election.eligibleMembership,
      signOffRoles: election.signOffRoles,
      receivedBy: election.receivedBy,
      receivedVia: election.receivedVia,
      dkim: election.dkim,
      duplicates: election.duplicates,
      references: election.references,
      tieBreakSeed: election.tieBreakSeed,
    },
    inputs: {
      election: input.files.election,
      roster: { ...input.files.roster, encoding: roster.encoding, councils: roster.councils.length, eligible: eligibleCouncils.length },
      adjudications: input.files.adjudications,
      keys: input.files.keys,
      dns: input.files.dns,
      issued: input.files.issued,
      mailbox: input.files.mailbox.map((f) => ({ ...f })).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
    },
    limits: {
      maxMessageBytes: input.limits.maxMessageBytes,
      maxMimeParts: input.limits.maxMimeParts,
      maxAttachments: input.limits.maxAttachments,
      maxHtmlChars: input.limits.maxHtmlChars,
      maxForwardDepth: input.limits.maxForwardDepth,
      maxPdfBytes: input.limits.maxPdfBytes,
      maxDocxXmlBytes: input.limits.maxDocxXmlBytes,
    },
    messages: records,
    summary: {
      read: records.length,
      dispositions,
      accounted: Object.values(dispositions).reduce((a, b) => a + b, 0),
      rejected,
      needsAdjudication,
      notABallot,
      adjudicated: input.adjudications.size,
      authentication: {
        policy: election.dkim,
        ballots: ballots.length,
        authenticated: ballotIndexes.filter((i) => authOf(i)?.authenticated === true).length,
        unauthenticatedBallots: ballotIndexes.filter((i) => authOf(i)?.checked === true && !authOf(i)?.authenticated && !authOf(i)?.failing).map((i) => records[i]!.sha256),
        failingSignatures: ballotIndexes.filter((i) => authOf(i)?.failing === true).map((i) => records[i]!.sha256),
        unauthenticatedInCouncilName,
      },
    },
    tally: outcome.tally,
    turnout: {
      voted: votedCouncils.size,
      eligible: eligibleCouncils.length,
      text: `${votedCouncils.size} of ${eligibleCouncils.length} eligible councils`,
    },
    councilsNotVoted,
    lot: outcome.lot,
    tallySheet: sheet === null ? null : { sha256: sheetDigest(sheet), lines: sheet === '' ? 0 : sheet.split('\n').length - 1 },
    final: provisional.length === 0,
    provisional,
    notices,
  };
  return { ...withoutDigest, digest: resultDigest(withoutDigest as unknown as Record<string, unknown>) };
}

/** The ballot address's receiving servers as the report names them; undefined when the election names none. */
function receiverName(election: CountInputs['election']): string | undefined {
  return election.receivedVia && election.receivedVia !== 'postfix' ? `${SERVICES[election.receivedVia].label}'s edge` : election.receivedBy?.join(', ');
}

/**
 * What the officer must read beside the declaration: a count that ran without a check it could have
 * made, or whose rejections point at a slip in the inputs rather than at the councils.
 */
function officerNotices(input: CountInputs, records: readonly MessageRecord[], ballots: number): string[] {
  const { election } = input;
  const out: string[] = [];
  if (election.dkim === 'off') {
    out.push('The election says "dkim": "off": no sender was authenticated, so a paper anyone sent in a council\'s name counts like the council\'s own.');
  } else if (input.files.keys === null && !input.files.dns) {
    out.push('No DKIM keys were given (--keys) and live DNS was not asked for (--dns): no signature was checked, so no ballot is authenticated. Count again with the pinned keys.');
  } else if (input.files.keys !== null && input.files.keys.records === 0 && !input.files.dns) {
    out.push(`The keys file ${input.files.keys.file} holds no DKIM key: no signature could be checked.`);
  }
  if (input.files.issued === null) {
    out.push("References were not checked: no --issued file was given, so a paper carrying another council's reference would count.");
  }
  if (election.dkim !== 'off' && election.opens === null) {
    out.push('The election gives no opening time ("opens"): a signature made before this election proves a paper all the same, so a council\'s signed paper from an earlier election, sent again, would count as its vote.');
  }
  const dated = records.filter((r) => r.receivedAtSource === 'date-header').length;
  const receiver = receiverName(election);
  if (receiver === undefined) out.push('The election names no receiving server (receivedBy or receivedVia): every receipt time is the Date header the sender wrote.');
  else if (dated > 0) out.push(`${dated} message(s) timed by their Date header (written by the sender): no Received header from ${receiver}.`);
  // Nothing the ballot server stamped after the deadline: the export may have been made before the
  // deadline passed, and papers sent after it would be missing. Only the server's own stamp shows
  // when the mailbox was still receiving (a Date header is the sender's), and nothing here reads a clock.
  const deadline = isoSeconds(election.deadline);
  let latest: string | null = null;
  for (const r of records) {
    if (r.receivedAtSource === 'received' && r.receivedAt !== null && (latest === null || r.receivedAt > latest)) latest = r.receivedAt;
  }
  if (latest !== null && latest <= deadline) {
    out.push(
      `Nothing in the mailbox was received after the deadline (the latest stamp of ${receiver ?? 'the ballot server'}: ${formatInZone(new Date(latest), election.timezone)}): make sure the mailbox was exported after the deadline (${formatInZone(election.deadline, election.timezone)}), or a paper delivered between the export and the deadline is missing.`,
    );
  }
  const rejected = new Map<string, number>();
  for (const r of records) if (r.disposition === 'rejected' && r.reason) rejected.set(r.reason, (rejected.get(r.reason) ?? 0) + 1);
  for (const [reason, n] of rejected) {
    if (ballots >= 4 && n * 2 > ballots) {
      out.push(`Most ballots (${n} of ${ballots}) were rejected ${reason}: ${REASON_TEXT[reason as Reason]}. A slip in the election, roster, keys or issued file is more likely than so many councils erring; check them before declaring.`);
    }
  }
  return out;
}

/**
 * Counted papers whose sender's own words beside them say a vote for a candidate the paper does not
 * mark (judge/: Verdict.inWords): the paper counts, as the rules say, but a council that wrote one
 * thing and marked another may not have meant the mark, so the officer reads each before declaring.
 */
function votesInWords(messages: readonly JudgedMessage[], records: readonly MessageRecord[]): string | null {
  const found = countedWhere(messages, records, (v, r) => (v.inWords === undefined ? null : `${r.council ?? '?'} ${r.sha256.slice(0, 12)} (paper → ${r.choices.join(' + ')}; words → ${v.inWords.join(' + ')})`));
  if (found.length === 0) return null;
  return `${found.length} counted paper(s) beside words of their sender's that say a vote for a candidate the paper does not mark: ${firstFive(found, 'counted')}. The marks were counted, as the rules say; read each message (\`ccin-tally inspect\`) before declaring.`;
}

/** Each counted paper whose valid verdict `name` names, as it names it: a notice's list of messages. */
function countedWhere(messages: readonly JudgedMessage[], records: readonly MessageRecord[], name: (v: Extract<Verdict, { kind: 'valid' }>, r: MessageRecord) => string | null): string[] {
  const found: string[] = [];
  messages.forEach((m, i) => {
    const v = m.judgement?.verdict;
    const r = records[i];
    if (v?.kind !== 'valid' || !r || r.disposition !== 'counted') return;
    const line = name(v, r);
    if (line !== null) found.push(line);
  });
  return found;
}

/** The first five of a notice's messages, and how many more there are among those of a disposition. */
function firstFive(found: readonly string[], among: string): string {
  return found.slice(0, 5).join(', ') + (found.length > 5 ? ` and ${found.length - 5} more, among the messages ${among}` : '');
}

/**
 * Counted papers whose message's HTML version (what a mail client shows the officer and showed the
 * council) holds no paper, or one that cannot be read with certainty or shows no mark (judge/:
 * Verdict.compareHtml): the text version's paper counts, as what the HTML version lacks or doubts
 * never voids it, but a tick drawn in a box or a mark a style moves is there only to the eye, so the
 * officer compares each before declaring.
 */
function htmlToCompare(messages: readonly JudgedMessage[], records: readonly MessageRecord[]): string | null {
  const found = countedWhere(messages, records, (v, r) => (v.compareHtml === true ? `${r.council ?? '?'} ${r.sha256.slice(0, 12)} (→ ${r.choices.join(' + ')})` : null));
  if (found.length === 0) return null;
  return `${found.length} counted paper(s) whose HTML version, which a mail client shows, cannot be read with certainty by machine, or holds no paper or no mark: ${firstFive(found, 'counted')}. The text version's marks were counted; compare the two versions of each by eye (\`ccin-tally inspect\`) before declaring.`;
}

/**
 * Machine-made mail (by its headers: an auto-reply, a delivery report, a read receipt) that carries
 * an eligible council's own marked paper. It is not counted, as machine-made mail never is, but a
 * council's mail system may stamp its ballot so (Auto-Submitted): the officer is told which, and
 * whether the council has a vote counted all the same, so that no vote is passed over unseen.
 */
function machineMadeVotes(messages: readonly JudgedMessage[], records: readonly MessageRecord[], voted: ReadonlySet<string | null>): string | null {
  // Those of councils with no paper counted first: a vote that may be lost.
  const lost: string[] = [];
  const others: string[] = [];
  messages.forEach((m, i) => {
    const v = m.judgement?.verdict;
    const r = records[i];
    if (v?.kind !== 'not-a-ballot' || v.marked === undefined || !r || r.disposition !== 'not-a-ballot' || r.council === null) return;
    const hasVote = voted.has(r.council);
    (hasVote ? others : lost).push(`${r.council} ${r.sha256.slice(0, 12)} (→ ${v.marked.join(' + ')}; ${hasVote ? 'the council has a paper counted' : 'the council has NO paper counted'})`);
  });
  const found = [...lost, ...others];
  if (found.length === 0) return null;
  return `${found.length} message(s) that their headers say a machine made (an auto-reply, a delivery report or a read receipt) carry an eligible council's marked ballot paper, and are not counted: ${firstFive(found, 'not-a-ballot')}. Ask each council whether it meant it as its vote (\`ccin-tally inspect\` shows why it was taken for machine-made).`;
}

/**
 * Every valid paper the judge could not authenticate, from a council shown to sign its mail — by a
 * paper authenticated by its signature, a trusted stamp or the officer's decision, by another
 * authenticated message, or by a pinned key for its domain: someone other than the council may have
 * sent it. Listed whatever became of it.
 */
function unauthenticatedAgainstAuthenticated(
  messages: readonly JudgedMessage[],
  records: readonly MessageRecord[],
  valid: readonly ValidPaper[],
  spoilt: ReadonlyMap<string, SignedProof>,
): ResultModel['summary']['authentication']['unauthenticatedInCouncilName'] {
  const proved = new Map<string, string[]>();
  for (const v of valid) {
    if (v.authenticated !== true) continue;
    const list = proved.get(v.council) ?? [];
    list.push(v.id);
    proved.set(v.council, list);
  }
  const out: ResultModel['summary']['authentication']['unauthenticatedInCouncilName'] = [];
  messages.forEach((m, i) => {
    const j = m.judgement;
    const r = records[i];
    if (!j || !j.council || !r || j.verdict.kind !== 'valid' || !j.auth?.checked || j.auth.authenticated) return;
    // A paper the officer counted stands as authenticated: the council's other authenticated paper is meant.
    const proof = spoilt.get(j.council.id);
    const against = (proved.get(j.council.id) ?? []).find((id) => id !== m.facts.sha256) ?? (proof === undefined ? undefined : 'message' in proof ? proof.message : `key:${proof.key}`);
    if (against === undefined) return;
    out.push({ council: j.council.id, sha256: m.facts.sha256, choices: j.choices, disposition: r.disposition, reason: r.reason, authenticatedPaper: against });
  });
  return out;
}

function authenticationRecord(f: MessageFacts, j: Judgement | null): MessageRecord['evidence']['authentication'] {
  const a = j?.auth;
  if (!a) {
    return { checked: false, authenticated: false, decidedBy: null, summary: 'not assessed (a copy of another message, or unreadable)', failing: false, dkimSignaturesPresent: f.dkimSignatures, signatures: [], trustedHeaders: [], ignoredHeaders: [] };
  }
  return {
    checked: a.checked,
    authenticated: a.authenticated,
    decidedBy: a.decidedBy,
    summary: a.summary,
    failing: a.failing,
    dkimSignaturesPresent: f.dkimSignatures,
    signatures: a.signatures.map((s, i) => {
      const raw = f.dkim?.[i];
      return {
        ...s,
        bodyLengthLimit: raw?.bodyLengthLimit ?? null,
        unsignedBytes: raw?.unsignedBytes ?? 0,
        signTime: raw?.signTime ?? null,
        expiresAfter: raw?.expiresAfter ?? null,
      };
    }),
    trustedHeaders: a.trustedHeaders,
    ignoredHeaders: a.ignoredHeaders,
  };
}

function toRecord(
  m: JudgedMessage,
  adjudications: Map<string, Adjudication>,
  policy: ReturnType<typeof applyDuplicatePolicy>,
  validById: Map<string, ValidPaper>,
): MessageRecord {
  const f = m.facts;
  const j = m.judgement;
  // Findings of the count itself (policy, adjudication, copies), after the judge's own.
  const findings: FindingRecord[] = [];
  let disposition: Disposition;
  let reason: Reason | null = null;
  let choices: string[] = [];
  let adjudication: MessageRecord['adjudication'] = null;
  let supersededBy: string | null = null;
  if (!j) {
    disposition = 'duplicate-copy';
    findings.push({ code: 'duplicate-copy', detail: `the same message as ${m.duplicateOf ?? '?'}, met in another export` });
  } else {
    const v = j.verdict;
    const adj = adjudications.get(f.sha256);
    // The officer decides judge findings, and unauthenticated changes (a valid paper, judged against its council's others).
    const automatic: Reason | null = v.kind === 'needs-adjudication' ? v.reason : v.kind === 'valid' && adj ? 'unauthenticated-change' : null;
    if (automatic && adj) {
      adjudication = { automatic: { disposition: 'needs-adjudication', reason: automatic }, decision: adj.decision, choices: adj.choices, reason: adj.reason, line: adj.line };
      findings.push({ code: 'note', detail: `adjudicated (${adj.decision}) by the returning officer: ${adj.reason}` });
    }
    const outcome = policy.get(f.sha256);
    if (outcome) {
      const paper = validById.get(f.sha256);
      choices = paper?.choices ?? [];
      if (paper && paper.receivedAt !== f.receivedAt) {
        findings.push({ code: 'note', detail: `the council's signed message first arrived at ${paper.receivedAt} (the same DKIM signature): this later delivery of it is ordered among the council's papers by that time` });
      }
      if (outcome.disposition === 'counted') {
        disposition = 'counted';
        if (outcome.note) findings.push({ code: 'note', detail: outcome.note });
      } else if (outcome.disposition === 'superseded') {
        disposition = 'superseded';
        supersededBy = outcome.by;
        findings.push({ code: 'note', detail: outcome.note });
      } else if (outcome.disposition === 'needs-adjudication') {
        disposition = 'needs-adjudication';
        reason = outcome.reason;
        choices = [];
        findings.push({ code: outcome.reason, detail: outcome.note });
      } else {
        disposition = 'rejected';
        reason = 'conflicting-duplicates';
        findings.push({ code: 'conflicting-duplicates', detail: outcome.note });
      }
    } else if (automatic && adj?.decision === 'reject') {
      disposition = 'rejected';
      reason = automatic;
    } else if (v.kind === 'needs-adjudication') {
      disposition = 'needs-adjudication';
      reason = v.reason;
    } else if (v.kind === 'rejected') {
      disposition = 'rejected';
      reason = v.reason;
    } else if (v.kind === 'not-a-ballot') {
      disposition = 'not-a-ballot';
    } else {
      // A valid paper always has a policy outcome; reaching here is a bug.
      throw new Error(`internal: valid message ${f.sha256} has no count outcome`);
    }
  }
  const core = {
    sha256: f.sha256,
    messageId: f.messageId,
    source: m.source,
    from: f.from?.address ?? null,
    council: j?.council?.id ?? null,
    disposition,
    reason,
    choices,
    receivedAt: f.receivedAt,
    receivedAtSource: f.receivedAtSource,
    adjudication,
  };
  if (m.evidence) {
    // Findings that come from the duplicate policy's outcome alone are the same for every paper that
    // shares that outcome: one list for them all.
    const outcome = j && adjudication === null ? policy.get(f.sha256) : undefined;
    return new SpilledRecord(core, m.evidence, j !== null, outcome ? sharedFindings(outcome, findings) : findings, m.duplicateOf, supersededBy);
  }
  return { ...core, evidence: evidenceOf(f, j, findings, m.duplicateOf, supersededBy) };
}

/**
 * The record of a spilled message: its fields, and its evidence text read back from disk each time
 * it is wanted, never held. One class for every such record, so that a count of any size shares one
 * shape (a getter written in each object literal gives every record a shape of its own, some
 * hundreds of bytes each). It serialises as a plain record does: JSON.stringify through toJSON,
 * writeJson and the digest through RENDERED (the text itself, never parsed).
 */
class SpilledRecord implements MessageRecord {
  sha256: string;
  messageId: string | null;
  source: MessageRecord['source'];
  from: string | null;
  council: string | null;
  disposition: Disposition;
  reason: Reason | null;
  choices: string[];
  receivedAt: string | null;
  receivedAtSource: MessageRecord['receivedAtSource'];
  adjudication: MessageRecord['adjudication'];
  // What the count adds, held as fields rather than an object or a closure: some 150 bytes less a
  // message (CountEvidence, built when the record is written).
  readonly #store: EvidenceStore;
  readonly #index: number;
  readonly #judged: boolean;
  readonly #findings: readonly FindingRecord[];
  readonly #duplicateOf: string | null;
  readonly #supersededBy: string | null;

  constructor(
    core: Omit<MessageRecord, 'evidence'>,
    spilled: SpilledEvidence,
    judged: boolean,
    findings: readonly FindingRecord[],
    duplicateOf: string | null,
    supersededBy: string | null,
  ) {
    // In the order of a plain record's fields: the result file's order.
    this.sha256 = core.sha256;
    this.messageId = core.messageId;
    this.source = core.source;
    this.from = core.from;
    this.council = core.council;
    this.disposition = core.disposition;
    this.reason = core.reason;
    this.choices = core.choices;
    this.receivedAt = core.receivedAt;
    this.receivedAtSource = core.receivedAtSource;
    this.adjudication = core.adjudication;
    this.#store = spilled.store;
    this.#index = spilled.index;
    this.#judged = judged;
    // Most messages have no finding of the count's own: one shared empty list for them all.
    this.#findings = findings.length === 0 ? NO_FINDINGS : findings;
    this.#duplicateOf = duplicateOf;
    this.#supersededBy = supersededBy;
  }

  /** The record's own fields (everything but the evidence), as a plain object. */
  #core(): Omit<MessageRecord, 'evidence'> {
    return { ...this };
  }

  get evidence(): MessageRecord['evidence'] {
    return JSON.parse(this[RENDERED]('evidence')) as MessageRecord['evidence'];
  }

  get [RENDERED](): RenderRecord {
    const add: CountEvidence = { judged: this.#judged, findings: this.#findings, duplicateOf: this.#duplicateOf, supersededBy: this.#supersededBy };
    return (form) => composeRecord(this.#core(), this.#store.text(this.#index, form === 'canonical' ? 'canonical' : 'pretty'), add, form);
  }

  toJSON(): MessageRecord {
    return { ...this.#core(), evidence: this.evidence };
  }
}

const NO_FINDINGS: readonly FindingRecord[] = Object.freeze([]);

const findingsOf = new WeakMap<PolicyOutcome, readonly FindingRecord[]>();
/** The findings a policy outcome gives a record (nothing else adding to them), one frozen list an outcome. */
function sharedFindings(outcome: PolicyOutcome, findings: readonly FindingRecord[]): readonly FindingRecord[] {
  let shared = findingsOf.get(outcome);
  if (shared === undefined) {
    shared = Object.freeze(findings.map((x) => Object.freeze({ ...x })));
    findingsOf.set(outcome, shared);
  }
  return shared;
}

/** The parts of a message's evidence that come from its judgement: what a copy of another message, shown unjudged, has otherwise. */
export const JUDGED_EVIDENCE = ['findings', 'senderMatch', 'papers', 'signOff', 'authentication'] as const satisfies readonly (keyof MessageRecord['evidence'])[];

/** Everything read and found about a message: the judge's findings, then the count's own. */
export function evidenceOf(
  f: MessageFacts,
  j: Judgement | null,
  countFindings: readonly FindingRecord[],
  duplicateOf: string | null,
  supersededBy: string | null,
): MessageRecord['evidence'] {
  // A copy of another message is shown unjudged (j null), whatever was worked out about it along the way.
  return {
    findings: [...(j ? j.findings.map((x) => ({ code: x.code, detail: x.detail })) : []), ...countFindings],
    subject: f.subject,
    fromHeader: f.fromHeader,
    senderMatch: j?.senderMatch ?? null,
    dateHeader: f.dateHeader,
    receipt: f.receiptNote,
    received: f.received.map((h) => ({ by: h.by, at: h.at ? isoSeconds(h.at) : null })),
    papers: (j?.papers ?? []).map((p, i) => {
      const raw = j?.rawPapers[i];
      return {
        origin: p.origin,
        choices: p.choices,
        marks: p.marks,
        marksOmitted: p.marksOmitted,
        uncertain: p.uncertain,
        reference: raw?.reference ?? null,
        council: raw?.council ?? null,
        name: raw?.name ?? null,
        position: raw?.position ?? null,
        date: raw?.date ?? null,
      };
    }),
    quotedPapersIgnored: f.quotedPapers,
    signOff: j?.signOff ?? null,
    attachments: f.attachments.map((a) => ({ ...a })),
    forwarded: f.forwarded.map((x) => ({ origin: x.origin, from: x.header.from, date: x.header.date, subject: x.header.subject, papers: x.papers.length })),
    duplicateOf,
    supersededBy,
    authentication: authenticationRecord(f, j),
    size: f.size,
  };
}

