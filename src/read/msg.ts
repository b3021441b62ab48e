import MsgReaderModule from '@kenjiuno/msgreader';
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
  const html = fields.bodyHtml ?? (fields.html ? Buffer.from(fields.html).toString('utf8') : undefined);
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
