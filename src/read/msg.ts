import { decompressRTF } from '@kenjiuno/decompressrtf';
import MsgReaderModule from '@kenjiuno/msgreader';
import iconv from 'iconv-lite';
import { deEncapsulateSync } from 'rtf-stream-parser';
import type { FieldsData } from '@kenjiuno/msgreader/lib/MsgReader.js';
import { compoundFileFlaw } from './cfb-guard.js';
import { isMsgFile } from './msg-detect.js';

interface Reader {
  getFileData(): FieldsData;
  getAttachment(attach: FieldsData): { fileName: string; content: Uint8Array };
}
// The package is CommonJS with a default export; under Node's ESM loader it arrives wrapped once more.
const MsgReader = ((MsgReaderModule as unknown as { default?: unknown }).default ?? MsgReaderModule) as unknown as new (data: ArrayBuffer) => Reader;

/**
 * An Outlook .msg file as the RFC 5322 message the rest of the reader understands: its transport
 * headers (Received, Authentication-Results, From, Date… as the receiving server saw them), its
 * bodies and attachments, embedded messages as message/rfc822. The original bytes are gone, so
 * no DKIM signature can be re-verified from it; the caller says so in the evidence.
 */
export interface MsgConversion {
  mime: Buffer;
  notes: string[];
}

const CRLF = '\r\n';
const DROP = /^(content-type|content-transfer-encoding|mime-version|content-disposition)$/i;

function unfoldHeaders(text: string): { name: string; line: string }[] {
  const out: { name: string; line: string }[] = [];
  for (const raw of text.replace(/\r?\n/g, '\n').split('\n')) {
    if (/^[ \t]/.test(raw) && out.length > 0) out[out.length - 1]!.line += CRLF + raw;
    else if (/^[!-9;-~]+:/.test(raw)) out.push({ name: raw.slice(0, raw.indexOf(':')), line: raw });
  }
  return out;
}

const b64 = (data: Uint8Array | string): string =>
  (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)).toString('base64').replace(/(.{76})/g, `$1${CRLF}`);

const quoteFilename = (name: string): string => `filename*=UTF-8''${encodeURIComponent(name)}`;

function mimeDate(iso: string | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d.toUTCString().replace('GMT', '+0000');
}

function convert(reader: Reader, fields: FieldsData, depth: number, maxDepth: number, notes: string[]): string {
  const headers = fields.headers ? unfoldHeaders(fields.headers).filter((h) => !DROP.test(h.name)) : [];
  const has = (name: string): boolean => headers.some((h) => h.name.toLowerCase() === name);
  const lines = headers.map((h) => h.line);
  if (!fields.headers) notes.push('the .msg has no transport headers (a draft or a sent item?): sender and date come from its properties');
  if (!has('from') && fields.senderEmail) lines.push(`From: ${fields.senderName ? `"${fields.senderName.replace(/"/g, '')}" ` : ''}<${fields.senderEmail}>`);
  if (!has('subject') && fields.subject !== undefined) lines.push(`Subject: =?UTF-8?B?${Buffer.from(fields.subject, 'utf8').toString('base64')}?=`);
  const date = mimeDate(fields.clientSubmitTime) ?? mimeDate(fields.creationTime);
  if (!has('date') && date) lines.push(`Date: ${date}`);
  const messageId = (fields as { messageId?: string }).messageId;
  if (!has('message-id') && messageId) lines.push(`Message-ID: ${messageId}`);
  if (fields.messageDeliveryTime) notes.push(`Outlook recorded delivery at ${fields.messageDeliveryTime}`);
  const boundary = `ccin-tally-msg-${depth}`;
  lines.push('MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`, '');
  const parts: string[] = [];
  const text = fields.body ? ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(fields.body)].join(CRLF) : null;
  const html = fields.bodyHtml ?? (fields.html ? Buffer.from(fields.html).toString('utf8') : undefined) ?? htmlFromRtf(fields.compressedRtf, notes);
  const htmlPart = html ? ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(html)].join(CRLF) : null;
  if (text !== null && htmlPart !== null) {
    // Both versions, as the message was sent: the HTML one is what Outlook shows, and is compared with the text one.
    const alt = `ccin-tally-alt-${depth}`;
    parts.push([`Content-Type: multipart/alternative; boundary="${alt}"`, '', `--${alt}`, text, `--${alt}`, htmlPart, `--${alt}--`].join(CRLF));
  } else if (text !== null) parts.push(text);
  else if (htmlPart !== null) parts.push(htmlPart);
  for (const att of fields.attachments ?? []) {
    if (att.innerMsgContent && att.innerMsgContentFields) {
      if (depth >= maxDepth) {
        notes.push('embedded messages nested too deep; not read');
        continue;
      }
      parts.push(['Content-Type: message/rfc822', `Content-Disposition: attachment; ${quoteFilename(`${att.name ?? 'message'}.eml`)}`, '', convert(reader, att.innerMsgContentFields, depth + 1, maxDepth, notes)].join(CRLF));
      continue;
    }
    const data = reader.getAttachment(att);
    const type = att.attachMimeTag ?? 'application/octet-stream';
    const name = data.fileName || att.fileName || 'attachment';
    // A message attached as a .msg file (not as an embedded item): read it as a forwarded message.
    if (isMsgFile(name, data.content) && depth < maxDepth) {
      try {
        const inner = msgToMime(Buffer.from(data.content), maxDepth, depth + 1);
        notes.push(...inner.notes);
        parts.push(['Content-Type: message/rfc822', `Content-Disposition: attachment; ${quoteFilename(name.replace(/\.msg$/i, '.eml'))}`, '', inner.mime.toString('utf8')].join(CRLF));
        continue;
      } catch {
        // not a readable .msg after all: attached as it is
      }
    }
    parts.push([`Content-Type: ${type}`, `Content-Disposition: attachment; ${quoteFilename(name)}`, 'Content-Transfer-Encoding: base64', '', b64(data.content)].join(CRLF));
  }
  return lines.join(CRLF) + CRLF + parts.map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join('') + `--${boundary}--${CRLF}`;
}

/** Compressed RTF bodies larger than this are not read (decompressing is done in a JavaScript array, and grows it some eightfold). */
const MAX_RTF_BYTES = 1 << 19;
const RTF_COMPRESSED = 0x75465a4c;
const RTF_UNCOMPRESSED = 0x414c454d;

/**
 * The HTML body Outlook keeps only inside its RTF body (PR_RTF_COMPRESSED with \fromhtml1, as
 * MS-OXRTFEX encapsulates it; Outlook then writes no PR_HTML), de-encapsulated: what Outlook shows
 * of the message, to be read and compared with the text body as any HTML version is. Undefined when
 * the RTF is no encapsulated HTML (rich text Outlook converted the text body from, or text); when it
 * is but cannot be read, a note says so.
 */
export function htmlFromRtf(compressed: Uint8Array | undefined, notes: string[]): string | undefined {
  if (compressed === undefined || compressed.length < 16) return undefined;
  const header = Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength);
  // The header's sizes are checked first: decompressRTF reads on to the size it declares.
  const declared = header.readUInt32LE(0) + 4;
  const kind = header.readUInt32LE(8);
  if (compressed.length > MAX_RTF_BYTES || declared > compressed.length || (kind !== RTF_COMPRESSED && kind !== RTF_UNCOMPRESSED)) {
    notes.push(`its rich-text body (PR_RTF_COMPRESSED, ${compressed.length} bytes) is ${compressed.length > MAX_RTF_BYTES ? `over the ${MAX_RTF_BYTES}-byte limit` : 'not well-formed'}: what Outlook shows of it was not read`);
    return undefined;
  }
  try {
    const rtf = Buffer.from(decompressRTF(Array.from(compressed)));
    // Encapsulated HTML says so in the RTF header, before any content.
    if (!/\\fromhtml1/.test(rtf.subarray(0, 1024).toString('latin1'))) return undefined;
    const out = deEncapsulateSync(rtf, { mode: 'html', decode: (buf: Buffer, encoding: string) => iconv.decode(buf, encoding) });
    return typeof out.text === 'string' ? out.text : out.text.toString('utf8');
  } catch (e) {
    notes.push(`its HTML body, which Outlook keeps inside its rich-text body, cannot be read (${(e as Error).message.slice(0, 200)}): what Outlook shows of it was not read`);
    return undefined;
  }
}

/** Converts a .msg; embedded messages are followed `maxDepth` levels down. */
export function msgToMime(bytes: Buffer, maxDepth: number, depth = 0): MsgConversion {
  // msgreader follows the file's chains and tree without checking that they end: checked first.
  const flaw = compoundFileFlaw(bytes);
  if (flaw !== null) throw new Error(`not a well-formed compound file: ${flaw}`);
  const reader = new MsgReader(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const fields = reader.getFileData();
  if ((fields as { error?: string }).error) throw new Error((fields as { error?: string }).error);
  const notes: string[] = [];
  const mime = convert(reader, fields, depth, maxDepth, notes);
  return { mime: Buffer.from(mime, 'utf8'), notes };
}
