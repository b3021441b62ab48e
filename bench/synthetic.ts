/**
 * A synthetic election of any size for the benchmark (and the scale tests): N councils in the
 * roster, one plain-text paper from each, every tenth with a 30 KB image attached, in one mboxrd
 * file as a receiving server would store them. Deterministic: the same N gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

const SYLLABLES = ['ash', 'bram', 'cal', 'dun', 'el', 'fen', 'gar', 'holm', 'ing', 'kes', 'lan', 'mor', 'nor', 'ock', 'pen', 'ric', 'stan', 'thorn', 'wel', 'york'];
const CANDIDATES = [
  { id: 'willoughby', name: 'Cllr Alistair Willoughby', council: 'North Hertfordshire District Council' },
  { id: 'williams', name: 'Cllr Jason Williams', council: 'Westminster City Council' },
  { id: 'alty', name: 'Cllr Jacky Alty', council: 'South Ribble Borough Council' },
];

/** A place name from the number: "Ashbramcal", distinct for every n. */
function place(n: number): string {
  let s = '';
  let k = n + SYLLABLES.length;
  while (k > 0) {
    s += SYLLABLES[k % SYLLABLES.length];
    k = Math.floor(k / SYLLABLES.length);
  }
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export interface Synthetic {
  dir: string;
  election: string;
  roster: string;
  mbox: string;
  messages: number;
  bytes: number;
}

const IMAGE = (() => {
  // 30 KB of incompressible bytes behind a JPEG header: what a phone photo of a paper weighs.
  const chunks: Buffer[] = [Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex')];
  let h = Buffer.from('seed');
  while (Buffer.concat(chunks).length < 30 * 1024) {
    h = createHash('sha256').update(h).digest();
    chunks.push(h);
  }
  return Buffer.concat(chunks).subarray(0, 30 * 1024);
})();

function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

export async function writeSynthetic(dir: string, councils: number, dkim: 'off' | 'prefer' | 'require' = 'off'): Promise<Synthetic> {
  const election = join(dir, 'election.json');
  writeFileSync(
    election,
    JSON.stringify({
      id: 'bench-election',
      title: 'Benchmark Board',
      vacancies: 1,
      method: 'plurality',
      candidates: CANDIDATES,
      opens: '2024-01-18T09:00',
      deadline: '2024-02-01T12:00',
      timezone: 'Europe/London',
      ballotAddress: 'ballots@ccin.example',
      receivedBy: ['mx.ccin.example'],
      dkim,
      duplicates: 'latest',
      tieBreak: { method: 'lot', seed: 'benchmark seed' },
    }),
  );
  const rosterLines = ['council_id,council,membership,leader,mayor,emails,domains'];
  for (let i = 0; i < councils; i++) {
    const p = place(i);
    rosterLines.push(`c${i},${p} Borough Council,Full,Cllr ${place(i + 7919)} ${p}son,,leader@${p.toLowerCase()}.gov.uk,${p.toLowerCase()}.gov.uk`);
  }
  const roster = join(dir, 'roster.csv');
  writeFileSync(roster, rosterLines.join('\n') + '\n');

  const mbox = join(dir, 'ballots.mbox');
  const out = createWriteStream(mbox);
  let bytes = 0;
  const opens = Date.parse('2024-01-18T09:00:00Z');
  for (let i = 0; i < councils; i++) {
    const p = place(i);
    const domain = `${p.toLowerCase()}.gov.uk`;
    const at = opens + ((i * 7919) % (13 * 86_400)) * 1000;
    const choice = CANDIDATES[i % 3]!;
    const paper = [
      'CCIN BALLOT PAPER',
      'Election: Benchmark Board',
      `Council: ${p} Borough Council`,
      '',
      ...CANDIDATES.map((c) => `[${c === choice ? 'X' : ' '}] ${c.name} (${c.council})`),
      '',
      `Name: Cllr ${place(i + 7919)} ${p}son`,
      'Position: Leader',
      'Date: 31/01/2024',
    ].join('\n');
    const head = [
      `From MAILER-DAEMON ${new Date(at).toUTCString()}`,
      `Received: from mail.${domain} (mail.${domain} [192.0.2.${(i % 250) + 1}]) by mx.ccin.example (Postfix) with ESMTPS id B${i}; ${rfc2822(at + 3000)}`,
      `From: Cllr ${place(i + 7919)} ${p}son <leader@${domain}>`,
      'To: ballots@ccin.example',
      `Subject: Ballot paper - ${p}`,
      `Date: ${rfc2822(at)}`,
      `Message-ID: <bench-${i}@${domain}>`,
      'MIME-Version: 1.0',
    ];
    let message: string;
    if (i % 10 === 9) {
      const b = `b${i}`;
      message = [
        ...head,
        `Content-Type: multipart/mixed; boundary="${b}"`,
        '',
        `--${b}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        paper,
        `--${b}`,
        'Content-Type: image/jpeg; name="signed.jpg"',
        'Content-Disposition: attachment; filename="signed.jpg"',
        'Content-Transfer-Encoding: base64',
        '',
        IMAGE.toString('base64').replace(/(.{76})/g, '$1\n'),
        `--${b}--`,
        '',
      ].join('\n');
    } else {
      message = [...head, 'Content-Type: text/plain; charset=utf-8', '', paper, ''].join('\n');
    }
    // mboxrd: a body line starting "From " (or ">From ") gains one ">".
    const escaped = message.replace(/\n(>*From )/g, '\n>$1') + '\n';
    bytes += Buffer.byteLength(escaped);
    if (!out.write(escaped)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { dir, election, roster, mbox, messages: councils, bytes };
}
