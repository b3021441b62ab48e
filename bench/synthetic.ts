/**
 * A synthetic election of any size for the benchmark (and the scale tests): N councils in the
 * roster, one plain-text paper from each, every tenth with a 30 KB image attached, in one mboxrd
 * file as a receiving server would store them (or N papers from fewer councils, each sending
 * several). Deterministic: the same N gives the same bytes.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
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
  /** With `signed`: the keys file that pins every council's DKIM key (--keys). */
  keys: string | null;
}

/**
 * The councils' DKIM key when the mail is signed: one Ed25519 key from a fixed seed, published for
 * every council's domain, so that the same N gives the same bytes (Ed25519 signatures are
 * deterministic, and each signature's time is its message's Date).
 */
const SIGNING_KEY = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), createHash('sha256').update('ccin-tally bench key').digest()]), format: 'der', type: 'pkcs8' });
const SELECTOR = 'bench';
const SIGNING_PEM = SIGNING_KEY.export({ format: 'pem', type: 'pkcs8' });

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

/**
 * `n` messages, one from each of `n` councils; with `councils`, from that many councils in turn (so
 * each sends n / councils papers, the latest of which counts), which shows what a count holds for
 * each message apart from what it holds for each council. `signed`: each message carries a real
 * DKIM signature (mailauth's signer, ed25519-sha256, d= the council's domain), and `keys.zone` pins
 * the key, so that a count verifies every message.
 */
export async function writeSynthetic(dir: string, n: number, dkim: 'off' | 'prefer' | 'require' = 'off', options: { signed?: boolean; councils?: number } = {}): Promise<Synthetic> {
  const signed = options.signed === true;
  const councils = Math.min(n, options.councils ?? n);
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
  for (let i = 0; i < n; i++) {
    const c = i % councils;
    const p = place(c);
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
      `Name: Cllr ${place(c + 7919)} ${p}son`,
      'Position: Leader',
      'Date: 31/01/2024',
    ].join('\n');
    const head = [
      `From MAILER-DAEMON ${new Date(at).toUTCString()}`,
      `Received: from mail.${domain} (mail.${domain} [192.0.2.${(i % 250) + 1}]) by mx.ccin.example (Postfix) with ESMTPS id B${i}; ${rfc2822(at + 3000)}`,
      `From: Cllr ${place(c + 7919)} ${p}son <leader@${domain}>`,
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
    if (signed) {
      // Signed as the council's server would send it (CRLF), before the receiving server's mbox line.
      const [fromLine, ...rest] = message.split('\n');
      const wire = rest.join('\r\n');
      const options = { signTime: new Date(at), signatureData: [{ signingDomain: domain, selector: SELECTOR, privateKey: SIGNING_PEM, algorithm: 'ed25519-sha256' }] };
      const { signatures, errors } = await dkimSign(wire, options as unknown as Parameters<typeof dkimSign>[1]);
      if (errors.length > 0 || !signatures.startsWith('DKIM-Signature:')) throw new Error(`the synthetic message ${i} could not be signed: ${String(errors[0] ?? signatures)}`);
      message = [fromLine, ...signatures.trimEnd().split('\r\n'), ...rest].join('\n');
    }
    // mboxrd: a body line starting "From " (or ">From ") gains one ">".
    const escaped = message.replace(/\n(>*From )/g, '\n>$1') + '\n';
    bytes += Buffer.byteLength(escaped);
    if (!out.write(escaped)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  let keys: string | null = null;
  if (signed) {
    keys = join(dir, 'keys.zone');
    const p = createPublicKey(SIGNING_KEY).export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
    const lines = ['; the synthetic councils\' DKIM key (one Ed25519 key for every domain)'];
    for (let i = 0; i < councils; i++) lines.push(`${SELECTOR}._domainkey.${place(i).toLowerCase()}.gov.uk. IN TXT "v=DKIM1; k=ed25519; p=${p}"`);
    writeFileSync(keys, lines.join('\n') + '\n');
  }
  return { dir, election, roster, mbox, messages: n, bytes, keys };
}
