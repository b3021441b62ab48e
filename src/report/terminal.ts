import type { ChalkInstance } from 'chalk';
import { formatInZone } from '../inputs/time.js';
import { DISPOSITIONS, REASON_TEXT, reasonsInOrder } from '../model/reasons.js';
import { statementOfRejected, totalRejected } from './statement.js';
import type { MessageRecord, ResultModel } from '../model/result.js';
import { decisionLines, pendingItems } from './pending.js';
import { safe, safeAddress } from './sanitize.js';

const BAR_WIDTH = 40;

function pad(s: string, n: number): string {
  const len = [...s].length;
  return len >= n ? s : s + ' '.repeat(n - len);
}

function padStart(s: string, n: number): string {
  const len = [...s].length;
  return len >= n ? s : ' '.repeat(n - len) + s;
}

function local(iso: string | null, zone: string): string {
  return iso ? formatInZone(new Date(iso), zone) : 'unknown';
}

/**
 * The terminal report: the declaration, the statement of rejected papers, councils that did not
 * vote, and one line per message. Handed to `write` a piece at a time (about 64 KiB each), so that a
 * large count's report is never built whole in memory.
 */
export function writeTerminal(r: ResultModel, c: ChalkInstance, opts: { officer?: string | undefined; witness?: string | undefined }, write: (text: string) => void): void {
  let buffered = '';
  const out = {
    push(...lines: string[]): void {
      for (const line of lines) {
        buffered += line + '\n';
        if (buffered.length >= 1 << 16) {
          write(buffered);
          buffered = '';
        }
      }
    },
  };
  const zone = r.election.timezone;
  const names = new Map(r.election.candidates.map((x) => [x.id, x.name]));
  const rule = '─'.repeat(72);
  out.push(c.bold(`${safe(r.election.title)} (${safe(r.election.id)})`));
  out.push(`Deadline ${local(r.election.deadline, zone)}${r.election.opens ? ` · opened ${local(r.election.opens, zone)}` : ''} · ${r.election.vacancies} vacanc${r.election.vacancies === 1 ? 'y' : 'ies'} · duplicates: ${r.election.duplicates} · DKIM: ${r.election.dkim}`);
  out.push(rule);
  out.push(c.bold(r.final ? 'DECLARATION OF RESULT' : 'PROVISIONAL RESULT — NOT FOR DECLARATION'));
  // The count's own sentences, whole (what they quote of the mail is a roster domain or a candidate id).
  if (!r.final) for (const p of r.provisional) out.push(c.yellow(`  ! ${safe(p, 1000)}`));
  for (const line of unauthenticatedAlert(r)) out.push(c.red.bold(line));
  for (const n of r.notices) out.push(c.yellow(`  ! ${safe(n, 1000)}`));
  out.push('');
  const max = Math.max(1, ...r.tally.map((t) => t.votes));
  const nameWidth = Math.max(...r.tally.map((t) => [...safe(t.name)].length), 10);
  for (const t of r.tally) {
    const bar = '█'.repeat(Math.round((t.votes / max) * BAR_WIDTH));
    const line = `  ${pad(safe(t.name), nameWidth)}  ${padStart(String(t.votes), 4)}  ${pad(bar, BAR_WIDTH)}  ${t.elected ? 'ELECTED' : ''}`;
    out.push(t.elected ? c.green.bold(line) : line);
  }
  out.push('');
  out.push(`Turnout: ${r.turnout.text}`);
  const elected = r.tally.filter((t) => t.elected).map((t) => safe(t.name));
  const who = opts.officer ? safe(opts.officer) : '(name)';
  out.push(
    r.final
      ? `I, ${who}, the Returning Officer for the election of ${safe(r.election.title)}, declare that the votes recorded were as above, and that ${elected.join(', ') || 'no candidate'} ${elected.length === 1 ? 'is' : 'are'} duly elected.`
      : `Provisional: on the count so far ${elected.join(', ') || 'no candidate'} would be elected. This is not a declaration.`,
  );
  if (opts.witness) out.push(`Witness or scrutineer: ${safe(opts.witness)}.`);
  if (r.lot) {
    out.push(`Tie decided by lot. Seed: "${safe(r.lot.seed)}". Order (lowest SHA-256 of "<seed>:<candidate id>" first):`);
    for (const o of r.lot.order) out.push(`  ${pad(o.candidate, 16)} sha256("${safe(o.input)}") = ${o.sha256}${r.lot.elected.includes(o.candidate) ? '  ← elected' : ''}`);
    out.push('  Redo: printf \'%s\' "<seed>:<candidate id>" | sha256sum');
  }
  out.push(rule);

  out.push(c.bold('STATEMENT OF REJECTED PAPERS'));
  for (const l of statementOfRejected(r)) {
    out.push(`  ${pad(l.heading, 66)} ${padStart(String(l.count), 4)}  ${l.codes.length > 0 ? `[${l.codes.join(', ')}]` : ''}${l.statutory ? '' : ' (this election\'s rules)'}`);
  }
  out.push(`  ${pad('Total rejected', 66)} ${padStart(String(totalRejected(r)), 4)}`);
  const pending = reasonsInOrder(r.summary.needsAdjudication);
  if (pending.length > 0) {
    out.push('');
    out.push(c.bold.yellow('AWAITING ADJUDICATION'));
    for (const [reason, n] of pending) out.push(`  ${pad(reason, 24)} ${padStart(String(n), 4)}  ${REASON_TEXT[reason]}`);
    out.push('  Decide each in an adjudications file (message,decision,choices,reason) and count again with --adjudications FILE;');
    out.push('  --pending FILE writes that file for you. `inspect ID` shows what there is to judge. Each, with a line to paste:');
    const ids = r.election.candidates.map((x) => x.id);
    for (const p of pendingItems(r)) {
      const lines = decisionLines(p, ids);
      out.push(`  ${p.id.slice(0, 12)} ${pad(p.council ?? '-', 18)} ${p.reason}: ${safe(p.detail, 160)}`);
      out.push(c.dim(`      ${safe(lines.count, 200)}`));
      out.push(c.dim(`      ${safe(lines.reject, 200)}`));
    }
  }
  out.push(...authenticationSection(r, c));
  const adjudicated = r.messages.filter((m) => m.adjudication);
  if (adjudicated.length > 0) {
    out.push('');
    out.push(c.bold('ADJUDICATED BY THE RETURNING OFFICER'));
    for (const m of adjudicated) {
      const a = m.adjudication!;
      out.push(`  ${m.sha256.slice(0, 12)}  automatic: ${a.automatic.reason}; decision: ${a.decision}${a.choices.length ? ` ${a.choices.join('+')}` : ''} — ${safe(a.reason)}`);
    }
  }
  out.push(rule);
  out.push(c.bold(`ELIGIBLE COUNCILS THAT DID NOT VOTE (${r.councilsNotVoted.length})`));
  for (const n of r.councilsNotVoted) out.push(`  ${pad(safe(n.name), 44)} ${n.sent.length > 0 ? `sent: ${n.sent.join(', ')}` : 'nothing received'}`);
  out.push(rule);

  const d = r.summary.dispositions;
  out.push(c.bold(`MESSAGES: ${r.summary.read} read = ${DISPOSITIONS.map((k) => `${d[k]} ${k}`).join(' + ')}`));
  if (r.summary.accounted !== r.summary.read) out.push(c.red.bold(`  ! ${r.summary.accounted} accounted for, ${r.summary.read} read`));
  r.messages.forEach((m, i) => out.push(messageLine(m, i + 1, names, c, zone)));
  const skipped = r.inputs.mailbox.filter((f) => f.kind === 'skipped');
  if (skipped.length > 0) {
    out.push('');
    out.push('Files in the mailbox folders that are not mail (not read):');
    for (const f of skipped) out.push(`  ${safe(f.file)} — ${safe(f.note ?? '')}`);
  }
  out.push(rule);
  if (r.tallySheet) out.push(`Tally sheet of receipts: ${r.tallySheet.lines} lines, SHA-256 ${r.tallySheet.sha256}`);
  out.push(`Result digest ${r.digest}`);
  write(buffered);
}

/**
 * Said near the top, beside the declaration: someone sent an unauthenticated paper in the name of a
 * council that also sent an authenticated one, and what became of it.
 */
export function unauthenticatedAlert(r: ResultModel): string[] {
  const list = r.summary.authentication.unauthenticatedInCouncilName;
  if (list.length === 0) return [];
  const out = [`  ! ${list.length} UNAUTHENTICATED paper(s) sent in the name of a council that also sent an authenticated one — someone else may have sent them:`];
  // Shown near the top (and on the declaration's first page): a mailbox flooded with forged papers
  // must not push the result out of sight. The list is whole in the JSON and in the message list.
  for (const u of list.slice(0, ALERT_LINES)) {
    const fate = u.disposition === 'needs-adjudication' ? 'awaits the officer; meanwhile the council\'s authenticated ballot alone decides its vote' : `${u.disposition}${u.reason ? `: ${u.reason}` : ''}`;
    const against = u.authenticatedPaper.startsWith('key:') ? `its signed mail (a DKIM key for ${u.authenticatedPaper.slice(4)} is pinned)` : `authenticated ${u.authenticatedPaper.slice(0, 12)}`;
    out.push(`    ${u.council}: ${u.sha256.slice(0, 12)} (→ ${u.choices.join('+') || 'none'}) against ${against} — ${fate}`);
  }
  if (list.length > ALERT_LINES) {
    const councils = new Set(list.map((u) => u.council)).size;
    out.push(`    … and ${list.length - ALERT_LINES} more, from ${councils} council(s) in all: every one is in the message list, and in the JSON (summary.authentication.unauthenticatedInCouncilName)`);
  }
  return out;
}
const ALERT_LINES = 20;

/** Under dkim "prefer", every ballot that failed or lacked authentication, prominently (spec §2.1, issue 3). */
function authenticationSection(r: ResultModel, c: ChalkInstance): string[] {
  const a = r.summary.authentication;
  if (a.policy === 'off') return [];
  const out = ['', c.bold(`AUTHENTICATION (dkim: ${a.policy})`)];
  out.push(`  ${a.authenticated} of ${a.ballots} ballots authenticated (DKIM signature aligned with a roster domain, or the ballot server's own Authentication-Results)`);
  const bySha = new Map(r.messages.map((m) => [m.sha256, m]));
  const line = (sha: string): string => {
    const m = bySha.get(sha);
    if (!m) return sha.slice(0, 12);
    // A counted message listed here says why it still counts.
    const why = m.disposition === 'counted' ? ` — counts: ${m.evidence.authentication.authenticated ? safe(m.evidence.authentication.summary, 160) : `not authenticated, and dkim: ${a.policy} counts such a paper when nothing authenticated contradicts it`}` : '';
    return `${sha.slice(0, 12)} ${m.council ?? '-'} ${safeAddress(m.from ?? '', 60)} → ${m.disposition}${m.reason ? `: ${m.reason}` : ''}${why}`;
  };
  if (a.failingSignatures.length > 0) {
    out.push(c.red.bold(`  ! signature present and FAILS — altered after signing? (${a.failingSignatures.length})`));
    for (const sha of a.failingSignatures) out.push(c.red(`    ${line(sha)}`));
  }
  if (a.unauthenticatedBallots.length > 0) {
    out.push(c.yellow.bold(`  ! not authenticated: no aligned passing signature of a roster domain, no trusted header (${a.unauthenticatedBallots.length})`));
    for (const sha of a.unauthenticatedBallots) out.push(c.yellow(`    ${line(sha)}`));
  }
  return out;
}

function messageLine(m: MessageRecord, n: number, names: Map<string, string>, c: ChalkInstance, zone: string): string {
  const what =
    m.disposition === 'counted'
      ? c.green(`counted ${m.choices.map((x) => names.get(x) ?? x).join(' + ')}`)
      : m.disposition === 'rejected'
        ? c.red(`rejected: ${m.reason ?? ''}`)
        : m.disposition === 'needs-adjudication'
          ? c.yellow(`needs-adjudication: ${m.reason ?? ''}`)
          : m.disposition;
  const adj = m.adjudication ? ` [adjudicated: ${m.adjudication.decision}]` : '';
  const src = `${m.source.file}${m.source.index !== null ? `#${m.source.index}` : ''}`;
  // One clock: the election's own zone, with GMT or BST; a time the sender wrote (Date header) is flagged.
  const when = m.receivedAt ? `${local(m.receivedAt, zone)}${m.receivedAtSource === 'date-header' ? ' (sender\'s Date header)' : ''}` : 'no time';
  return `  ${padStart(String(n), 3)}. ${m.sha256.slice(0, 12)} ${pad(m.council ?? '-', 22)} ${pad(m.from === null ? '(no sender)' : safeAddress(m.from, 40), 34)} ${when}  ${what}${adj}  ${c.dim(safe(src, 80))}`;
}

/** Everything known about each message: how it was read and judged, with evidence (the `inspect` command). */
export function renderInspect(r: ResultModel, c: ChalkInstance): string {
  const out: string[] = [];
  const zone = r.election.timezone;
  for (const m of r.messages) {
    const e = m.evidence;
    out.push(c.bold(`${m.source.file}${m.source.index !== null ? ` #${m.source.index} (line ${m.source.line})` : ''}`));
    out.push(`  sha256       ${m.sha256}`);
    out.push(`  Message-ID   ${safe(m.messageId ?? '(none)')}`);
    out.push(`  From         ${safe(e.fromHeader ?? '(none)')}`);
    out.push(`  sender       ${m.council ? `${m.council} (${safe(e.senderMatch ?? '')})` : 'no roster council'}`);
    out.push(`  Subject      ${safe(e.subject ?? '(none)')}`);
    out.push(`  Date header  ${safe(e.dateHeader ?? '(none)')}`);
    out.push(`  received     ${m.receivedAt ? `${m.receivedAt} = ${local(m.receivedAt, zone)}` : 'unknown'} from ${m.receivedAtSource ?? '-'} — ${safe(e.receipt ?? '')}`);
    for (const h of e.received) out.push(`               Received by ${safe(h.by ?? '?')} at ${h.at ?? 'invalid time'}`);
    for (const a of e.attachments) out.push(`  attachment   ${safe(a.filename ?? '(unnamed)')} ${safe(a.contentType)} ${a.size} bytes ${a.handling}${a.note ? ` — ${safe(a.note)}` : ''}`);
    for (const f of e.forwarded) out.push(`  forwarded    ${safe(f.origin)}: from ${safe(f.from ?? '?')}, ${safe(f.date ?? '?')}, ${f.papers} paper(s)`);
    for (const p of e.papers) {
      out.push(`  paper        ${safe(p.origin)} → ${p.choices.join(' + ') || 'no choice'}`);
      out.push(`               council ${safe(p.council ?? '-')} · reference ${safe(p.reference ?? '-')} · name ${safe(p.name ?? '-')} · position ${safe(p.position ?? '-')} · date ${safe(p.date ?? '-')}`);
      for (const k of p.marks) out.push(`               line ${k.line}: ${k.bare ? `${safe(k.mark)} (no box)` : k.apart ? `[${safe(k.mark)}] (alone on the line above)` : `[${safe(k.mark)}]`} ${safe(k.text)} → ${k.reading}${k.candidate ? ` (${k.candidate})` : ' (no candidate)'}`);
    }
    if (e.quotedPapersIgnored > 0) out.push(`  quoted       ${e.quotedPapersIgnored} paper(s) in quoted text ignored`);
    if (e.signOff) out.push(`  sign-off     ${safe(e.signOff.name ?? '-')} / ${safe(e.signOff.position ?? '-')} → role ${e.signOff.role ?? '-'}, roster: ${safe(e.signOff.expected ?? '-')}`);
    const a = e.authentication;
    out.push(`  DKIM         ${a.dkimSignaturesPresent} signature(s) present; ${a.checked ? (a.authenticated ? 'AUTHENTICATED' : 'NOT AUTHENTICATED') : 'not checked'} — ${safe(a.summary, 400)}`);
    for (const s of a.signatures) {
      out.push(`               d=${safe(s.domain)} s=${safe(s.selector)} a=${safe(s.algorithm ?? '?')} → ${s.result}${s.reason ? ` (${safe(s.reason)})` : ''}; key: ${s.keySource ?? 'none'}; aligned: ${s.aligned ? 'yes' : 'no'}; council's domain: ${s.councilDomain ? 'yes' : 'no'}${s.bodyLengthLimit !== null ? `; l=${s.bodyLengthLimit}, ${s.unsignedBytes} bytes unsigned` : ''}${s.expiresAfter ? `; x=${s.expiresAfter}` : ''}`);
      out.push(`               ${s.authenticates ? 'counts' : 'does not count'}: ${safe(s.why, 300)}`);
    }
    for (const t of a.trustedHeaders) out.push(`  A-R trusted  ${safe(t.authservId)}: dkim=${safe(t.result)} header.d=${safe(t.domain ?? '?')}${t.authenticates ? ' (authenticates)' : ''}`);
    for (const t of a.ignoredHeaders) out.push(`  A-R ignored  ${safe(t.authservId || '(no authserv-id)')}: ${safe(t.why)}`);
    for (const f of e.findings) out.push(`  finding      ${f.code}: ${safe(f.detail, 400)}`);
    const verdict = `${m.disposition}${m.reason ? `: ${m.reason}` : ''}${m.choices.length ? ` (${m.choices.join(' + ')})` : ''}`;
    out.push(c.bold(`  ⇒ ${verdict}`));
    if (m.adjudication) out.push(`  adjudication automatic ${m.adjudication.automatic.reason}; officer: ${m.adjudication.decision} — ${safe(m.adjudication.reason)} (line ${m.adjudication.line})`);
    out.push('');
  }
  return out.join('\n');
}
