import { createHash, createHmac } from 'node:crypto';
import { formatInZone } from '../inputs/time.js';
import type { Council, Roster } from '../inputs/roster.js';
import { NOTE_OPENING, type ResultModel } from '../model/result.js';

/** Crockford's base32, as the references use: no I, L, O or U. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A council's receipt code: 130 bits (26 Crockford base32 characters, shown in groups of five) of
 * HMAC-SHA256 keyed with the returning officer's secret over the election and council ids. Known
 * to the officer (who can derive it again) and to the council (who is told it), to nobody else; far
 * too long to guess, unlike the 40-bit ballot reference printed on every paper.
 */
export function receiptCode(secret: Buffer, electionId: string, councilId: string): string {
  const mac = createHmac('sha256', secret).update(`ccin-tally receipt\n${electionId}\n${councilId}`, 'utf8').digest();
  let bits = 0n;
  for (const b of mac.subarray(0, 17)) bits = (bits << 8n) | BigInt(b);
  bits >>= 6n; // 136 bits read, 130 kept
  let code = '';
  for (let i = 25; i >= 0; i--) code += ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return code.match(/.{1,5}/g)!.join('-');
}

/** The choices of a counted paper as the sheet writes them: candidate ids, in the election's order, joined by "+". */
const choiceText = (choices: readonly string[]): string => choices.join('+');

/** The line's hash: SHA-256 of "<receipt code>:<choices>", which a council recomputes with printf and sha256sum. */
export function lineHash(code: string, choices: readonly string[]): string {
  return createHash('sha256').update(`${code}:${choiceText(choices)}`, 'utf8').digest('hex');
}

/**
 * The tally sheet: for every counted paper, "<hash>  <choices>", sorted by hash. Anyone can re-add
 * the totals from it; only a council, knowing its receipt code, can find its own line; the hash
 * tells nobody else whose vote a line is.
 */
export function tallySheet(electionId: string, messages: readonly { disposition: string; council: string | null; choices: string[] }[], secret: Buffer): string {
  const lines = messages
    .filter((m) => m.disposition === 'counted' && m.council !== null)
    .map((m) => `${lineHash(receiptCode(secret, electionId, m.council!), m.choices)}  ${choiceText(m.choices)}`)
    .sort();
  return lines.join('\n') + (lines.length > 0 ? '\n' : '');
}

export const sheetDigest = (sheet: string): string => createHash('sha256').update(sheet, 'utf8').digest('hex');

/**
 * What differs between a published tally sheet and a recount. With the officer's secret (`remade`,
 * the sheet the recount makes) it is compared line by line; without it, what anyone can check: the
 * SHA-256 the result names, that every line is "<64 hex>  <known candidate ids>", and that the lines
 * add up to the recount's tally.
 */
export function sheetDifferences(
  published: string,
  name: string,
  recount: Pick<ResultModel, 'tally'>,
  named: { sha256: string } | null,
  remade: string | null,
): string[] {
  const out: string[] = [];
  const digest = sheetDigest(published);
  if (named !== null && named.sha256 !== digest) out.push(`the result names a tally sheet with sha256 ${named.sha256}, not ${name} (sha256 ${digest})`);
  if (remade !== null) {
    if (published !== remade) out.push(`the tally sheet ${name} (sha256 ${digest}) is not the one the recount makes (sha256 ${sheetDigest(remade)})`);
    return out;
  }
  const known = new Set(recount.tally.map((t) => t.candidate));
  const added = new Map<string, number>();
  const lines = published.split('\n').filter((l) => l !== '');
  lines.forEach((line, i) => {
    const m = /^[0-9a-f]{64} {2}([a-z0-9_+-]+)$/.exec(line);
    const choices = m?.[1]?.split('+') ?? [];
    if (!m || choices.some((c) => !known.has(c))) {
      if (out.length < 20) out.push(`line ${i + 1} of the tally sheet is not "<hash>  <candidate ids>" of this election: ${JSON.stringify(line.slice(0, 120))}`);
      return;
    }
    for (const c of choices) added.set(c, (added.get(c) ?? 0) + 1);
  });
  for (const t of recount.tally) {
    if ((added.get(t.candidate) ?? 0) !== t.votes) out.push(`the tally sheet gives ${t.candidate} ${added.get(t.candidate) ?? 0} votes; the recount ${t.votes}`);
  }
  return out;
}

/**
 * Why a council's message was not counted, as its findings say (the one that decided it; for
 * machine-made mail the note that it carries a marked paper; for a blank paper, that the words
 * beside it name a candidate): so that a council whose vote was
 * not counted learns what to do, from its own notice. One line each, at most 300 characters.
 */
function whyNotCounted(m: ResultModel['messages'][number]): string[] {
  const decided = m.reason ?? m.disposition;
  const findings = m.evidence.findings;
  const lines = [
    findings.find((f) => f.code === decided)?.detail,
    m.disposition === 'not-a-ballot' ? findings.find((f) => f.code === 'note' && f.detail.startsWith(NOTE_OPENING.machineMadeVote))?.detail : undefined,
    m.reason === 'unmarked' ? findings.find((f) => f.code === 'note' && f.detail.startsWith(NOTE_OPENING.voteInWords))?.detail : undefined,
  ];
  return lines.flatMap((l) => (l === undefined ? [] : [`${l.replace(/[\r\n]+/g, ' ').slice(0, 299)}${l.length > 299 ? '…' : ''}`]));
}

export interface ReceiptNotice {
  council: string;
  text: string;
  eml: string;
}

/**
 * One short private notice for each council that sent anything: each of its messages (when it was
 * received, what became of it and why), its receipt code, and for its counted paper how to find
 * its line on the published tally sheet. As text, and as a message ready to send from the ballot
 * address (the mail program adds the date when it sends it).
 */
export function receiptNotices(result: ResultModel, roster: Roster, secret: Buffer, sheetSha256: string | null): ReceiptNotice[] {
  const zone = result.election.timezone;
  const byCouncil = new Map<string, ResultModel['messages']>();
  for (const m of result.messages) {
    if (m.council === null || m.disposition === 'duplicate-copy') continue;
    const list = byCouncil.get(m.council) ?? [];
    list.push(m);
    byCouncil.set(m.council, list);
  }
  const councils = new Map<string, Council>(roster.councils.map((c) => [c.id, c]));
  const out: ReceiptNotice[] = [];
  for (const [id, messages] of [...byCouncil].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const council = councils.get(id);
    if (!council) continue;
    const code = receiptCode(secret, result.election.id, id);
    const counted = messages.find((m) => m.disposition === 'counted');
    const lines = [
      `${council.name}: your ballot in ${result.election.title} (${result.election.id})`,
      '',
      `The ballot address received ${messages.length} message(s) from your council:`,
      ...messages.map((m) => {
        const when = m.receivedAt ? formatInZone(new Date(m.receivedAt), zone) : 'time unknown';
        const what = m.disposition === 'counted' ? `counted for ${m.choices.join(' + ')}` : `${m.disposition}${m.reason ? ` (${m.reason})` : ''}`;
        const why = m.disposition === 'counted' ? [] : whyNotCounted(m);
        return [`  - received ${when}, subject "${(m.evidence.subject ?? '').replace(/[\r\n]+/g, ' ').slice(0, 80)}": ${what}`, ...why.map((w) => `      ${w}`)].join('\n');
      }),
      '',
      `Your receipt code (keep it private): ${code}`,
      '',
      ...(counted
        ? [
            'To check that your vote was counted as you cast it, compute your line of the published tally sheet:',
            '',
            `  printf '%s' '${code}:${counted.choices.join('+')}' | sha256sum`,
            '',
            `and find that hash in the sheet${sheetSha256 ? ` (its SHA-256 is ${sheetSha256})` : ''}. Its line must read "${counted.choices.join('+')}".`,
            'Nobody without your receipt code can tell which line is yours.',
          ]
        : ['No paper of yours was counted, so no line of the tally sheet is yours.']),
      '',
      `Result digest: ${result.digest}`,
      '',
    ];
    const text = lines.join('\n');
    const to = council.emails[0] ?? `(no address in the roster for ${council.id})`;
    const subject = `Your ballot receipt: ${result.election.title}`.replace(/[\r\n]+/g, ' ');
    const eml = [
      `From: ${result.election.ballotAddress}`,
      `To: ${to}`,
      `Subject: =?UTF-8?B?${Buffer.from(subject, 'utf8').toString('base64')}?=`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(text, 'utf8').toString('base64').replace(/(.{76})/g, '$1\r\n'),
      '',
    ].join('\r\n');
    out.push({ council: id, text, eml });
  }
  return out;
}
