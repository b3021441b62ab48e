/**
 * Bytes that pdf-lib may decode from the compressed streams of one message's PDFs. It decodes the
 * object and cross-reference streams whole as it loads a file, with no limit of its own: a PDF of
 * 2 MB whose object stream inflated to 2 GiB took 28 s and 5.2 GB, and a PDF may be 10 MiB. The
 * streams of a filled-in form decode to some kilobytes. (Apart from pdf.ts, which loads pdf-lib only
 * when a message has a PDF, so that a count's reader can make each message's budget.)
 */
export const MAX_PDF_DECODED_BYTES = 64 << 20;

/** What is left to decode: one for all the PDFs of a message, forwarded ones included, so that fifty attached bombs cost one. */
export interface DecodeBudget {
  left: number;
  exceeded: boolean;
}

export const pdfDecodeBudget = (): DecodeBudget => ({ left: MAX_PDF_DECODED_BYTES, exceeded: false });
