import { AsnParser } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData, id_data, id_envelopedData, id_signedData } from '@peculiar/asn1-cms';
import { fromBER, OctetString } from 'asn1js';

/**
 * What an S/MIME `application/pkcs7-mime` part (smime.p7m, RFC 8551) holds, as far as it can be
 * read without a private key:
 *
 * - `signed`: an opaque signed message (CMS SignedData that encapsulates its content): the MIME
 *   entity inside it, which is what a mail client shows;
 * - `encrypted`: CMS EnvelopedData or AuthEnvelopedData, which only the recipient's private key opens;
 * - `other`: anything else CMS carries (a signature without its content, compressed data), said;
 * - `unreadable`: not CMS, or its encapsulated content is not MIME data.
 *
 * The CMS is parsed with @peculiar/asn1-cms (on asn1js); nothing here
 * checks the S/MIME signature: the sender is proved as for every message (DKIM, the ballot server's
 * stamps), and a signature is not needed to read what the message shows.
 */
export type SmimeContent =
  | { kind: 'signed'; entity: Buffer }
  | { kind: 'encrypted' }
  | { kind: 'other'; what: string }
  | { kind: 'unreadable'; why: string };

const ID_AUTH_ENVELOPED_DATA = '1.2.840.113549.1.9.16.1.23';
const ID_COMPRESSED_DATA = '1.2.840.113549.1.9.16.1.9';

export function openSmime(der: Uint8Array): SmimeContent {
  let info: ContentInfo;
  try {
    info = AsnParser.parse(der, ContentInfo);
  } catch (e) {
    return { kind: 'unreadable', why: `it is not CMS (${(e as Error).message.slice(0, 120)})` };
  }
  if (info.contentType === id_envelopedData || info.contentType === ID_AUTH_ENVELOPED_DATA) return { kind: 'encrypted' };
  if (info.contentType === ID_COMPRESSED_DATA) return { kind: 'other', what: 'S/MIME compressed data' };
  if (info.contentType !== id_signedData) return { kind: 'other', what: `CMS content of type ${info.contentType}` };
  let signed: SignedData;
  try {
    signed = AsnParser.parse(info.content, SignedData);
  } catch (e) {
    return { kind: 'unreadable', why: `its signed data cannot be parsed (${(e as Error).message.slice(0, 120)})` };
  }
  const encapsulated = signed.encapContentInfo;
  if (encapsulated.eContentType !== id_data) return { kind: 'other', what: `signed content of type ${encapsulated.eContentType}, not a message` };
  const content = encapsulated.eContent;
  if (content === undefined || (content.single === undefined && content.any === undefined)) {
    return { kind: 'other', what: 'an S/MIME signature without the message it signs (a detached signature)' };
  }
  if (content.single !== undefined) return { kind: 'signed', entity: Buffer.from(content.single.buffer) };
  // A constructed OCTET STRING (BER, as a signer that streams writes it): its segments in order.
  let segments: Buffer[] | null;
  try {
    segments = octets(content.any!);
  } catch (e) {
    return { kind: 'unreadable', why: `its signed content cannot be parsed (${(e as Error).message.slice(0, 120)})` };
  }
  return segments === null ? { kind: 'unreadable', why: 'its signed content is not an octet string' } : { kind: 'signed', entity: Buffer.concat(segments) };
}

/** The bytes of a BER OCTET STRING, primitive or constructed (its segments, nested or not), in order; null when it is not one. */
function octets(ber: ArrayBuffer): Buffer[] | null {
  const parsed = fromBER(ber);
  if (parsed.offset === -1 || !(parsed.result instanceof OctetString)) return null;
  const out: Buffer[] = [];
  // Iterative, so that a hostile nesting of segments cannot exhaust the stack here.
  const stack: OctetString[] = [parsed.result];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (!s.idBlock.isConstructed) {
      out.push(Buffer.from(s.valueBlock.valueHexView));
      continue;
    }
    const parts = s.valueBlock.value;
    for (let i = parts.length - 1; i >= 0; i--) {
      const p = parts[i];
      if (!(p instanceof OctetString)) return null;
      stack.push(p);
    }
  }
  return out;
}
