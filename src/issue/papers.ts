import { createHash } from 'node:crypto';
import type { Election } from '../inputs/election.js';
import type { Roster } from '../inputs/roster.js';
import { paperPdf } from './paper-pdf.js';
import { paperText } from './paper-text.js';
import { ballotReference } from './references.js';

export interface IssuedPaper {
  councilId: string;
  council: string;
  reference: string;
  textFile: string;
  text: string;
  textSha256: string;
  pdfFile: string;
  pdf: Uint8Array;
  pdfSha256: string;
}

const sha = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** One text and one fillable-PDF paper per eligible council, in roster order. Pure: writes nothing. */
export async function issuePapers(election: Election, roster: Roster, secret: Buffer): Promise<IssuedPaper[]> {
  const issuedAt = election.opens ?? election.deadline;
  const out: IssuedPaper[] = [];
  for (const council of roster.councils.filter((c) => election.eligibleMembership.includes(c.membership))) {
    const reference = ballotReference(secret, election.id, council.id);
    const text = paperText(election, council, reference);
    const pdf = await paperPdf(election, council, reference, issuedAt);
    out.push({
      councilId: council.id,
      council: council.name,
      reference,
      textFile: `${council.id}.txt`,
      text,
      textSha256: sha(text),
      pdfFile: `${council.id}.pdf`,
      pdf,
      pdfSha256: sha(pdf),
    });
  }
  return out;
}

const csvField = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** issued.csv: what `--issued` reads back. It never contains the secret. */
export function issuedCsv(papers: readonly IssuedPaper[]): string {
  const rows = [['council_id', 'council', 'reference', 'text_file', 'text_sha256', 'pdf_file', 'pdf_sha256']];
  for (const p of papers) rows.push([p.councilId, p.council, p.reference, p.textFile, p.textSha256, p.pdfFile, p.pdfSha256]);
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
