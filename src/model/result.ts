import type { Disposition, Reason } from './reasons.js';

/**
 * The canonical result (spec §5): one model, rendered to JSON, the terminal and HTML. Field names
 * are public interface. Nothing here may depend on the clock, locale, time zone or working directory.
 */
export const RESULT_SCHEMA = 'ccin-tally/result@1';

/**
 * How the notes a council's receipt repeats begin (judge/ writes them, issue/receipts.ts finds them):
 * machine-made mail carrying an eligible council's marked paper, and words beside a blank paper that
 * name a candidate.
 */
export const NOTE_OPENING = {
  machineMadeVote: 'yet it carries a marked ballot paper',
  voteInWords: 'the text beside the unmarked paper names',
  wordsDisagree: "the sender's own words beside the marked paper say a vote for",
} as const;

export interface FindingRecord {
  code: string;
  detail: string;
}

export interface PaperRecord {
  origin: string;
  choices: string[];
  /** `bare`: a cross or tick with no box around it (a deleted box); `apart`: the box alone on the line above the name; each present only then. */
  marks: { line: number; text: string; mark: string; reading: string; candidate: string | null; bare?: true; apart?: true }[];
  /** Box lines read but not listed in `marks`, which keeps the first 100. */
  marksOmitted: number;
  uncertain: string[];
  reference: string | null;
  council: string | null;
  name: string | null;
  position: string | null;
  date: string | null;
}

export interface AdjudicationRecord {
  automatic: { disposition: 'needs-adjudication'; reason: Reason };
  decision: 'count' | 'reject';
  choices: string[];
  reason: string;
  line: number;
}

/** One DKIM signature weighed against the roster (judge/auth.ts makes these). */
export interface SignatureAssessment {
  domain: string;
  selector: string;
  algorithm: string | null;
  result: string;
  reason: string | null;
  keySource: string | null;
  /** d= is the From domain or a parent of it. */
  aligned: boolean;
  /** d= is registered to the sending council in the roster. */
  councilDomain: boolean;
  /** This signature authenticates the ballot. */
  authenticates: boolean;
  why: string;
}

export interface AuthenticationRecord {
  /** False when the election's dkim is "off". */
  checked: boolean;
  authenticated: boolean;
  decidedBy: 'signature' | 'trusted-header' | null;
  summary: string;
  /** A signature is present and fails: altered after signing? */
  failing: boolean;
  dkimSignaturesPresent: number;
  signatures: (SignatureAssessment & {
    bodyLengthLimit: number | null;
    unsignedBytes: number;
    signTime: string | null;
    expiresAfter: string | null;
  })[];
  trustedHeaders: { authservId: string; result: string; domain: string | null; authenticates: boolean }[];
  ignoredHeaders: { authservId: string; why: string }[];
}

/**
 * A message record whose evidence was spilled carries, under this key (not enumerable, so never a
 * field), how to write it: its text as writeJson lays it out and as the digest's canonical JSON.
 */
export const RENDERED = Symbol('ccin-tally rendered record');
/** The record as writeJson writes it inside `messages` (from its "{"), as canonical JSON, or its evidence object alone as JSON. */
export type RenderedForm = 'pretty' | 'canonical' | 'evidence';
export type RenderRecord = (form: RenderedForm) => string;
export function renderedOf(value: object): RenderRecord | undefined {
  return (value as { [RENDERED]?: RenderRecord })[RENDERED];
}

export interface MessageRecord {
  sha256: string;
  messageId: string | null;
  source: { file: string; kind: string; index: number | null; line: number | null };
  from: string | null;
  council: string | null;
  disposition: Disposition;
  reason: Reason | null;
  choices: string[];
  receivedAt: string | null;
  receivedAtSource: 'received' | 'date-header' | null;
  adjudication: AdjudicationRecord | null;
  evidence: {
    findings: FindingRecord[];
    subject: string | null;
    fromHeader: string | null;
    senderMatch: string | null;
    dateHeader: string | null;
    receipt: string | null;
    received: { by: string | null; at: string | null }[];
    papers: PaperRecord[];
    quotedPapersIgnored: number;
    signOff: { name: string | null; position: string | null; role: string | null; expected: string | null } | null;
    attachments: { filename: string | null; contentType: string; size: number; sha256: string; handling: string; note: string | null }[];
    forwarded: { origin: string; from: string | null; date: string | null; subject: string | null; papers: number }[];
    duplicateOf: string | null;
    supersededBy: string | null;
    authentication: AuthenticationRecord;
    size: number;
  };
}

export interface ResultModel {
  schema: typeof RESULT_SCHEMA;
  generator: string;
  election: {
    id: string;
    title: string;
    vacancies: number;
    method: string;
    candidates: { id: string; name: string; council: string | null }[];
    opens: string | null;
    deadline: string;
    opensLocal: string | null;
    deadlineLocal: string;
    timezone: string;
    ballotAddress: string;
    eligibleMembership: string[];
    signOffRoles: string[];
    receivedBy: string[] | null;
    receivedVia: string | null;
    dkim: string;
    duplicates: string;
    references: string;
    tieBreakSeed: string | null;
  };
  inputs: {
    election: { file: string; sha256: string };
    roster: { file: string; sha256: string; encoding: string; councils: number; eligible: number };
    adjudications: { file: string; sha256: string; rows: number } | null;
    keys: { file: string; sha256: string; records: number } | null;
    dns: boolean;
    issued: { file: string; sha256: string; councils: number } | null;
    mailbox: { file: string; kind: string; sha256: string; bytes: number; messages: number; note?: string }[];
  };
  limits: { maxMessageBytes: number; maxMimeParts: number; maxAttachments: number; maxHtmlChars: number; maxForwardDepth: number; maxPdfBytes: number; maxDocxXmlBytes: number };
  messages: MessageRecord[];
  summary: {
    read: number;
    dispositions: Record<Disposition, number>;
    accounted: number;
    rejected: Partial<Record<Reason, number>>;
    needsAdjudication: Partial<Record<Reason, number>>;
    notABallot: Record<string, number>;
    adjudicated: number;
    authentication: {
      policy: string;
      /** Messages that are ballots: every message but not-a-ballot and duplicate copies. */
      ballots: number;
      /** Of those, how many are authenticated (the terminal and HTML show these same two figures). */
      authenticated: number;
      /** Ballots (messages other than not-a-ballot and duplicate copies) not authenticated, other than those below. */
      unauthenticatedBallots: string[];
      /** Ballots with a DKIM signature present that fails. */
      failingSignatures: string[];
      /**
       * Unauthenticated papers sent in the name of a council that also sent an authenticated one
       * (someone else may have sent them), with what became of each.
       */
      unauthenticatedInCouncilName: {
        council: string;
        sha256: string;
        choices: string[];
        disposition: Disposition;
        reason: Reason | null;
        /** The council's authenticated message, or "key:<domain>" when a pinned key for its domain shows that it signs. */
        authenticatedPaper: string;
      }[];
    };
  };
  tally: { candidate: string; name: string; votes: number; elected: boolean }[];
  turnout: { voted: number; eligible: number; text: string };
  councilsNotVoted: { council: string; name: string; sent: string[] }[];
  lot: { seed: string; seats: number; order: { candidate: string; input: string; sha256: string }[]; elected: string[] } | null;
  /** The published tally sheet of receipts (`--tally-sheet`): its SHA-256 and lines; null when none was made. */
  tallySheet: { sha256: string; lines: number } | null;
  final: boolean;
  provisional: string[];
  /** What the officer must read beside the declaration: checks not made, and likely slips in the inputs. */
  notices: string[];
  digest: string;
}
