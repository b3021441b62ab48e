import type { Election } from '../inputs/election.js';
import type { IssuedReferences } from '../inputs/issued.js';
import { normaliseReference } from '../issue/references.js';
import { councilForAddress, councilsNamedExactly, lookalikeOf, type Council, type Roster } from '../inputs/roster.js';
import { asciiLower, readAddress, showAddress } from '../model/address.js';
import { councilMatchScore, foldText } from '../model/names.js';
import { REJECTION_REASONS, type AdjudicationReason, type NotABallotKind, type RejectionReason } from '../model/reasons.js';
import { NOTE_OPENING } from '../model/result.js';
import type { MessageFacts } from '../read/message.js';
import { assessAuthentication, type AuthAssessment } from './auth.js';
import { candidatesNamedIn, matchCandidate, readPaperMarks, type PaperReading } from './marks.js';
import type { RawPaper } from '../read/paper.js';
import { checkSignOff } from './signoff.js';

/** One thing found about a message; every finding is kept as evidence, the first that decides wins. */
export interface Finding {
  code: RejectionReason | AdjudicationReason | 'not-a-ballot' | 'duplicate-copy' | 'note';
  detail: string;
}

export type Verdict =
  /**
   * `marked`: for machine-made mail (an auto-reply, a delivery report, a read receipt, by its
   * headers) from an eligible council, the candidates its own paper marks, when it marks any: a vote
   * that is not counted, which the officer is told of (officerNotices).
   */
  | { kind: 'not-a-ballot'; why: NotABallotKind; marked?: string[] }
  | { kind: 'rejected'; reason: RejectionReason }
  | { kind: 'needs-adjudication'; reason: AdjudicationReason }
  /**
   * `inWords`: candidates the sender's own words say a vote for that the paper does not mark;
   * `compareHtml`: the message's HTML version (what a mail client shows) holds no paper, or one that
   * cannot be read with certainty or shows no mark, beside the paper counted (officerNotices, each).
   */
  | { kind: 'valid'; inWords?: string[]; compareHtml?: true };

export interface Judgement {
  verdict: Verdict;
  council: Council | null;
  senderMatch: string | null;
  /** Candidate ids the message's paper marks (when it has a readable paper). */
  choices: string[];
  findings: Finding[];
  papers: PaperReading[];
  /** What the reader found on each paper in `papers` (same order). */
  rawPapers: RawPaper[];
  signOff: { name: string | null; position: string | null; role: string | null; expected: string | null } | null;
  auth: AuthAssessment | null;
}

function hasPossiblePaper(f: MessageFacts): boolean {
  return f.papers.length > 0 || f.forwarded.some((x) => x.papers.length > 0) || f.attachments.some((a) => a.handling === 'not-read' || a.handling === 'unreadable');
}

/** The candidates some of `papers` mark, each once, in the election's order. */
function markedIn(papers: readonly RawPaper[], election: Election): string[] {
  const marked = new Set(papers.flatMap((p) => readPaperMarks(p, election.candidates).choices));
  return election.candidates.map((c) => c.id).filter((id) => marked.has(id));
}

const describeAttachment = (a: MessageFacts['attachments'][number]): string => `${a.filename ?? '(unnamed)'} (${a.contentType}, sha256 ${a.sha256})${a.note ? `: ${a.note}` : ''}`;

const issuedOwners = new WeakMap<IssuedReferences, Map<string, string>>();
/** The council a reference was issued to, by index (a hostile mailbox of wrong references costs no more per message). */
function issuedTo(issued: IssuedReferences, reference: string): string | undefined {
  let owners = issuedOwners.get(issued);
  if (!owners) {
    owners = new Map([...issued].map(([council, ref]) => [ref, council]));
    issuedOwners.set(issued, owners);
  }
  return owners.get(reference);
}

function unknownSenderDetail(address: string, roster: Roster): string {
  const a = readAddress(address);
  const why = a.ok ? 'is not a roster address or in a roster domain' : a.problem;
  const like = lookalikeOf(roster, address);
  return `${showAddress(address)} ${why}${like ? `; its domain LOOKS LIKE ${like.domain} (${like.council.id}) but is not it: a look-alike domain` : ''}`;
}

/**
 * The first thing shaped like an address in a display name: found from its "@" outwards, so a long
 * hostile name costs one pass, never a backtracking search.
 */
function addressIn(name: string): string | undefined {
  const at = name.indexOf('@');
  if (at <= 0) return undefined;
  const part = /[^\s<>"'()@]/;
  let from = at;
  while (from > 0 && part.test(name[from - 1]!)) from--;
  let to = at + 1;
  while (to < name.length && part.test(name[to]!)) to++;
  return from < at && to > at + 1 ? name.slice(from, to) : undefined;
}

/**
 * What the officer should know about the identity headers that do not decide who sent a message:
 * a display name that looks like another address, Sender: and Reply-To:. None of them ever makes a
 * message a council's: the From address alone does (and DKIM aligned with it proves it).
 */
function identityNotes(f: MessageFacts, roster: Roster): string[] {
  const notes: string[] = [];
  if (f.from) {
    const inName = addressIn(f.from.name);
    if (inName && asciiLower(inName) !== f.from.address) {
      const c = councilForAddress(roster, inName)?.council;
      notes.push(`the From display name "${f.from.name}" looks like an address${c ? ` of ${c.id}` : ''}, but the address is ${showAddress(f.from.address)}: the address decides, never the name`);
    }
  }
  for (const [label, value] of [['Sender', f.senderHeader], ['Reply-To', f.replyToHeader]] as const) {
    if (value === null) continue;
    const addr = /<([^<>]+)>/.exec(value)?.[1] ?? value.trim();
    if (f.from && asciiLower(addr) === f.from.address) continue;
    notes.push(`${label}: ${value} differs from From; it is recorded, never used: who sent a ballot is decided by From alone`);
  }
  if (f.resent) {
    const shown = (v: string | null): string => (v === null ? '(none)' : v.length > 200 ? `${v.slice(0, 200)}…` : v);
    notes.push(
      `re-sent (Resent-From: ${shown(f.resent.from)}; Resent-Date: ${shown(f.resent.date)}): someone put this message back into the mail after its author sent it; it is judged as From's, and its receipt time is when this copy arrived`,
    );
  }
  return notes;
}

/**
 * Judges one message against the election and roster (spec §3). Pure: the same facts, election and
 * roster always give the same judgement.
 */
export interface JudgeContext {
  /** References issued to councils (`--issued`); null when none were given. */
  issued: IssuedReferences | null;
}

/**
 * Whether what the reader found is a ballot paper of this election: a form, boxes of which at least
 * one names a candidate, or a paper under a ballot-paper heading, unless it names another election
 * and none of this one's candidates (a council returning two elections' papers in one message). A
 * numbered or bracketed list in a covering note is not.
 */
function isBallotPaper(p: RawPaper, election: Election): boolean {
  if (namesACandidate(p, election)) return true;
  // A form whose vote fields are all another election's candidates' (papers issues one per election).
  if (p.boxes.length > 0 && p.boxes.every((b) => b.candidateId !== undefined)) return false;
  return p.heading && !ofAnotherElection(p, election);
}

function namesACandidate(p: RawPaper, election: Election): boolean {
  return p.boxes.some((b) =>
    b.candidateId !== undefined
      ? election.candidates.some((c) => c.id === b.candidateId)
      : matchCandidate(b.text, election.candidates) !== null || (b.continuation !== null && matchCandidate(`${b.text} ${b.continuation}`, election.candidates) !== null),
  );
}

const foldTitle = (t: string): string => foldText(t.replace(/&/g, ' and '));

/** A paper whose Election line names another election than this one. */
function ofAnotherElection(p: RawPaper, election: Election): boolean {
  return p.election !== null && p.election.trim() !== '' && foldTitle(p.election) !== foldTitle(election.title);
}

export function judgeMessage(facts: MessageFacts, election: Election, roster: Roster, context: JudgeContext = { issued: null }): Judgement {
  const findings: Finding[] = facts.notes.map((detail) => ({ code: 'note' as const, detail }));
  const setAside = facts.papers.filter((p) => !isBallotPaper(p, election));
  const otherElections = setAside.filter((p) => p.heading);
  const listsOnly = setAside.length - otherElections.length;
  if (listsOnly > 0) findings.push({ code: 'note', detail: `${listsOnly} list(s) of bracketed lines without a heading or any candidate's name: not ballot papers` });
  if (otherElections.length > 0) {
    const named = [...new Set(otherElections.map((p) => (p.election === null ? p.origin : `"${p.election.slice(0, 100)}"`)))].slice(0, 3).join(', ');
    findings.push({ code: 'note', detail: `${otherElections.length} paper(s) of another election (${named}), naming none of this election's candidates: set aside, not read for this election` });
  }
  const f: MessageFacts = {
    ...facts,
    papers: facts.papers.filter((p) => isBallotPaper(p, election)),
    htmlPapers: facts.htmlPapers && facts.htmlPapers.filter((p) => isBallotPaper(p, election)),
    forwarded: facts.forwarded.map((x) => ({ ...x, papers: x.papers.filter((p) => isBallotPaper(p, election)) })),
  };
  const j: Judgement = { verdict: { kind: 'valid' }, council: null, senderMatch: null, choices: [], findings, papers: [], rawPapers: [], signOff: null, auth: null };
  /** Candidates the sender's own words say a vote for that the paper counted does not mark. */
  let inWords: string[] | null = null;
  let compareHtml = false;

  if (f.unreadable !== null) {
    findings.push({ code: 'unreadable', detail: f.unreadable });
    j.verdict = { kind: 'rejected', reason: 'unreadable' };
    return j;
  }

  // One sender or none: several From headers, or several addresses in From, attribute the message to nobody.
  const ambiguous = f.fromHeaders > 1 || f.fromAddresses.length > 1;
  const match = f.from && !ambiguous ? councilForAddress(roster, f.from.address) : null;
  j.council = match?.council ?? null;
  j.senderMatch = match ? `${match.by} ${match.matched}` : null;
  const claimed = ambiguous ? f.fromAddresses.map((a) => ({ address: a, council: councilForAddress(roster, a)?.council ?? null })) : [];
  for (const note of identityNotes(f, roster)) findings.push({ code: 'note', detail: note });

  // An attachment that cannot be parsed, when no paper was found anywhere else, makes the message unreadable.
  const broken = f.attachments.filter((a) => a.handling === 'unreadable');
  if (broken.length > 0 && f.papers.length === 0 && !f.forwarded.some((x) => x.papers.length > 0) && !f.attachments.some((a) => a.handling === 'not-read')) {
    findings.push({ code: 'unreadable', detail: broken.map(describeAttachment).join('; ') });
    j.verdict = { kind: 'rejected', reason: 'unreadable' };
    return j;
  }
  const eligible = j.council !== null && election.eligibleMembership.includes(j.council.membership);
  j.auth = assessAuthentication(f, j.council, election);

  // Rule 3: machine-made mail, and anything without a paper that is not from an eligible council.
  const ownPaper = f.papers.length > 0;
  const strong = f.signals.find((s) => s.strong);
  const weak = f.signals.find((s) => !s.strong);
  // The returning officer's own mail in the exported mailbox (papers sent out, replies) is no ballot;
  // but one that forwards a marked paper (a council's ballot sent to the wrong address, passed on to
  // the ballot box) goes to the officer as any forward does (rule 4), never out of sight.
  const forwardsMarked = (): boolean => !ownPaper && f.forwarded.some((x) => markedIn(x.papers, election).length > 0);
  if (f.from && f.from.address === election.ballotAddress && !forwardsMarked()) {
    findings.push({ code: 'not-a-ballot', detail: `sent from the ballot address ${election.ballotAddress} itself` });
    j.verdict = { kind: 'not-a-ballot', why: 'from-ballot-address' };
    return j;
  }
  if (strong || (weak && !ownPaper)) {
    const s = (strong ?? weak)!;
    findings.push({ code: 'not-a-ballot', detail: `${s.kind}: ${s.detail}` });
    j.verdict = { kind: 'not-a-ballot', why: s.kind };
    // Its headers say a machine made it, yet an eligible council's own paper in it is marked: not
    // counted all the same (a header is no proof either way), but never passed over in silence.
    const marked = j.council !== null && eligible && ownPaper ? markedIn(f.papers, election) : [];
    if (marked.length > 0) {
      findings.push({
        code: 'note',
        detail: `${NOTE_OPENING.machineMadeVote} (→ ${marked.join(' + ')}) of ${j.council!.name}, an eligible council: machine-made mail is not counted; if the council meant it as its vote, it must send its paper again`,
      });
      j.verdict = { kind: 'not-a-ballot', why: s.kind, marked };
    }
    return j;
  }
  const claimsEligible = claimed.some((c) => c.council !== null && election.eligibleMembership.includes(c.council.membership));
  if (!hasPossiblePaper(f) && !eligible && !claimsEligible) {
    const who = f.from ? (j.council ? `${j.council.name} (${j.council.membership} member)` : f.from.address) : 'no sender';
    findings.push({ code: 'not-a-ballot', detail: `no ballot paper, and not from an eligible council (${who})` });
    j.verdict = { kind: 'not-a-ballot', why: 'no-paper' };
    return j;
  }

  // Rule 4: a paper that only travels inside someone else's forwarded email.
  if (!ownPaper && f.forwarded.some((x) => x.papers.length > 0)) {
    const fw = f.forwarded.find((x) => x.papers.length > 0)!;
    findings.push({
      code: 'forwarded',
      detail: `the paper is in a forwarded message (${fw.origin}) from ${fw.header.from ?? 'an unknown sender'}, dated ${fw.header.date ?? 'unknown'}`,
    });
    j.verdict = { kind: 'needs-adjudication', reason: 'forwarded' };
    // The outer sender is not the voter; when it is no council, the forwarded sender's council is recorded.
    if (!j.council && fw.header.from) {
      const inner = /<([^<>\s]+@[^<>\s]+)>/.exec(fw.header.from)?.[1] ?? addressIn(fw.header.from);
      const innerMatch = inner ? councilForAddress(roster, inner.replace(/^mailto:/i, '')) : null;
      if (innerMatch) {
        j.council = innerMatch.council;
        j.senderMatch = `forwarded sender: ${innerMatch.by} ${innerMatch.matched}`;
      }
    }
    return j;
  }

  // Rule 5: every rejection finding, then the first in the table's order decides.
  const rejections: { reason: RejectionReason; detail: string }[] = [];
  const adjudications: { reason: AdjudicationReason; detail: string }[] = [];
  if (ambiguous) {
    const shownClaims = claimed.slice(0, 10).map((c) => `${showAddress(c.address)}${c.council ? ` (${c.council.id})` : ''}`);
    const who = `${shownClaims.join(', ')}${claimed.length > 10 ? ` and ${claimed.length - 10} more` : ''}`;
    rejections.push({
      reason: 'ambiguous-sender',
      detail: `${f.fromHeaders > 1 ? `${f.fromHeaders} From headers` : 'one From header'} naming ${f.fromAddresses.length} address(es): ${who}; a ballot must name exactly one sender, so it is attributed to no council`,
    });
  } else if (!f.from) rejections.push({ reason: 'unknown-sender', detail: `no sender address in From: ${f.fromHeader ?? '(missing)'}` });
  else if (!j.council) rejections.push({ reason: 'unknown-sender', detail: unknownSenderDetail(f.from.address, roster) });
  else if (!eligible) {
    rejections.push({ reason: 'not-eligible', detail: `${j.council.name} is ${/^[AEIOU]/i.test(j.council.membership) ? 'an' : 'a'} ${j.council.membership} member; eligible: ${election.eligibleMembership.join(', ')}` });
  }

  const at = f.receivedAt ? Date.parse(f.receivedAt) : NaN;
  if (at > election.deadline.getTime()) {
    rejections.push({ reason: 'late', detail: `received ${f.receivedAt} (${f.receivedAtSource}), deadline ${election.deadline.toISOString()}` });
  } else if (election.opens && at < election.opens.getTime()) {
    rejections.push({ reason: 'early', detail: `received ${f.receivedAt} (${f.receivedAtSource}), voting opened ${election.opens.toISOString()}` });
  }

  if (j.auth.checked) {
    if (election.dkim === 'require' && !j.auth.authenticated) rejections.push({ reason: 'unauthenticated', detail: j.auth.summary });
    else findings.push({ code: 'note', detail: j.auth.summary });
    if (j.auth.failing && election.dkim === 'prefer') findings.push({ code: 'note', detail: 'a DKIM signature is present and fails: altered after signing?' });
  }

  if (ownPaper) {
    j.rawPapers = f.papers;
    j.papers = f.papers.map((p) => readPaperMarks(p, election.candidates));
    // Papers with boxes speak for the message; a heading alone (no boxes) adds nothing when another paper has them.
    const withBoxes = j.papers.some((p) => p.boxes > 0) ? j.papers.filter((p) => p.boxes > 0) : j.papers;
    // An unmarked copy beside marked papers (the issued form attached again, the paper pasted into
    // the body and left blank) marks nothing against them: the marked papers speak. Papers that
    // mark different candidates still disagree, and a doubtful mark is no blank.
    const blank = (p: PaperReading): boolean => p.choices.length === 0 && p.uncertain.length === 0 && p.uncertainOmitted === 0 && p.strayMarks === 0;
    const marked = withBoxes.filter((p) => !blank(p));
    const speaking = marked.length > 0 ? marked : withBoxes;
    if (marked.length > 0 && marked.length < withBoxes.length) {
      const copies = withBoxes.filter(blank).map((p) => p.origin);
      findings.push({ code: 'note', detail: `an unmarked copy of the paper (${copies.join(', ')}) beside the marked one (${marked.map((p) => p.origin).join(', ')}): the marked paper is read` });
    }
    const speakingRaw = f.papers.filter((_, i) => speaking.includes(j.papers[i]!));
    const pick = <K extends 'name' | 'position' | 'council' | 'reference' | 'election'>(k: K): string | null =>
      speakingRaw.map((p) => p[k]).find((v) => v !== null && v.trim() !== '') ?? f.papers.map((p) => p[k]).find((v) => v !== null && v.trim() !== '') ?? null;
    const name = pick('name');
    const position = pick('position');
    const councilText = pick('council');
    const referenceText = pick('reference');
    const electionText = pick('election');
    if (electionText !== null && foldTitle(electionText) !== foldTitle(election.title)) {
      findings.push({ code: 'note', detail: `the paper names the election "${electionText}", not "${election.title}": a paper of another election? (issued references catch it: --issued)` });
    }
    j.signOff = { name, position, role: null, expected: null };

    if (j.council && eligible) {
      const so = checkSignOff(name, position, j.council, election.signOffRoles);
      if (so.result === 'no-sign-off') rejections.push({ reason: 'no-sign-off', detail: so.detail });
      else {
        j.signOff.role = so.role;
        j.signOff.expected = so.expected;
        if (so.result === 'mismatch') rejections.push({ reason: 'sign-off-mismatch', detail: so.detail });
        else if (so.result === 'near-miss') adjudications.push({ reason: 'sign-off-near-miss', detail: so.detail });
      }
      if (councilText !== null) {
        const own = councilMatchScore(councilText, j.council.name, j.council.id);
        const better = councilsNamedExactly(roster, councilText).find((c) => c !== j.council);
        if (own === 0 || (own < 2 && better)) {
          rejections.push({ reason: 'council-mismatch', detail: `the paper names "${councilText}"${better ? ` (${better.name})` : ''}; the sender is ${j.council.name}` });
        }
      }
      if (context.issued && referenceText === null && election.references === 'required') {
        rejections.push({ reason: 'wrong-reference', detail: `the paper carries no ballot reference, and the election requires the one issued to ${j.council.id}` });
      }
      if (context.issued && referenceText !== null) {
        const written = normaliseReference(referenceText);
        const expected = context.issued.get(j.council.id);
        if (written !== expected) {
          const owner = issuedTo(context.issued, written);
          const whose = owner ? `the reference issued to ${owner}` : 'not a reference that was issued';
          rejections.push({ reason: 'wrong-reference', detail: `the paper's reference ${referenceText} is ${whose}; ${expected ? `${j.council.id} was issued ${expected}` : `no reference was issued to ${j.council.id}`}` });
        }
      }
    }

    const choiceSets = speaking.map((p) => p.choices.join(','));
    const uncertain = speaking.flatMap((p) => [...p.uncertain, ...(p.uncertainOmitted > 0 ? [`and ${p.uncertainOmitted} more such line(s)`] : [])].map((u) => (speaking.length > 1 ? `${p.origin}: ${u}` : u)));
    if (new Set(choiceSets).size > 1) {
      uncertain.push(`the message holds papers that disagree: ${speaking.map((p) => `${p.origin} → ${p.choices.join('+') || 'none'}`).join('; ')}`);
    } else if (f.htmlPapers !== null) {
      // The HTML version is the body's other version: what it shows is set against what is counted.
      const html = compareHtmlVersion(f.htmlPapers, speaking[0] ?? null, speakingRaw.some((p) => p.origin === 'body-text'), election);
      if (html?.kind === 'disagrees') uncertain.push(html.detail);
      else if (html) {
        findings.push({ code: 'note', detail: html.detail });
        compareHtml = true;
      }
    }
    const choices = speaking[0]?.choices ?? [];
    if (uncertain.length === 0) {
      if (choices.length === 0) {
        rejections.push({ reason: 'unmarked', detail: 'no candidate is marked' });
        // The paper is blank, but the sender's own words beside it may give the vote: the rules count
        // only a marked paper, and the officer is told where to look.
        const named = candidatesNamedIn(f.prose, election.candidates);
        if (named.length > 0) {
          findings.push({ code: 'note', detail: `${NOTE_OPENING.voteInWords} ${named.map((id) => election.candidates.find((c) => c.id === id)?.name ?? id).join(', ')}: a vote written in words? Only a marked paper counts; read it by eye (inspect)` });
        }
      } else if (choices.length > election.vacancies) {
        rejections.push({ reason: 'overvote', detail: `${choices.length} candidates marked (${choices.join(', ')}) for ${election.vacancies} vacanc${election.vacancies === 1 ? 'y' : 'ies'}` });
      } else {
        // The paper is marked, but the sender's own words beside it say a vote for someone it does not
        // mark ("Our council votes for Cllr Alty", "please count Cllr Alty instead"): the paper
        // counts, as the rules say, and the officer is told, beside the declaration, to read it.
        const stated = candidatesNamedIn(f.prose.filter((l) => STATES_A_VOTE.test(l)), election.candidates).filter((id) => !choices.includes(id));
        if (stated.length > 0) {
          inWords = stated;
          findings.push({ code: 'note', detail: `${NOTE_OPENING.wordsDisagree} ${stated.map((id) => election.candidates.find((c) => c.id === id)?.name ?? id).join(', ')}, whom the paper does not mark: the paper is counted as marked; read the message by eye (inspect) before declaring` });
        }
      }
    } else {
      rejections.push({ reason: 'void-for-uncertainty', detail: uncertain.join('; ') });
    }
    j.choices = uncertain.length === 0 ? choices : [];
    const unread = f.attachments.filter((a) => a.handling === 'not-read' || a.handling === 'unreadable');
    if (unread.length > 0) findings.push({ code: 'note', detail: `attachments not read by machine (the paper above was): ${unread.map(describeAttachment).join('; ')}` });
  } else {
    if (f.htmlPapers !== null && f.htmlPapers.length > 0) findings.push({ code: 'note', detail: HTML_ONLY_PAPER });
    const unread = f.attachments.filter((a) => a.handling === 'not-read');
    if (unread.length > 0) {
      adjudications.push({ reason: 'unreadable-attachment', detail: unread.map(describeAttachment).join('; ') });
    } else {
      // A paper marked in the quoted text: filled in inside a reply (below the quoted header), which
      // the rules do not count; the officer is told where to look.
      const quotedMarks = markedIn(f.quotedSample, election);
      const inQuote = quotedMarks.length > 0 ? `; the quoted reply text holds a paper marked → ${quotedMarks.join(' + ')}, which is not counted: was it filled in inside the reply? Read it by eye (inspect)` : '';
      adjudications.push({ reason: 'no-ballot-paper', detail: `no ballot paper found in the body or attachments${inQuote}` });
    }
  }
  if (f.quotedPapers > 0) findings.push({ code: 'note', detail: `${f.quotedPapers} paper(s) in quoted reply text ignored` });

  rejections.sort((a, b) => REJECTION_REASONS.indexOf(a.reason) - REJECTION_REASONS.indexOf(b.reason));
  for (const r of rejections) findings.push({ code: r.reason, detail: r.detail });
  for (const a of adjudications) findings.push({ code: a.reason, detail: a.detail });
  const firstRejection = rejections[0];
  const firstAdjudication = adjudications[0];
  if (firstRejection) j.verdict = { kind: 'rejected', reason: firstRejection.reason };
  else if (firstAdjudication) j.verdict = { kind: 'needs-adjudication', reason: firstAdjudication.reason };
  else j.verdict = { kind: 'valid', ...(inWords === null ? {} : { inWords }), ...(compareHtml ? { compareHtml: true as const } : {}) };
  return j;
}

/** Words by which a line of prose says a vote ("we vote for", "please count", "our choice is", "instead"). */
const STATES_A_VOTE = /\b(?:vot(?:e|es|ed|ing)|support(?:s|ed|ing)?|count(?:s|ed|ing)?|cho(?:ose|oses|se|sen|ice)|elect(?:s|ed|ing)?|prefer(?:s|red|ence)?|back(?:s|ed|ing)?|cast|nominat(?:e|es|ed|ing)|instead|rather)\b/i;

const HTML_ONLY_PAPER = 'the HTML version of the message (what a mail client shows) holds a ballot paper that its text version does not: read it by eye (inspect)';

/**
 * A message sent as text and HTML (multipart/alternative) shows the officer its HTML version, and
 * the machine reads its text version. When the HTML version reads with certainty and marks other
 * candidates than the paper counted (the body's, or an attachment's), nobody can say which the
 * council meant: the paper is void for uncertainty (as two papers in one message that disagree
 * are). When the HTML version holds no paper where the text body holds one, holds one that cannot
 * be read with certainty (a mail client's layout of a form), or shows no mark where the text
 * version has one, the text version's reading stands and a note says to compare them by eye: what
 * the HTML version lacks or doubts never voids a paper the text reads. What it shows that the text
 * version does not does: a paper in it that reads with certainty and marks other candidates, beside
 * whatever else it holds (a message may carry two HTML versions, and a mail client shows the last);
 * a mark outside every candidate's box (a second box marked beside a name, a marked line that names
 * nobody), which the officer and the council see and the count would not.
 */
function compareHtmlVersion(
  papers: readonly RawPaper[],
  counted: PaperReading | null,
  bodyHasPaper: boolean,
  election: Election,
): { kind: 'disagrees' | 'note'; detail: string } | null {
  const read = papers.map((p) => readPaperMarks(p, election.candidates));
  const speaking = read.filter((p) => p.boxes > 0);
  if (speaking.length === 0) {
    // Nothing to say when the paper counted is an attachment's, and the body (a covering note) holds none in either version.
    return bodyHasPaper ? { kind: 'note', detail: 'the HTML version of the message (what a mail client shows) holds no ballot paper the machine can read: compare it with the text version by eye' } : null;
  }
  const which = !counted || counted.origin === 'body-text' ? 'its text version' : `the paper in ${counted.origin}`;
  // On a paper (a heading, or a line naming a candidate): "(1) Please find our paper below." in a covering note is no mark.
  const stray = papers.reduce((n, p, i) => n + (p.heading || (read[i]?.candidateLines ?? 0) > 0 ? (read[i]?.strayMarks ?? 0) : 0), 0);
  if (stray > 0) {
    return { kind: 'disagrees', detail: `the message's HTML version (what a mail client shows) has ${stray} mark(s) outside the candidates' boxes, which ${which} does not hold` };
  }
  const textChoices = counted?.choices ?? [];
  // Each paper the HTML version holds that reads with certainty and marks candidates is one the
  // officer may be shown (a message may carry two HTML versions; a mail client shows the last):
  // any that marks others than the paper counted is a disagreement, however the rest read.
  const other = speaking.find((p) => p.uncertain.length === 0 && p.uncertainOmitted === 0 && p.choices.length > 0 && p.choices.join(',') !== textChoices.join(','));
  const sets = new Set(speaking.map((p) => p.choices.join(',')));
  if (other === undefined && (sets.size > 1 || speaking.some((p) => p.uncertain.length > 0 || p.uncertainOmitted > 0))) {
    return { kind: 'note', detail: `the HTML version of the message (what a mail client shows) cannot be read with certainty; ${which} was counted: compare them by eye` };
  }
  const htmlChoices = (other ?? speaking[0]!).choices;
  if (htmlChoices.join(',') === textChoices.join(',')) return null;
  if (htmlChoices.length === 0) {
    // A mark the HTML version does not show (a checked checkbox, an image) is more often lost in
    // converting it to text than never made: the marks read elsewhere count, and the officer is
    // told to look.
    return { kind: 'note', detail: `the message's HTML version (what a mail client shows) shows no candidate marked, and ${which} marks ${textChoices.join('+')}: the marks counted are those; compare them by eye` };
  }
  return {
    kind: 'disagrees',
    detail: `the message's HTML version (what a mail client shows) marks ${htmlChoices.join('+')}, and ${which} ${textChoices.join('+') || 'no candidate'}`,
  };
}
