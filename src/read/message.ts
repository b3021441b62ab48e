import { hash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import iconv from 'iconv-lite';
import { simpleParser, type Attachment, type ParsedMail } from 'mailparser';
import { isoSeconds } from '../inputs/time.js';
import { asciiLower, notOneMailbox } from '../model/address.js';
import type { RawMessage } from '../sources/types.js';
import { parseRfc5322Date, parseReceived, type ReceivedHop } from './dates.js';
import { assessAuthenticationResults, receivedByRegion, type AuthResultsFact } from './auth-results.js';
import { bodyOffset } from './body-offset.js';
import { serviceBoundary, serviceRegion, type ServiceProfile, type TrustBoundary } from './services.js';
import type { DkimSignatureFact, TxtLookup } from './dkim.js';
import { boxLines, findPapers, type RawPaper } from './paper.js';
import { enrichedAsText, richtextAsText } from './enriched.js';
import { htmlAsShown, htmlAsText } from './html.js';
import { EVERY_CLIENT } from './html-shown.js';
import type { MsgConversion } from './msg.js';
import type { SmimeContent } from './smime.js';
import { isMsgFile } from './msg-detect.js';
import { pdfDecodeBudget, type DecodeBudget } from './pdf-budget.js';
import { splitQuoted, type ForwardedHeader } from './quotes.js';

/** Limits on what one message may make the reader do; each is reported when hit. */
export interface ReadLimits {
  maxMimeParts: number;
  maxAttachments: number;
  maxHtmlChars: number;
  maxForwardDepth: number;
  maxPdfBytes: number;
  maxDocxXmlBytes: number;
}
export const DEFAULT_READ_LIMITS: ReadLimits = {
  maxMimeParts: 200,
  maxAttachments: 50,
  maxHtmlChars: 2_000_000,
  maxForwardDepth: 3,
  maxPdfBytes: 10 * 1024 * 1024,
  maxDocxXmlBytes: 5 * 1024 * 1024,
};

export interface ReadOptions {
  receivedBy: readonly string[] | null;
  limits: ReadLimits;
  /** Where DKIM keys come from; null when the election's dkim is "off" (nothing is checked). */
  dkim?: { lookup: TxtLookup } | null;
  /** authserv-ids whose Authentication-Results headers may be trusted (with the position rule). */
  trustedAuthservIds?: readonly string[];
  /** The service that received the ballots (`receivedVia`): its edge decides the receipt time and which stamps are its own. */
  service?: ServiceProfile | null;
}

/**
 * Characters of text that one message may give to be read for ballot papers: its body, its text
 * attachments, and those of the messages forwarded in it, together. Reading costs about a
 * microsecond a character and a few hundred bytes of memory a line: 24 MiB of short lines took 29 s
 * and 2.7 GB. A ballot paper with a long quoted thread is some tens of thousands; what comes past
 * the limit is not read, and says so. Fixed, as MAX_DKIM_SIGNATURES is: not in the result's limits.
 */
export const MAX_TEXT_CHARS = 2_000_000;

/** Papers in quoted reply text kept for the judge to look at (the rest are only counted). */
const QUOTED_SAMPLE = 3;
/** Lines of the sender's own prose kept beside the papers (MessageFacts.prose). */
const PROSE_SAMPLE = 20;

const overTextLimit = (what: string, chars: number): string =>
  `${what} is ${chars} characters of text, over the ${MAX_TEXT_CHARS} read for ballot papers in one message (its body and text attachments, and those of messages forwarded in it, together)`;

interface DescribeOptions extends ReadOptions {
  /** What is left of MAX_TEXT_CHARS for this message: one budget, shared with the messages forwarded in it. */
  textBudget: { left: number };
  /** What pdf-lib may still decode for this message's PDFs, shared likewise. */
  pdfBudget: DecodeBudget;
  /** What is left of maxDocxXmlBytes for this message's Word documents together, shared likewise. */
  docxBudget: { left: number };
  hasPlainPart: boolean;
  bytes: Buffer;
  /**
   * For an opaque S/MIME signed message, whose `bytes` are what it shows (the entity inside its
   * signature, under its header fields): the message's own bytes and Content-Type, which its DKIM
   * signatures sign.
   */
  signed?: { bytes: Buffer; contentType: ContentType | undefined } | undefined;
  /** False when the bytes are not the original message's (a converted .msg): DKIM cannot be checked. */
  verifiable: boolean;
}

/**
 * read-as-*: read by machine; not-read: a possible paper a machine cannot count (scan, image, flattened
 * PDF), for the officer; unreadable: cannot be parsed at all; decoration: an image in the HTML body.
 */
export type AttachmentHandling = 'read-as-text' | 'read-as-pdf' | 'read-as-docx' | 'forwarded-message' | 'not-read' | 'unreadable' | 'decoration';

export interface AttachmentFact {
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  handling: AttachmentHandling;
  note: string | null;
}

export type NotABallotSignal = { kind: 'auto-reply' | 'delivery-report' | 'read-receipt'; detail: string; strong: boolean };

export interface ForwardedFacts {
  /** Where the forwarded message was: inline below a marker, or an attached message/rfc822. */
  origin: string;
  header: ForwardedHeader;
  papers: RawPaper[];
}

export type ReceiptSource = 'received' | 'date-header';

/** Everything judge/ needs to know about one message, and nothing that needs the election to work out. */
export interface MessageFacts {
  sha256: string;
  size: number;
  messageId: string | null;
  /** The first address of the first From header, as written (ASCII case-folded); judge/ decides what it proves. */
  from: { address: string; name: string } | null;
  fromHeader: string | null;
  /** How many From header fields the message has (RFC 5322 allows one). */
  fromHeaders: number;
  /** Every address in every From header, in order. */
  fromAddresses: string[];
  /** Sender: and Reply-To: as written: recorded, never used to decide who sent the message. */
  senderHeader: string | null;
  replyToHeader: string | null;
  /**
   * The top-most Resent-From and Resent-Date as written, when someone put the message back into the
   * mail after its author sent it (a "Redirect"): recorded, never used to decide who sent it.
   */
  resent: { from: string | null; date: string | null } | null;
  subject: string | null;
  dateHeader: string | null;
  dateHeaderAt: string | null;
  /**
   * The earliest time any of the message's Date headers gives (a DKIM signature that signs Date
   * covers one of them): when a signature without a t= tag was made at the latest, give or take the
   * sender's clock. null when none can be read.
   */
  earliestDateAt: string | null;
  /**
   * Header fields a message has at most once and the count reads (SINGLE_HEADERS) that this one has
   * more than once, top-level, with how many: a reader takes the top-most, a DKIM signature covers
   * the bottom-most, so one added above a signed one changes what is read and not what was signed.
   */
  repeatedHeaders: { name: string; count: number }[];
  /**
   * When the body is a MIME multipart whose outermost boundary is not the one the (top-most)
   * Content-Type declares, or the Content-Type declares no multipart at all, what was found: a
   * Content-Type replaced or added after signing shows a reader a part of the body, or none of its
   * structure. Looked for only when a passing DKIM signature leaves Content-Type unsigned; null otherwise.
   */
  bodyNotAsDeclared: string | null;
  received: ReceivedHop[];
  receivedAt: string | null;
  receivedAtSource: ReceiptSource | null;
  receiptNote: string | null;
  signals: NotABallotSignal[];
  papers: RawPaper[];
  quotedPapers: number;
  /**
   * The first papers found in quoted reply text (at most QUOTED_SAMPLE): never a vote, but one
   * marked there (a paper filled in inside a reply, below the quoted header) is worth telling the
   * officer of.
   */
  quotedSample: RawPaper[];
  /**
   * The first lines of the sender's own texts (body and text attachments, quoted and forwarded parts
   * set apart) that are no part of a paper, at most PROSE_SAMPLE: a vote written in words there, beside
   * a paper left blank or marked for someone else, is worth telling the officer of.
   */
  prose: string[];
  /**
   * The papers of the message's HTML version, when it has one beside the text/plain version that
   * `papers` were read from (multipart/alternative): what a mail client shows the officer. null when
   * the message has no such HTML version. judge/ compares the two readings.
   */
  htmlPapers: RawPaper[] | null;
  forwarded: ForwardedFacts[];
  attachments: AttachmentFact[];
  /** Why the message could not be read; set only for unreadable messages. */
  unreadable: string | null;
  /** Same for each copy of one message met in several exports (different bytes, same message). */
  identity: string;
  /**
   * For a message a DKIM signature over From and all of the body verifies, that signature's SHA-256
   * (signatureId): every delivery of the signed message carries it, whatever was changed in the
   * headers it does not sign (a replay with a new Message-ID, say); the count orders a council's
   * papers by when their signed message first arrived. null when no such signature passes.
   */
  signedAs: string | null;
  /** DKIM-Signature headers present. */
  dkimSignatures: number;
  /** Each signature verified at the receipt time; null when not checked (dkim "off", or no receipt time). */
  dkim: DkimSignatureFact[] | null;
  /** Why verification could not run, when it could not. */
  dkimError: string | null;
  authResults: AuthResultsFact[];
  /** What the reader wants the officer to know about how it read the message. */
  notes: string[];
}

/**
 * The readers of what only some messages hold — Outlook .msg (msgreader), PDF (pdf-lib), Word
 * (xmldom, fflate) and DKIM (mailauth) — are loaded the first time a message needs them, so that a
 * command starts without them.
 */
const lazy = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | null = null;
  return () => (p ??= load());
};
const pdfReader = lazy(() => import('./pdf.js'));
const docxReader = lazy(() => import('./docx.js'));
const msgReader = lazy(() => import('./msg.js'));
const smimeReader = lazy(() => import('./smime.js'));
/** Whether a Content-Type is S/MIME's opaque form (RFC 8551 §3.2; x-pkcs7-mime as older clients write it). */
const isPkcs7Mime = (contentType: string | undefined): boolean => /^application\/(?:x-)?pkcs7-mime$/i.test((contentType ?? '').trim());
const dkimVerifier = lazy(() => import('./dkim.js'));
const msgToMime = async (bytes: Buffer, maxDepth: number, depth = 0): Promise<MsgConversion> => (await msgReader()).msgToMime(bytes, maxDepth, depth);

function sha256(data: Buffer | string): string {
  return hash('sha256', data);
}

function headerValues(mail: ParsedMail, key: string): string[] {
  const out: string[] = [];
  for (const h of mail.headerLines) {
    if (h.key !== key) continue;
    const colon = h.line.indexOf(':');
    out.push(h.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim());
  }
  return out;
}

/** The mailboxes of an address header, groups opened; entries without an address are left out. */
function mailboxesOf(header: ParsedMail['from']): { address?: string; name?: string }[] {
  return (header?.value ?? []).flatMap((v) => (v.group ? v.group : [v])).filter((v) => v.address);
}

/**
 * Whether an address the parser read out of a header is written in it as such (case and white space
 * aside). mailparser gives a header's raw line byte for byte (as Latin-1), and an address written in
 * UTF-8 (SMTPUTF8) as UTF-8: it is looked for in both readings.
 */
function writtenIn(address: string, header: string): boolean {
  const squash = (t: string): string => asciiLower(t).replace(/\s+/g, '');
  const texts = headerTexts(header).map(squash);
  return addressForms(address).map(squash).some((a) => texts.some((t) => t.includes(a)));
}

/** An address as mailparser gives it, and as the header may write it: mailparser shows a punycode domain (xn--…) in Unicode. */
function addressForms(address: string): string[] {
  const at = address.lastIndexOf('@');
  const forms = [address, at < 0 ? '' : `${address.slice(0, at + 1)}${domainToASCII(address.slice(at + 1))}`].filter((a) => a.trim() !== '' && !a.trim().endsWith('@'));
  return [...new Set(forms)];
}

/** A header's text as read, and its bytes read again as UTF-8 (a raw UTF-8 header comes in as Latin-1). */
const headerTexts = (header: string): string[] => [...new Set([header, Buffer.from(header, 'latin1').toString('utf8')])];

/** Why the From header is not one mailbox holding the address (notOneMailbox), in no form of either; null when it is, in some form. */
function fromNotOneMailbox(header: string, address: string): string | null {
  let first: string | null = null;
  for (const text of headerTexts(header)) {
    for (const form of addressForms(address)) {
      const why = notOneMailbox(text, form);
      if (why === null) return null;
      first ??= why;
    }
  }
  return first;
}

function emptyFacts(raw: RawMessage): MessageFacts {
  return {
    sha256: raw.sha256,
    size: raw.size,
    messageId: null,
    from: null,
    fromHeader: null,
    fromHeaders: 0,
    fromAddresses: [],
    senderHeader: null,
    resent: null,
    replyToHeader: null,
    subject: null,
    dateHeader: null,
    dateHeaderAt: null,
    earliestDateAt: null,
    repeatedHeaders: [],
    bodyNotAsDeclared: null,
    received: [],
    receivedAt: null,
    receivedAtSource: null,
    receiptNote: null,
    signals: [],
    papers: [],
    quotedPapers: 0,
    quotedSample: [],
    prose: [],
    htmlPapers: null,
    forwarded: [],
    attachments: [],
    unreadable: null,
    identity: raw.sha256,
    signedAs: null,
    dkimSignatures: 0,
    dkim: null,
    dkimError: null,
    authResults: [],
    notes: [],
  };
}

/**
 * Signatures a message may carry and still be verified. Mail carries one to three; each one is a
 * key to look up (live DNS under --dns) and a signature to check, so a message with hundreds of them
 * could hold the count up for as long as its sender liked. Above the limit none is verified, and
 * the message is not authenticated (as mail servers cap them: KumoMTA verifies ten).
 */
export const MAX_DKIM_SIGNATURES = 10;

/**
 * Whether the message has a text/plain part (a line "Content-Type: text/plain") or no Content-Type
 * line at all (then it is text), so that a message of HTML alone is read from its HTML:
 * /^content-type:\s*text\/plain/im, or no /^content-type:/im, over the bytes read as Latin-1.
 */
export function hasTextPlain(bytes: Uint8Array): boolean {
  const { declared, any } = declaresType(bytes, TEXT_PLAIN);
  return declared || !any;
}

/**
 * Whether a line of the message declares a multipart/alternative part
 * (/^content-type:\s*multipart\/alternative/im over the bytes read as Latin-1): without one, an HTML
 * part beside a text part is more of the body (as mailparser and mail clients take it), not another
 * version of the text.
 */
export const hasAlternative = (bytes: Uint8Array): boolean => declaresType(bytes, MULTIPART_ALTERNATIVE).declared;

/**
 * Whether a "Content-Type:" line (at a line's start, any case) declares `type` (ASCII lower case),
 * and whether there is any such line. Scanned on the bytes, from each ":" (a base64 attachment has
 * none), without making a string of the whole message.
 */
function declaresType(bytes: Uint8Array, type: Uint8Array): { declared: boolean; any: boolean } {
  let any = false;
  let i = -1;
  while ((i = bytes.indexOf(0x3a /* : */, i + 1)) >= 0) {
    const start = i - 12;
    if (start < 0 || !matchesFolded(bytes, start, CONTENT_TYPE)) continue;
    // At a line's start, as ^ in a multiline pattern: the first byte, or after LF or CR.
    if (start > 0 && bytes[start - 1] !== 0x0a && bytes[start - 1] !== 0x0d) continue;
    any = true;
    let k = i + 1;
    while (k < bytes.length && isRegExpSpace(bytes[k]!)) k++;
    if (matchesFolded(bytes, k, type)) return { declared: true, any };
  }
  return { declared: false, any };
}
const TEXT_PLAIN = Buffer.from('text/plain', 'latin1');
const MULTIPART_ALTERNATIVE = Buffer.from('multipart/alternative', 'latin1');
/** \s of a JavaScript pattern, over Latin-1: tab, LF, VT, FF, CR, space, no-break space. */
/**
 * Whether a Content-Type line of the message declares UTF-7 (`charset=utf-7`, or an alias). The MIME
 * parser does not decode UTF-7 (libmime refuses it, as a way round filters), so such a part is read
 * as its bytes stand, while a mail client that decodes it (Outlook has) shows other text: "+AFs-X+AF0-"
 * is "[X]" there.
 */
export function declaresUtf7(bytes: Uint8Array): boolean {
  let i = -1;
  while ((i = bytes.indexOf(0x3a /* : */, i + 1)) >= 0) {
    const start = i - 12;
    if (start < 0 || !matchesFolded(bytes, start, CONTENT_TYPE)) continue;
    if (start > 0 && bytes[start - 1] !== 0x0a && bytes[start - 1] !== 0x0d) continue;
    // The field to its end: folded lines too (a line that starts with white space), at most 4 KB.
    let end = i + 1;
    while (end < bytes.length && end < i + 4096) {
      const nl = bytes.indexOf(0x0a, end);
      end = nl < 0 ? bytes.length : nl + 1;
      if (end >= bytes.length || (bytes[end] !== 0x20 && bytes[end] !== 0x09)) break;
    }
    if (UTF7_CHARSET.test(Buffer.from(bytes.subarray(i + 1, Math.min(end, i + 4096))).toString('latin1'))) return true;
  }
  return false;
}
/** Whether `text`, read as it stands, shows other characters decoded as UTF-7 (a "+…-" shift sequence in it). */
function shownOtherwiseAsUtf7(text: string): boolean {
  if (!text.includes('+')) return false;
  return iconv.decode(Buffer.from(text, 'utf8'), 'utf7') !== text;
}
const UTF7_CHARSET = /\bcharset\s*=\s*["']?\s*(?:unicode-1-1-|csunicode11)?utf-?7(?:-?imap)?\s*["']?\s*(?:;|\(|$)/im;
const isRegExpSpace = (b: number): boolean => (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0;
/** Whether `lower` (ASCII lower case) is at `at`, A–Z folded as a case-insensitive pattern folds them. */
function matchesFolded(bytes: Uint8Array, at: number, lower: Uint8Array): boolean {
  if (at + lower.length > bytes.length) return false;
  for (let k = 0; k < lower.length; k++) {
    const b = bytes[at + k]!;
    if ((b >= 0x41 && b <= 0x5a ? b | 0x20 : b) !== lower[k]) return false;
  }
  return true;
}

/** Facts for a message that could not be read at all, with the reason. */
export function unreadableFacts(raw: RawMessage, why: string): MessageFacts {
  return { ...emptyFacts(raw), unreadable: why };
}

/**
 * readMessage with the net under it: the reader turns every bad message it foresees into facts;
 * anything else a library throws on one message makes that message an unreadable row, never the
 * end of the count. Every thread reads through this.
 */
export async function readSafely(raw: RawMessage, options: ReadOptions): Promise<MessageFacts> {
  try {
    return await readMessage(raw, options);
  } catch (e) {
    return unreadableFacts(raw, `the reader failed on this message: ${(e as Error).message.slice(0, 200)}`);
  }
}

/**
 * Lines in one message. mailparser's splitter takes each line (to a line feed) as a Buffer of its
 * own: a message of 12 million short lines (24 MiB) took it 16 s and 1.5 GB with its default options, and the reader 29 s
 * and 2.7 GB. An honest message of 25 MiB, base64 at 78 bytes a line, has some 340,000. Fixed, as
 * MAX_DKIM_SIGNATURES is: not in the result's limits.
 */
export const MAX_MESSAGE_LINES = 1_000_000;

/** Why a message has too many lines to be parsed, or null; counted on the bytes, and only as far as the limit. */
function tooManyLines(bytes: Buffer): string | null {
  if (bytes.length <= MAX_MESSAGE_LINES) return null;
  let n = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    if (++n > MAX_MESSAGE_LINES) return `message has more than ${MAX_MESSAGE_LINES} lines, over the limit (a MIME parser reads a message a line at a time)`;
  }
  return null;
}

/** A quick look before parsing, so that a hostile message is refused cheaply. */
function countMimeParts(bytes: Buffer): number {
  // Counted on the bytes, without copying the message: every "content-type:" in any case.
  let n = 0;
  let i = -1;
  while ((i = bytes.indexOf(0x3a /* : */, i + 1)) >= 0) {
    if (i >= 12 && (bytes[i - 12]! | 0x20) === 0x63 && CONTENT_TYPE.equals(lowered(bytes, i - 12, i))) n++;
  }
  return n;
}
const CONTENT_TYPE = Buffer.from('content-type', 'latin1');
const scratch = Buffer.alloc(12);
function lowered(bytes: Buffer, from: number, to: number): Buffer {
  for (let k = from; k < to; k++) {
    const b = bytes[k]!;
    scratch[k - from] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
  }
  return scratch;
}

function parserOptions(limits: ReadLimits) {
  return {
    skipImageLinks: true,
    // mailparser's text is the text parts alone: HTML is converted here (bodyVersions, html.ts), and
    // mailparser would write an HTML part's tables run together into the text beside it.
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    keepCidLinks: true,
    ignoreEmbedded: true,
    maxHtmlLengthToParse: limits.maxHtmlChars,
    maxChildNodes: limits.maxMimeParts,
    // No checksum from the parser: the reader hashes each attachment itself, once (sha256 below).
    checksumAlgo: false,
  } as const;
}

/**
 * A message parsed by mailparser, every attachment with a content type: mailparser gives `false` for
 * a part whose Content-Type header is empty or unreadable, which RFC 2045 §5.2 says to take as
 * text/plain (a part read as such, as a mail client shows it, rather than the message failing).
 */
async function parseMime(bytes: Buffer, limits: ReadLimits): Promise<ParsedMail> {
  const mail = await simpleParser(bytes, parserOptions(limits));
  for (const a of mail.attachments) {
    if (typeof a.contentType !== 'string' || a.contentType.trim() === '') a.contentType = 'text/plain';
  }
  return mail;
}

export function decodeText(content: Buffer, charset: string | undefined): string {
  // A byte order mark says the encoding whatever the charset says (as a browser and Notepad read it):
  // a file saved as "Unicode" by Notepad is UTF-16 with one, often attached with no charset at all.
  if (content[0] === 0xff && content[1] === 0xfe) return iconv.decode(content.subarray(2), 'utf-16le');
  if (content[0] === 0xfe && content[1] === 0xff) return iconv.decode(content.subarray(2), 'utf-16be');
  const cs = (charset ?? '').trim().toLowerCase();
  if (cs && cs !== 'utf-8' && cs !== 'utf8' && cs !== 'us-ascii' && iconv.encodingExists(cs)) return iconv.decode(content, cs);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content).replace(/^\uFEFF/, '');
  } catch {
    return iconv.decode(content, 'windows-1252');
  }
}

function charsetOf(a: Attachment): string | undefined {
  const ct = a.headers.get('content-type');
  if (ct && typeof ct === 'object' && 'params' in ct) {
    const params = (ct as { params?: Record<string, string> }).params;
    return params?.charset;
  }
  return undefined;
}

function isTextAttachment(a: Attachment): boolean {
  const name = (a.filename ?? '').toLowerCase();
  return a.contentType === 'text/plain' || name.endsWith('.txt');
}

/**
 * Other versions of a message's body than text and HTML, which a mail client may show instead of
 * them (the last version it can show, in multipart/alternative): text/enriched and text/richtext
 * (Apple Mail and Thunderbird show the first), Apple Watch's HTML, AMP's HTML (Gmail, for senders it
 * knows). mailparser gives them as attachments.
 */
const OTHER_BODY_VERSION = /^text\/(?:enriched|richtext|watch-html|x-amp-html)$/;

/** An HTML file attached (an .html form), which the officer opens in a browser. */
function isHtmlAttachment(a: Attachment): boolean {
  return a.contentType === 'text/html' || /\.html?$/i.test(a.filename ?? '');
}

/** The text a reader shows of another version of the body or an HTML file attached, or why it cannot be told. */
function shownText(a: Attachment, raw: string, maxHtmlChars: number): { text: string } | { error: string } {
  if (a.contentType === 'text/enriched') return { text: enrichedAsText(raw) };
  if (a.contentType === 'text/richtext') return { text: richtextAsText(raw) };
  return htmlPaperText(raw, maxHtmlChars);
}

/**
 * HTML that is no version of the body (an attached .html form, the watch or AMP version of the body)
 * as the text to read for a paper: what every client shows of it; or why it cannot be told, when a
 * particular client (its stylesheet read, or Outlook) shows other box lines than that.
 */
function htmlPaperText(html: string, maxChars: number): { text: string } | { error: string } {
  const shown = htmlAsShown(html, maxChars);
  if (shown === null) return htmlAsText(html, maxChars);
  if ('error' in shown) return shown;
  const held = findPapers(shown.held, 'html');
  for (const v of shown.views) {
    if (v.text === null ? held.length > 0 : boxLines(findPapers(v.text, 'html')) !== boxLines(held)) {
      return { error: `${v.client} shows it otherwise than it holds${v.text === null ? ` (${v.why})` : ''}` };
    }
  }
  return { text: shown.held };
}

function isPdf(a: Attachment): boolean {
  return a.contentType === 'application/pdf' || (a.filename ?? '').toLowerCase().endsWith('.pdf');
}

function isDocx(a: Attachment): boolean {
  return a.contentType === 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' || (a.filename ?? '').toLowerCase().endsWith('.docx');
}

function isForwardedMessage(a: Attachment): boolean {
  return a.contentType === 'message/rfc822' || (a.filename ?? '').toLowerCase().endsWith('.eml') || isMsgFile(a.filename ?? '', a.content);
}

function notABallotSignals(mail: ParsedMail, subject: string | null, fromAddress: string | null): NotABallotSignal[] {
  const s: NotABallotSignal[] = [];
  const autoSubmitted = headerValues(mail, 'auto-submitted')[0];
  if (autoSubmitted && !/^no\b/i.test(autoSubmitted)) s.push({ kind: 'auto-reply', detail: `Auto-Submitted: ${autoSubmitted}`, strong: true });
  for (const key of ['x-autoreply', 'x-autorespond']) {
    const v = headerValues(mail, key)[0];
    if (v !== undefined) s.push({ kind: 'auto-reply', detail: `${key}: ${v}`, strong: true });
  }
  const precedence = headerValues(mail, 'precedence')[0];
  if (precedence && /auto[_-]?reply/i.test(precedence)) s.push({ kind: 'auto-reply', detail: `Precedence: ${precedence}`, strong: true });
  const ct = contentTypeOf(mail);
  const ctValue = (ct?.value ?? '').toLowerCase();
  const reportType = (ct?.params?.['report-type'] ?? '').toLowerCase();
  if (ctValue === 'multipart/report') {
    if (reportType === 'disposition-notification') s.push({ kind: 'read-receipt', detail: 'multipart/report; report-type=disposition-notification', strong: true });
    else s.push({ kind: 'delivery-report', detail: `multipart/report; report-type=${reportType || '(none)'}`, strong: true });
  }
  if (ctValue === 'message/disposition-notification') s.push({ kind: 'read-receipt', detail: ctValue, strong: true });
  const subj = subject ?? '';
  if (/^(automatic reply|auto(?:matic)?[- ]?reply|auto[- ]?response|out of (?:the )?office|autoreply|abwesenheitsnotiz)\b/i.test(subj)) {
    s.push({ kind: 'auto-reply', detail: `Subject: ${subj}`, strong: false });
  }
  if (/^(read|read receipt|gelesen)\s*:/i.test(subj) || /^(return receipt|read receipt)\b/i.test(subj)) s.push({ kind: 'read-receipt', detail: `Subject: ${subj}`, strong: false });
  if (fromAddress && /^(mailer-daemon|postmaster)@/i.test(fromAddress)) s.push({ kind: 'delivery-report', detail: `From: ${fromAddress}`, strong: false });
  if (/^(undeliverable|undelivered mail|delivery status notification|mail delivery (?:failed|failure|system)|returned mail)\b/i.test(subj)) {
    s.push({ kind: 'delivery-report', detail: `Subject: ${subj}`, strong: false });
  }
  return s;
}

/** The receipt time a receiving service stamped at its edge, else the sender's Date header, said to be. */
function serviceReceipt(
  service: ServiceProfile,
  boundary: TrustBoundary | null,
  hop: ReceivedHop | null,
  dateAt: Date | null,
): { at: Date | null; source: ReceiptSource | null; note: string | null } {
  if (boundary && hop?.at) return { at: hop.at, source: 'received', note: `Received header ${hop.position + 1} (${service.label}'s edge, by ${boundary.by})` };
  const why = boundary ? `${service.label}'s edge Received header (by ${boundary.by}) has no valid timestamp` : `no Received header from ${service.label}'s edge`;
  return dateAt
    ? { at: dateAt, source: 'date-header', note: `${why}; the Date header (written by the sender) is used instead` }
    : { at: null, source: null, note: `${why}, and the Date header is missing or invalid` };
}

function receipt(
  hops: ReceivedHop[],
  dateAt: Date | null,
  receivedBy: readonly string[] | null,
): { at: Date | null; source: ReceiptSource | null; note: string | null } {
  if (receivedBy && receivedBy.length > 0) {
    const hop = hops.find((h) => h.by !== null && receivedBy.includes(h.by));
    if (hop?.at) {
      const after = hop.trailing === undefined ? '' : `; text follows its timestamp (${JSON.stringify(hop.trailing)}), which is not the server's: a line of the message folded into its header?`;
      return { at: hop.at, source: 'received', note: `Received header ${hop.position + 1} (by ${hop.by})${after}` };
    }
    const why = hop ? `the Received header by ${hop.by} has no valid timestamp` : `no Received header was added by ${receivedBy.join(', ')}`;
    return dateAt
      ? { at: dateAt, source: 'date-header', note: `${why}; the Date header (written by the sender) is used instead` }
      : { at: null, source: null, note: `${why}, and the Date header is missing or invalid` };
  }
  return dateAt
    ? { at: dateAt, source: 'date-header', note: 'the election names no receivedBy hosts, so the Date header (written by the sender) is used' }
    : { at: null, source: null, note: 'the Date header is missing or invalid' };
}

/**
 * Reads one message. Never throws for a bad message: whatever cannot be read becomes `unreadable`
 * with the reason.
 */
export async function readMessage(raw: RawMessage, options: ReadOptions): Promise<MessageFacts> {
  const facts = emptyFacts(raw);
  if (raw.oversize) {
    facts.unreadable = `message is ${raw.size} bytes, over the limit`;
    return facts;
  }
  const parts = countMimeParts(raw.bytes);
  if (parts > options.limits.maxMimeParts) {
    facts.unreadable = `message has ${parts} MIME parts, over the limit of ${options.limits.maxMimeParts}`;
    return facts;
  }
  let bytes = raw.bytes;
  if (raw.source.kind === 'msg') {
    try {
      const converted = await msgToMime(raw.bytes, options.limits.maxForwardDepth);
      bytes = converted.mime;
      facts.notes.push('read from an Outlook .msg: the original message bytes are not in it, so its DKIM signatures cannot be re-verified', ...converted.notes);
    } catch (e) {
      facts.unreadable = `the Outlook .msg file cannot be read: ${(e as Error).message.slice(0, 200)}`;
      return facts;
    }
  }
  facts.unreadable = tooManyLines(bytes);
  if (facts.unreadable !== null) return facts;
  let mail: ParsedMail;
  try {
    mail = await parseMime(bytes, options.limits);
  } catch (e) {
    facts.unreadable = `MIME parse failed: ${(e as Error).message}`;
    return facts;
  }
  // An opaque S/MIME signed message: what it shows is the MIME entity inside its smime.p7m, read as
  // the body in its place; its signatures (DKIM) and its own Content-Type are the message's bytes'.
  let signed: DescribeOptions['signed'];
  const opened = raw.source.kind === 'msg' ? null : await openedSmime(bytes, mail, options.limits);
  if (typeof opened === 'string') {
    facts.unreadable = opened;
    return facts;
  }
  if (opened !== null) {
    signed = { bytes, contentType: contentTypeOf(mail) };
    bytes = opened.bytes;
    mail = opened.mail;
    facts.notes.push(SMIME_NOTE);
  }
  const described = await describe(mail, facts, { ...options, textBudget: { left: MAX_TEXT_CHARS }, pdfBudget: pdfDecodeBudget(), docxBudget: { left: options.limits.maxDocxXmlBytes }, hasPlainPart: hasTextPlain(bytes), bytes, signed, verifiable: raw.source.kind !== 'msg' }, 0);
  const deleted = setAside(raw, mail);
  if (deleted !== null) {
    described.notes.push(`${deleted}: it is still in the export, and is read and judged like any other message (a mail client's deleting or filing a message decides nothing about it; the officer decides in an adjudications file)`);
  }
  return described;
}

const SMIME_NOTE =
  'an S/MIME signed message in its opaque form (application/pkcs7-mime, smime.p7m): the message a mail client shows is inside the signature, and it was read from there; the S/MIME signature itself is not checked (the sender is proved as for any message: DKIM, the ballot server\'s stamps)';

/**
 * What an S/MIME part holds, its CMS parsed once for the message (a smime.p7m that is not opened as
 * the body is parsed again only to say what it is: no longer).
 */
const smimeOpened = new WeakMap<Attachment, SmimeContent>();
async function smimeContentOf(a: Attachment): Promise<SmimeContent> {
  let content = smimeOpened.get(a);
  if (content === undefined) {
    content = (await smimeReader()).openSmime(a.content);
    smimeOpened.set(a, content);
  }
  return content;
}

/** What an S/MIME part not read as the message's body is, for the officer who must open it. */
function smimeNote(content: SmimeContent): string {
  switch (content.kind) {
    case 'encrypted':
      return 'an S/MIME encrypted message, which only the private key of the address it was sent to opens: not read by machine (open it in the mail client that holds the key, and decide it by hand)';
    case 'signed':
      return 'an S/MIME signed message inside this one: not read by machine (open it in a mail client)';
    case 'other':
      return `S/MIME content of a kind not read by machine: ${content.what}`;
    case 'unreadable':
      return `declared as S/MIME, but ${content.why}: not read by machine`;
  }
}

/** The header fields of a message or entity, each with its folded lines, as written (latin1: byte for byte). */
function headerFields(bytes: Buffer): string[] {
  const at = bodyOffset(bytes);
  const head = (at < 0 ? bytes : bytes.subarray(0, at)).toString('latin1').replace(/(?:\r?\n)+$/, '');
  return head === '' ? [] : head.split(/\r?\n(?![ \t])/);
}
/** A header field as compared for sameness: its name in lower case, its value unfolded with its white space collapsed. */
const sameField = (field: string): string => {
  const colon = field.indexOf(':');
  return `${field.slice(0, colon).trim().toLowerCase()}:${field.slice(colon + 1).replace(/\s+/g, ' ').trim()}`;
};

/**
 * The message as a mail client shows an opaque S/MIME signed message (its Content-Type
 * application/pkcs7-mime, signed-data): its header fields but those of its content (Content-*), then
 * the MIME entity its smime.p7m encapsulates, parsed. Null when the message is not one (an encrypted
 * one stays as it is: its smime.p7m is an attachment not read, described as such); a string when it
 * is one whose content is over the reader's limits or cannot be parsed.
 */
async function openedSmime(bytes: Buffer, mail: ParsedMail, limits: ReadLimits): Promise<{ bytes: Buffer; mail: ParsedMail } | string | null> {
  const only = mail.attachments.length === 1 ? mail.attachments[0] : undefined;
  if (!isPkcs7Mime(contentTypeOf(mail)?.value) || only === undefined || !isPkcs7Mime(only.contentType)) return null;
  const content = await smimeContentOf(only);
  if (content.kind !== 'signed') return null;
  const kept = headerFields(bytes).filter((f) => !/^content-[^:]*:/i.test(f));
  // The entity's own header fields follow; one that only repeats a field of the message, word for
  // word (S/MIME header protection copies From, To, Subject and Date inside), says nothing new and is
  // not written twice. One that differs stays beside the message's, as a mail client may show either.
  const said = new Set(kept.map(sameField));
  const innerAt = bodyOffset(content.entity);
  const inner = innerAt < 0 ? null : headerFields(content.entity).filter((f) => !said.has(sameField(f)));
  const entity = inner === null ? content.entity : Buffer.concat([Buffer.from(inner.map((f) => `${f}\r\n`).join('') + '\r\n', 'latin1'), content.entity.subarray(innerAt)]);
  const shown = Buffer.concat([Buffer.from(kept.map((f) => `${f}\r\n`).join(''), 'latin1'), entity]);
  const lines = tooManyLines(shown);
  if (lines !== null) return `the message inside its S/MIME signature: ${lines}`;
  const parts = countMimeParts(shown);
  if (parts > limits.maxMimeParts) return `the message inside its S/MIME signature has ${parts} MIME parts, over the limit of ${limits.maxMimeParts}`;
  try {
    return { bytes: shown, mail: await parseMime(shown, limits) };
  } catch (e) {
    return `the message inside its S/MIME signature cannot be parsed: ${(e as Error).message.slice(0, 200)}`;
  }
}

/**
 * The header fields a message has at most once (RFC 5322 §3.6, RFC 2045, RFC 2183) that the count
 * reads: who sent it, when, what it is (subject, identity) and how its body is to be read. (To, Cc
 * and the like are once-only too, and old mail repeats them; the count reads none of them.)
 */
const SINGLE_HEADERS = new Set(['from', 'sender', 'reply-to', 'message-id', 'subject', 'date', 'mime-version', 'content-type', 'content-transfer-encoding', 'content-disposition']);

function repeatedSingleHeaders(headers: readonly { key: string }[]): { name: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const h of headers) if (SINGLE_HEADERS.has(h.key)) counts.set(h.key, (counts.get(h.key) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([name, count]) => ({ name, count }));
}

/** Why the HTML's papers are not what a reader is shown: one note for each way of showing it that differs. */
const hiddenHtmlNote = (v: ShownOtherwise): string =>
  v.client === EVERY_CLIENT
    ? 'the HTML of the message shows a reader what the text the machine reads of it leaves out (a form control: a ticked checkbox, a field\'s value, a list\'s chosen option; text struck through) or holds what no mail client shows (a title, a script), and the ballot paper it shows is not the one read'
    : v.why === null
    ? `the HTML version of the message, as ${v.client} shows it, hides some of what it holds, writes in what it does not, strikes it through, shows it in a font of its own or in another order or place (by a style, the hidden attribute, a <template>, a conditional comment or right-to-left text), and the ballot paper it shows is not the one it holds`
    : `the HTML version of the message cannot be read as ${v.client} shows it (${v.why}), and it holds a ballot paper`;
const UTF7_LINE = 'the message declares a part in UTF-7, which is read as it stands, not decoded, so a mail client that decodes it may show another mark here';
const HIDDEN_HTML_LINE = 'the HTML this line is in shows a reader otherwise than it holds (hidden, added, struck or moved text, or a font the message supplies, changes the ballot paper), so what a mail client shows is not what is read';
/** A way of showing the HTML by which its papers differ from what it holds: `papers` as shown, or null (and `why`) when that cannot be told. */
interface ShownOtherwise {
  client: string;
  papers: RawPaper[] | null;
  why: string | null;
}

/** A Content-Type header as mailparser gives it: the type, and its parameters. */
type ContentType = { value?: string; params?: Record<string, string> };
const contentTypeOf = (mail: ParsedMail): ContentType | undefined => mail.headers.get('content-type') as ContentType | undefined;

/**
 * Whether the body is what its Content-Type declares, as far as its outermost MIME structure shows:
 * a body whose last line (white space aside) is a close delimiter "--X--", with a "--X" line before
 * it, is a multipart with boundary X. Said (a string) when the Content-Type declares another
 * boundary, or no multipart; null when they agree, or the body shows no such structure (an epilogue,
 * a truncated message: nothing to tell). One scan back from the end, and one search for "--X".
 */
export function bodyNotAsDeclared(bytes: Buffer, contentType: ContentType | undefined): string | null {
  const bodyAt = bodyOffset(bytes);
  if (bodyAt < 0) return null;
  let end = bytes.length;
  while (end > bodyAt && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d || bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
  const lineStart = bytes.lastIndexOf(0x0a, end - 1) + 1;
  // A close delimiter is "--", a boundary of at most 70 characters (RFC 2046; 200 allowed here), and "--".
  if (lineStart < bodyAt || end - lineStart > 204) return null;
  const last = bytes.subarray(lineStart, end).toString('latin1');
  const close = /^--(.{1,200})--$/.exec(last);
  if (!close) return null;
  const boundary = close[1]!;
  const open = Buffer.from(`\n--${boundary}`, 'latin1');
  let at = bytes.indexOf(open, bodyAt - 1);
  let opened = false;
  while (at >= 0 && at < lineStart - 1) {
    const next = bytes[at + open.length];
    if (next === 0x0a || next === 0x0d || next === 0x20 || next === 0x09) {
      opened = true;
      break;
    }
    at = bytes.indexOf(open, at + 1);
  }
  if (!opened) return null;
  const declared = (contentType?.value ?? 'text/plain').toLowerCase();
  if (!declared.startsWith('multipart/')) return `the body is a multipart (boundary ${JSON.stringify(boundary)}), but its Content-Type says ${declared}`;
  const said = contentType?.params?.boundary;
  if (said !== boundary) return `the body's outermost multipart boundary is ${JSON.stringify(boundary)}, but its Content-Type declares ${JSON.stringify(said ?? '(none)')}`;
  return null;
}

/** Thunderbird's flag for a message deleted but not yet compacted out of its mbox (X-Mozilla-Status). */
const MOZILLA_EXPUNGED = 0x0008;

/**
 * Whether the mail client had set the message aside, and how: a Maildir file flagged T (trashed), a
 * Thunderbird mbox message whose X-Mozilla-Status has the expunged flag (it stays in the file until
 * the folder is compacted), a Google Takeout message labelled Spam or Trash. Null when none.
 */
function setAside(raw: RawMessage, mail: ParsedMail): string | null {
  if (raw.source.kind === 'maildir' && /:2,[A-Za-z]*T[A-Za-z]*$/.test(raw.source.file)) return 'the mail client had marked this message deleted (its Maildir file is flagged T, trashed)';
  // The top-most of each header: the one the mail client or the export wrote above the message.
  const status = headerValues(mail, 'x-mozilla-status')[0]?.trim() ?? '';
  if (/^[0-9a-f]{1,8}$/i.test(status) && (Number.parseInt(status, 16) & MOZILLA_EXPUNGED) !== 0) {
    return `the mail client had marked this message deleted (Thunderbird's X-Mozilla-Status: ${status}, expunged but not yet compacted out of the mbox; a header its sender could have written too)`;
  }
  // Google Takeout writes each message's labels; an export that includes Spam and Trash holds those too.
  const labels = (headerValues(mail, 'x-gmail-labels')[0] ?? '').split(',').map((l) => l.trim().toLowerCase());
  const filed = ['spam', 'trash'].filter((l) => labels.includes(l));
  if (filed.length > 0) return `Gmail had filed this message in ${filed.map((l) => l[0]!.toUpperCase() + l.slice(1)).join(' and ')} (X-Gmail-Labels, the top-most, which Takeout writes; a sender could write one lower down)`;
  return null;
}

async function describe(mail: ParsedMail, facts: MessageFacts, options: DescribeOptions, depth: number): Promise<MessageFacts> {
  const fromLines = headerValues(mail, 'from');
  const fromMailboxes = mailboxesOf(mail.from);
  facts.fromHeader = fromLines[0] ?? null;
  facts.fromHeaders = fromLines.length;
  facts.fromAddresses = fromMailboxes.map((v) => asciiLower(v.address ?? ''));
  // mailparser keeps only the first From header; a second one is a forgery vector, so each is read.
  for (const extra of fromLines.slice(1, 20)) {
    const parsed = await simpleParser(Buffer.from(`From: ${extra}\r\n\r\n`, 'utf8'));
    facts.fromAddresses.push(...mailboxesOf(parsed.from).map((v) => asciiLower(v.address ?? '')));
  }
  const first = fromMailboxes[0];
  facts.from = first?.address ? { address: asciiLower(first.address.trim()), name: first.name ?? '' } : null;
  if (facts.from && !writtenIn(facts.from.address, facts.fromHeader ?? '')) {
    // mailparser decodes RFC 2047 encoded words before it reads addresses, so "<=?utf-8?q?leader=40
    // council.gov.uk?=>" reads as the council's address, though no mail server reads it so (and no
    // DMARC check on the way saw the council's domain). An address is what the header writes.
    facts.notes.push(
      `the From address ${JSON.stringify(facts.from.address)} is not written in the From header as an address (it was decoded from an encoded word, which RFC 2047 forbids in an address, and no mail server reads as one): the message names no sender`,
    );
    facts.from = null;
  }
  const malformed = facts.from && facts.fromHeaders === 1 && facts.fromAddresses.length === 1 ? fromNotOneMailbox(facts.fromHeader ?? '', facts.from.address) : null;
  if (facts.from && malformed !== null) {
    // Parsers part ways over a malformed address header: what the ballot server, or a DMARC check on
    // the way, read as the sender may not be the address read here.
    facts.notes.push(`the From header is not one mailbox as RFC 5322 writes it (${malformed}), so mail servers and DMARC checks may read another sender than ${JSON.stringify(facts.from.address)}: the message names no sender`);
    facts.from = null;
  }
  facts.senderHeader = headerValues(mail, 'sender')[0] ?? null;
  const resentFrom = headerValues(mail, 'resent-from')[0] ?? null;
  const resentDate = headerValues(mail, 'resent-date')[0] ?? null;
  if (resentFrom !== null || resentDate !== null) facts.resent = { from: resentFrom, date: resentDate };
  facts.replyToHeader = headerValues(mail, 'reply-to')[0] ?? null;
  facts.messageId = headerValues(mail, 'message-id')[0] ?? null;
  facts.subject = mail.subject ?? null;
  const dateLines = headerValues(mail, 'date').slice(0, 20);
  const dates = dateLines.map((d) => parseRfc5322Date(d));
  const dateAt = dates[0] ?? null;
  facts.dateHeader = dateLines[0] ?? null;
  facts.dateHeaderAt = dateAt ? isoSeconds(dateAt) : null;
  const times = dates.flatMap((d) => (d ? [d.getTime()] : []));
  facts.earliestDateAt = times.length > 0 ? isoSeconds(new Date(Math.min(...times))) : null;
  // Every header in order, unfolded: Received hops and Authentication-Results are judged by position.
  const headerList = mail.headerLines.map((h) => ({ key: h.key, value: h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim() }));
  facts.repeatedHeaders = repeatedSingleHeaders(headerList);
  const receivedAt = headerList.flatMap((h, i) => (h.key === 'received' ? [i] : []));
  facts.received = receivedAt.map((i, n) => parseReceived(headerList[i]?.value ?? '', n));
  const service = options.service && options.service.name !== 'postfix' ? options.service : null;
  const byAt = new Map(receivedAt.map((pos, n) => [pos, facts.received[n]?.by ?? null]));
  const boundary = service ? serviceBoundary(service, headerList, (pos) => byAt.get(pos) ?? null) : null;
  const r = service
    ? serviceReceipt(service, boundary, facts.received[receivedAt.indexOf(boundary?.edge ?? -1)] ?? null, dateAt)
    : receipt(facts.received, dateAt, options.receivedBy);
  facts.receivedAt = r.at ? isoSeconds(r.at) : null;
  facts.receivedAtSource = r.source;
  facts.receiptNote = r.note;
  facts.dkimSignatures = headerList.filter((h) => h.key === 'dkim-signature').length;
  const region = service
    ? serviceRegion(service, boundary, options.trustedAuthservIds ?? [])
    : receivedByRegion(
        receivedAt.filter((pos) => {
          const by = byAt.get(pos);
          return by !== null && by !== undefined && (options.receivedBy ?? []).includes(by);
        }),
        options.trustedAuthservIds ?? [],
      );
  facts.authResults = assessAuthenticationResults(headerList, region);
  if (options.dkim && r.at && !options.verifiable) {
    facts.dkim = [];
    facts.dkimError = 'read from an Outlook .msg, whose original bytes are gone: DKIM cannot be re-verified';
  } else if (options.dkim && r.at && facts.dkimSignatures === 0) {
    facts.dkim = []; // nothing to verify: the verifier is not even loaded
  } else if (options.dkim && r.at && facts.dkimSignatures > MAX_DKIM_SIGNATURES) {
    facts.dkim = [];
    facts.dkimError = `the message has ${facts.dkimSignatures} DKIM-Signature headers, over the limit of ${MAX_DKIM_SIGNATURES}: none was verified`;
  } else if (options.dkim && r.at) {
    try {
      const verifier = await dkimVerifier();
      facts.dkim = await verifier.verifyDkim(options.signed?.bytes ?? options.bytes, r.at, options.dkim.lookup);
      // Only a signature that proves the whole message (it signs From, and has no flaw: signatureFlaw)
      // makes copies of it. Only for one that leaves Content-Type unsigned does it matter whether the
      // body is what that header says.
      if (facts.dkim.some((d) => d.result === 'pass' && !d.signedHeaders.some((h) => h.toLowerCase() === 'content-type'))) {
        facts.bodyNotAsDeclared = options.signed ? bodyNotAsDeclared(options.signed.bytes, options.signed.contentType) : bodyNotAsDeclared(options.bytes, contentTypeOf(mail));
      }
      facts.signedAs = facts.dkim.find((d) => d.result === 'pass' && d.signatureId !== null && verifier.signsFrom(d) && verifier.signatureFlaw(d, facts) === null)?.signatureId ?? null;
    } catch (e) {
      facts.dkim = [];
      facts.dkimError = `DKIM verification failed to run: ${(e as Error).message}`;
    }
  }
  facts.signals = notABallotSignals(mail, facts.subject, facts.from?.address ?? null);

  const texts: { origin: string; text: string }[] = [];
  // A text is read only while the message's budget lasts (MAX_TEXT_CHARS); one that is not is still
  // part of the message's identity, so that no two messages differing in it are taken for copies.
  const unread: string[] = [];
  const affordable = (text: string): boolean => {
    if (text.length > options.textBudget.left) {
      unread.push(sha256(text));
      return false;
    }
    options.textBudget.left -= text.length;
    return true;
  };
  // A message with a text/plain part and an HTML one: the text part is the body, and the HTML version
  // (what a mail client shows) is read too, as the body when the text part is blank, else for judge/
  // to compare with the text version's papers. A message with HTML and no text part: the HTML is the body.
  const { plain, html: htmlVersion } = bodyVersions(mail, options.hasPlainPart, options.limits.maxHtmlChars);
  // What mail clients show of the HTML, where its markup or stylesheet may show otherwise than it holds.
  const htmlPapersOf = (text: string): RawPaper[] => findPapers(splitQuoted(text, facts.subject).own, 'body-html');
  const shownOtherwise: ShownOtherwise[] = [];
  const asShown = typeof mail.html === 'string' ? htmlAsShown(mail.html, options.limits.maxHtmlChars) : null;
  // What every mail client shows of the HTML (null: what the machine reads of it).
  let shownToAll: RawPaper[] | null = null;
  if (asShown !== null && 'held' in asShown) {
    // Each reading set against the same parse and conversion.
    const held = htmlPapersOf(asShown.held);
    shownToAll = held;
    if (asShown.read !== asShown.held && boxLines(htmlPapersOf(asShown.read)) !== boxLines(held)) {
      shownOtherwise.push({ client: EVERY_CLIENT, papers: held, why: null });
    }
    for (const v of asShown.views) {
      if (v.text === null) {
        if (held.length > 0) shownOtherwise.push({ client: v.client, papers: null, why: v.why });
      } else {
        const papers = htmlPapersOf(v.text);
        if (boxLines(papers) !== boxLines(held)) shownOtherwise.push({ client: v.client, papers, why: null });
      }
    }
  } else if (asShown !== null) {
    // Not read as shown (a limit, or markup the reader fails on): only a paper the HTML holds is in doubt.
    const read = htmlVersion !== null && 'text' in htmlVersion ? htmlVersion.text : '';
    if (htmlPapersOf(read).length > 0) shownOtherwise.push({ client: 'a mail client', papers: null, why: asShown.error });
  }
  let bodyHidesPaper = false;
  // The HTML read as a body: what every mail client shows of it (a ticked checkbox as ☑; no title or
  // script), where that differs from what the conversion reads; doubtful where some client shows
  // otherwise still (its styles, its conditional comments).
  const asBody = (converted: { text: string }): string => (asShown !== null && 'held' in asShown ? asShown.held : converted.text);
  const hidesFromSome = shownOtherwise.some((v) => v.client !== EVERY_CLIENT);
  // A text part and HTML parts beside it that are not another version of it (no multipart/alternative:
  // a covering note and the paper as HTML, one after the other in a multipart/mixed): both are the body.
  const htmlIsMore = options.hasPlainPart && htmlVersion !== null && plain.trim() !== '' && !hasAlternative(options.bytes);
  if (htmlIsMore) {
    if (affordable(plain)) texts.push({ origin: 'body-text', text: plain });
    else facts.unreadable = overTextLimit('its body', plain.length);
    if ('text' in htmlVersion) {
      const body = asBody(htmlVersion);
      if (body.trim() !== '') {
        if (affordable(body)) texts.push({ origin: 'body-html', text: body });
        else facts.unreadable = overTextLimit('its body', body.length);
      }
      bodyHidesPaper = hidesFromSome;
    } else {
      // The text part is still read: a paper there counts; without one, the officer opens the message.
      facts.notes.push(`the message's HTML part could not be read (${htmlVersion.error}): only its text part was`);
    }
  } else if (plain.trim() !== '') {
    if (affordable(plain)) texts.push({ origin: 'body-text', text: plain });
    else facts.unreadable = overTextLimit('its body', plain.length);
    if (htmlVersion !== null && 'text' in htmlVersion) {
      // What every client shows of the HTML, and what particular clients show (its styles, its
      // conditional comments), are each set against the paper counted. (A form control the
      // conversion leaves out is no disagreement: every client shows it.)
      facts.htmlPapers = shownToAll ?? htmlPapersOf(htmlVersion.text);
      for (const v of shownOtherwise) {
        if (v.client === EVERY_CLIENT) continue;
        facts.htmlPapers.push(...(v.papers ?? []));
        facts.notes.push(hiddenHtmlNote(v));
      }
    } else if (htmlVersion !== null) {
      facts.notes.push(`the HTML version of the message could not be read (${htmlVersion.error}): only its text version was`);
    }
  } else if (htmlVersion !== null && 'text' in htmlVersion && asBody(htmlVersion).trim() !== '') {
    const body = asBody(htmlVersion);
    if (affordable(body)) texts.push({ origin: 'body-html', text: body });
    else facts.unreadable = overTextLimit('its body', body.length);
    bodyHidesPaper = hidesFromSome;
  } else if (htmlVersion !== null && 'error' in htmlVersion) {
    facts.unreadable = `HTML body could not be converted to text: ${htmlVersion.error}`;
  }
  const attachments = mail.attachments.slice(0, options.limits.maxAttachments);
  if (mail.attachments.length > options.limits.maxAttachments) {
    facts.unreadable = `message has ${mail.attachments.length} attachments, over the limit of ${options.limits.maxAttachments}`;
    return facts;
  }
  // Papers read from forms (PDF, Word): they have no quoted text to set apart.
  const formPapers: RawPaper[] = [];
  for (const a of attachments) {
    const fact: AttachmentFact = {
      filename: a.filename ?? null,
      contentType: a.contentType,
      size: a.size,
      sha256: sha256(a.content),
      handling: 'not-read',
      note: null,
    };
    facts.attachments.push(fact);
    if (isForwardedMessage(a)) {
      fact.handling = 'forwarded-message';
      if (depth >= options.limits.maxForwardDepth) {
        fact.note = 'forwarded messages nested too deep; not read';
        continue;
      }
      try {
        // The forwarded message is read as a message of its own (an attached Outlook .msg too): its
        // papers in body and attachments, its own forwards down to the depth limit. It has no
        // receipt time or signature that matters here: the outer message's do.
        const innerBytes = isMsgFile(a.filename ?? '', a.content) ? (await msgToMime(a.content, options.limits.maxForwardDepth, depth + 1)).mime : a.content;
        const innerHasPlainPart = hasTextPlain(innerBytes);
        const inner = await parseMime(innerBytes, options.limits);
        const innerBody = typeof inner.text === 'string' ? inner.text.length : 0;
        if (innerBody > options.textBudget.left) {
          fact.handling = 'unreadable';
          fact.note = overTextLimit("the forwarded message's body", innerBody);
          continue;
        }
        const innerRaw: RawMessage = { source: { file: a.filename ?? 'message.eml', kind: 'eml', index: null, line: null }, bytes: innerBytes, size: innerBytes.length, sha256: sha256(innerBytes), oversize: false };
        const innerFacts = await describe(inner, emptyFacts(innerRaw), { ...options, receivedBy: null, dkim: null, trustedAuthservIds: [], service: null, hasPlainPart: innerHasPlainPart, bytes: innerBytes, signed: undefined, verifiable: false }, depth + 1);
        facts.forwarded.push({
          origin: `attachment:${a.filename ?? 'message.eml'}`,
          header: {
            from: innerFacts.fromHeader,
            date: innerFacts.dateHeader,
            subject: innerFacts.subject,
          },
          papers: [...innerFacts.papers, ...innerFacts.forwarded.flatMap((x) => x.papers)],
        });
      } catch (e) {
        fact.note = `forwarded message cannot be parsed: ${(e as Error).message}`;
      }
    } else if (OTHER_BODY_VERSION.test(a.contentType) || isHtmlAttachment(a)) {
      // Another version of the body, or an HTML file attached (a form saved as a web page): read for
      // a paper beside the body's as a reader shows it (one that marks otherwise makes the message's
      // papers disagree), or left to the officer when a reader may show it otherwise. Charged to the
      // text budget at its length before it is converted, what converting costs.
      const version = OTHER_BODY_VERSION.test(a.contentType);
      const what = version ? `another version of the message's body (${a.contentType}), which some mail clients show instead of its text` : 'an HTML file';
      const raw = decodeText(a.content, charsetOf(a));
      const read = affordable(raw) ? shownText(a, raw, options.limits.maxHtmlChars) : null;
      if (read === null) {
        fact.handling = 'unreadable';
        fact.note = overTextLimit('the attachment', raw.length);
      } else if ('error' in read) {
        fact.handling = 'not-read';
        fact.note = `${what} whose paper cannot be read with certainty: ${read.error}`;
      } else {
        fact.handling = 'read-as-text';
        if (version) fact.note = `${what}: read for a paper beside the body's`;
        texts.push({ origin: `attachment:${a.filename ?? (version ? a.contentType : 'paper.html')}`, text: read.text });
      }
    } else if (isPdf(a)) {
      const r = await (await pdfReader()).readPdfPaper(a.content, `attachment:${a.filename ?? 'paper.pdf'}`, options.limits.maxPdfBytes, options.pdfBudget);
      if (r.kind === 'paper') {
        fact.handling = 'read-as-pdf';
        formPapers.push(r.paper);
      } else {
        fact.handling = r.kind === 'unreadable' ? 'unreadable' : 'not-read';
        fact.note = r.why;
      }
    } else if (isDocx(a)) {
      const r = (await docxReader()).readDocxPapers(a.content, `attachment:${a.filename ?? 'paper.docx'}`, options.limits.maxDocxXmlBytes, options.docxBudget);
      if (r.kind === 'papers') {
        fact.handling = 'read-as-docx';
        if (r.papers.length === 0) fact.note = 'no ballot paper found in the document';
        formPapers.push(...r.papers);
      } else {
        fact.handling = r.kind === 'unreadable' ? 'unreadable' : 'not-read';
        fact.note = r.why;
      }
    } else if (isTextAttachment(a)) {
      const text = decodeText(a.content, charsetOf(a));
      if (affordable(text)) {
        fact.handling = 'read-as-text';
        texts.push({ origin: `attachment:${a.filename ?? 'text.txt'}`, text });
      } else {
        fact.handling = 'unreadable';
        fact.note = overTextLimit('the attachment', text.length);
      }
    } else if (a.related || (a.contentDisposition === 'inline' && a.contentType.startsWith('image/') && a.cid)) {
      fact.handling = 'decoration';
      fact.note = 'image embedded in the HTML body';
    } else {
      fact.note = isPkcs7Mime(a.contentType)
        ? smimeNote(await smimeContentOf(a))
        : a.contentType.startsWith('image/') ? 'an image (a scanned paper?): not read by machine' : 'a file of a kind not read by machine';
    }
  }

  /** Lines of the sender's own part of each text (quoted and forwarded text set apart) that are no part of a paper. */
  const prose = { lines: facts.prose, max: PROSE_SAMPLE };
  for (const t of texts) {
    const split = splitQuoted(t.text, facts.subject);
    facts.papers.push(...findPapers(split.own, t.origin, prose));
    const quoted = findPapers(split.quoted, t.origin);
    facts.quotedPapers += quoted.length;
    facts.quotedSample.push(...quoted.slice(0, QUOTED_SAMPLE - facts.quotedSample.length));
    if (split.forwarded) {
      facts.forwarded.push({
        origin: `${t.origin} below "${split.forwarded.marker}"`,
        header: split.forwarded.header,
        papers: findPapers(split.forwarded.text, `forwarded:${t.origin}`),
      });
    }
  }
  if (bodyHidesPaper) {
    // The body is the HTML, and what it shows is not all it holds: no paper in it reads with certainty.
    facts.notes.push(...shownOtherwise.filter((v) => v.client !== EVERY_CLIENT).map(hiddenHtmlNote));
    for (const p of facts.papers) if (p.origin === 'body-html') for (const b of p.boxes) b.unsure = HIDDEN_HTML_LINE;
  }
  if (facts.papers.some((p) => p.origin.startsWith('body-')) && declaresUtf7(options.bytes) && texts.some((t) => t.origin.startsWith('body-') && shownOtherwiseAsUtf7(t.text))) {
    facts.notes.push('a part of the message is declared in UTF-7, which this reader does not decode: a mail client that decodes it may show other marks than are read');
    for (const p of facts.papers) if (p.origin.startsWith('body-')) for (const b of p.boxes) b.unsure = UTF7_LINE;
  }
  facts.papers.push(...formPapers);
  facts.identity = sha256(
    JSON.stringify([
      facts.messageId,
      facts.fromHeader,
      facts.dateHeader,
      facts.subject,
      // mboxo cannot tell an escaped "From " line from one that began ">From ": both read alike here.
      texts.map((t) => t.text.replace(/^>+(?=From )/gm, '').replace(/\s+/g, ' ').trim()),
      facts.attachments.map((a) => a.sha256),
      // What else in the headers decides how a message is judged: a delivery that differs in it (an
      // Auto-Submitted header added, a second From) is judged as the message it is, never as a copy.
      facts.fromHeaders,
      facts.signals.map((x) => `${x.kind}:${x.detail}`),
      ...(unread.length > 0 ? [unread] : []),
    ]),
  );
  if (facts.unreadable === null && facts.receivedAt === null) facts.unreadable = `no usable receipt time: ${facts.receiptNote ?? ''}`;
  return facts;
}

/** What a person reads to judge a message by hand (`inspect`): its text, split as the count split it, and its attachments. */
export interface MessageForOfficer {
  own: string;
  quoted: string;
  forwarded: string | null;
  /** The HTML version as text, when the message has one beside a text version (what a mail client shows); null otherwise. */
  html: string | null;
  /**
   * The HTML as particular mail clients show it, where that is not what the machine reads of it
   * (its styles hide or write text, its conditional comments show Outlook more, a form control):
   * the text, or why it cannot be told.
   */
  shown: { client: string; text: string | null; why: string | null }[];
  attachments: { filename: string | null; contentType: string; content: Buffer }[];
}

/**
 * A message's body as text, and its HTML version as text: the text part (mailparser's `text`) and
 * the HTML converted here (html.ts). Without a text/plain part, mailparser's `text` is its own
 * conversion of the HTML, made only for an HTML part at the message's root (multipart/related, with
 * the HTML beside its pictures, or multipart/mixed, beside its attachments, got none), with tables
 * run together: then the HTML alone is the body, converted as every HTML version is.
 */
function bodyVersions(mail: ParsedMail, hasPlainPart: boolean, maxHtmlChars: number): { plain: string; html: { text: string } | { error: string } | null } {
  const html = typeof mail.html === 'string' ? htmlAsText(mail.html, maxHtmlChars) : null;
  const plain = hasPlainPart || html === null ? (mail.text ?? '') : '';
  return { plain, html };
}

/**
 * Reads one message again for the officer. The count keeps only facts, never bodies; `inspect`
 * asks for this when a person must read the free text, the forwarded part, or open a scan.
 */
export async function readForOfficer(raw: RawMessage, limits: ReadLimits): Promise<MessageForOfficer | { unreadable: string }> {
  if (raw.oversize) return { unreadable: 'over the size limit' };
  try {
    let bytes = raw.source.kind === 'msg' ? (await msgToMime(raw.bytes, limits.maxForwardDepth)).mime : raw.bytes;
    const lines = tooManyLines(bytes);
    if (lines !== null) return { unreadable: lines };
    let mail = await parseMime(bytes, limits);
    // What the count read of an opaque S/MIME signed message: the message inside its signature.
    const opened = raw.source.kind === 'msg' ? null : await openedSmime(bytes, mail, limits);
    if (typeof opened === 'string') return { unreadable: opened };
    if (opened !== null) ({ bytes, mail } = opened);
    const hasPlainPart = hasTextPlain(bytes);
    const { plain, html: htmlVersion } = bodyVersions(mail, hasPlainPart, limits.maxHtmlChars);
    const htmlText = htmlVersion !== null && 'text' in htmlVersion ? htmlVersion.text : null;
    const asShown = typeof mail.html === 'string' ? htmlAsShown(mail.html, limits.maxHtmlChars) : null;
    // As the count read it: a blank text version leaves the HTML version as the body, and HTML beside
    // a text part that is no other version of it is more of the body, each as every client shows it.
    const htmlBody = htmlText !== null && asShown !== null && 'held' in asShown ? asShown.held : htmlText;
    const more = hasPlainPart && htmlBody !== null && plain.trim() !== '' && !hasAlternative(bytes);
    const text = more ? `${plain}\n\n${htmlBody}` : plain.trim() === '' && htmlBody !== null ? htmlBody : plain;
    if (text.length > MAX_TEXT_CHARS) return { unreadable: overTextLimit('its body', text.length) };
    const split = splitQuoted(text, mail.subject ?? null);
    const shown: MessageForOfficer['shown'] = [];
    if (asShown !== null && 'held' in asShown) {
      // (What every client shows is the body itself when the HTML is the body.)
      if (asShown.read !== asShown.held && text !== htmlBody && !more) shown.push({ client: EVERY_CLIENT, text: asShown.held, why: null });
      for (const v of asShown.views) if (v.text !== asShown.held) shown.push({ client: v.client, text: v.text, why: 'why' in v ? v.why : null });
    }
    return {
      own: split.own,
      quoted: split.quoted,
      forwarded: split.forwarded ? split.forwarded.text : null,
      html: text === htmlBody || more ? null : (htmlText ?? (htmlVersion !== null && 'error' in htmlVersion ? `(cannot be read: ${htmlVersion.error})` : null)),
      shown,
      attachments: mail.attachments.slice(0, limits.maxAttachments).map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, content: a.content })),
    };
  } catch (e) {
    return { unreadable: (e as Error).message.slice(0, 200) };
  }
}
