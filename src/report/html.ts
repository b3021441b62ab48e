import { formatInZone } from '../inputs/time.js';
import { REASON_TEXT, reasonsInOrder } from '../model/reasons.js';
import type { ResultModel } from '../model/result.js';
import { unauthenticatedAlert } from './terminal.js';
import { statementOfRejected, totalRejected } from './statement.js';
import { showAddress } from '../model/address.js';

/** Escapes text for HTML; control characters from an email are shown as escapes, never passed on. */
function h(text: string | number | null | undefined): string {
  if (text === null || text === undefined) return '';
  return String(text)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function chart(r: ResultModel): string {
  const rowH = 34;
  const labelW = 230;
  const barW = 380;
  const max = Math.max(1, ...r.tally.map((t) => t.votes));
  const height = r.tally.length * rowH + 10;
  const rows = r.tally
    .map((t, i) => {
      const y = i * rowH + 5;
      const w = Math.round((t.votes / max) * barW);
      return (
        `<text x="0" y="${y + 20}" class="lbl">${h(t.name)}</text>` +
        `<rect x="${labelW}" y="${y + 4}" width="${w}" height="22" class="${t.elected ? 'bar elected' : 'bar'}"/>` +
        `<text x="${labelW + w + 8}" y="${y + 20}" class="num">${t.votes}${t.elected ? ' — elected' : ''}</text>`
      );
    })
    .join('');
  return `<svg role="img" aria-label="Votes per candidate" viewBox="0 0 ${labelW + barW + 140} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">${rows}</svg>`;
}

export interface DeclarationOptions {
  /** The returning officer's name, printed in the declaration and under the signature line. */
  officer?: string | undefined;
  /** The witness or scrutineer who signs beside the officer. */
  witness?: string | undefined;
}

/**
 * The declaration a UK returning officer signs, printable on A4: on page one the declaration of the
 * votes recorded and who is elected, the statement of rejected papers under the statutory headings
 * beside this election's own grounds, and signature and date lines for the officer and a witness;
 * then the audit appendix. Every page's footer carries the election id, the result digest and the
 * page number. Self-contained: no network, no script.
 */
export function renderHtml(r: ResultModel, opts: DeclarationOptions = {}): string {
  const out: string[] = [];
  writeHtml(r, (s) => out.push(s), opts);
  return out.join('');
}

/**
 * renderHtml, written piece by piece: the lists that grow with the mailbox or the roster (every
 * message, the councils that did not vote, the authentication warnings) are written a row at a
 * time, never held as one string (at a million messages the page would pass the longest string
 * JavaScript can hold).
 */
export function writeHtml(r: ResultModel, write: (s: string) => void, opts: DeclarationOptions = {}): void {
  const zone = r.election.timezone;
  const local = (iso: string | null): string => (iso ? formatInZone(new Date(iso), zone) : 'unknown');
  const names = new Map(r.election.candidates.map((c) => [c.id, c.name]));
  const elected = r.tally.filter((t) => t.elected).map((t) => t.name);
  const rejected = reasonsInOrder(r.summary.rejected);
  const pending = reasonsInOrder(r.summary.needsAdjudication);
  const d = r.summary.dispositions;
  const cssString = (t: string): string => `"${t.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, (c) => `\\${c.charCodeAt(0).toString(16)} `)}"`;
  const css = `
@page{size:A4;margin:18mm 16mm 22mm 16mm;
 @bottom-left{content:${cssString(`${r.election.id} · ${r.digest}`)};font:7.5pt Georgia,serif;color:#444}
 @bottom-right{content:"Page " counter(page) " of " counter(pages);font:8pt Georgia,serif;color:#444}}
body{font-family:Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;font-size:11pt}
h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.15rem;border-bottom:1px solid #999;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #bbb;padding:.22rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eee}td.n{text-align:right}.mono{font-family:Menlo,Consolas,monospace;font-size:.78rem;word-break:break-all}
.status{padding:.4rem .8rem;border:2px solid;display:inline-block;font-weight:bold}.final{border-color:#176a2c;color:#176a2c}
.prov{border-color:#a15c00;color:#a15c00}.bar{fill:#6b7d8f}.bar.elected{fill:#176a2c}.lbl,.num{font:14px Georgia,serif}
.small{font-size:.8rem;color:#444}.declaration p{margin:.45rem 0}.declaration h2{margin-top:.9rem}
.signatures{display:grid;grid-template-columns:2fr 1fr;gap:1.6rem 2rem;margin-top:1.6rem}.signatures div{border-top:1px solid #111;padding-top:.2rem;font-size:.85rem}
.statutory td:first-child{width:64%}.statutory td.mono{white-space:nowrap;font-size:.7rem}.declaration table{font-size:.8rem}.declaration td,.declaration th{padding:.12rem .35rem}
@media print{body{margin:0;max-width:none;padding:0;font-size:10pt}h2{break-after:avoid}tr{break-inside:avoid}.declaration{break-after:page}}`;
  // The page's parts, one line apart; a part that lists rows has its rows written one by one.
  let first = true;
  const parts = {
    push(s: string): void {
      write(first ? s : `\n${s}`);
      first = false;
    },
  };
  const rows = <T>(head: string, items: Iterable<T>, row: (item: T, i: number) => string, tail: string): void => {
    parts.push(head);
    let i = 0;
    for (const item of items) write(row(item, i++));
    write(tail);
  };
  parts.push(`<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>${h(r.election.title)} — declaration of result</title>`);
  parts.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"><style>${css}</style></head><body>`);

  // Page one: the declaration, the statement of rejected papers, the signatures.
  const officer = opts.officer ? h(opts.officer) : '…………………………………………';
  const final = r.final;
  parts.push(`<section class="declaration" id="declaration">`);
  parts.push(`<h1>${h(r.election.title)}</h1><p class="small">Election ${h(r.election.id)} · ${r.election.vacancies} vacanc${r.election.vacancies === 1 ? 'y' : 'ies'} · votes by emailed ballot, closing ${h(local(r.election.deadline))}${r.election.opens ? ` · opened ${h(local(r.election.opens))}` : ''}</p>`);
  parts.push(final ? `<p class="status final">DECLARATION OF RESULT OF POLL</p>` : `<p class="status prov">PROVISIONAL — NOT A DECLARATION</p><ul>${r.provisional.map((p) => `<li>${h(p)}</li>`).join('')}</ul>`);
  parts.push(`<p>I, ${officer}, the Returning Officer for the election of ${h(r.election.title)}, ${final ? 'do hereby declare' : 'report, on the count so far,'} that the number of votes recorded for each candidate was as follows:</p>`);
  parts.push(`<table><tr><th>Candidate</th><th>Council</th><th>Votes</th><th></th></tr>${r.tally.map((t) => `<tr><td>${h(t.name)}</td><td>${h(r.election.candidates.find((c) => c.id === t.candidate)?.council ?? '')}</td><td class="n">${t.votes}</td><td>${t.elected ? (final ? 'Elected' : 'would be elected') : ''}</td></tr>`).join('')}</table>`);
  if (r.lot) parts.push(`<p class="small">A tie for the last seat was decided by lot (seed announced before the count: <span class="mono">${h(r.lot.seed)}</span>); the working is in the appendix.</p>`);
  parts.push(`<p>Turnout: ${h(r.turnout.text)}.</p>`);
  const statement = statementOfRejected(r);
  parts.push(`<h2>Statement of rejected ballot papers</h2><p>The number of ballot papers rejected was as follows:</p>`);
  parts.push(
    `<table class="statutory"><tr><th>Ground</th><th>Reason codes</th><th style="white-space:nowrap">No.</th></tr>${statement
      .map((l) => `<tr><td>${h(l.heading)}${l.note ? `<br><span class="small">${h(l.note)}</span>` : ''}${l.statutory ? '' : ' <span class="small">(this election\'s rules)</span>'}</td><td class="mono">${h(l.codes.join(', ') || '—')}</td><td class="n">${l.count}</td></tr>`)
      .join('')}<tr><th>Total rejected</th><th></th><th class="n">${totalRejected(r)}</th></tr></table>`,
  );
  parts.push(
    `<p>${final ? 'And I do hereby declare that' : 'On the count so far,'} <strong>${h(elected.join(', ') || 'no candidate')}</strong> ${final ? `${elected.length === 1 ? 'is' : 'are'} duly elected` : 'would be elected'}.</p>`,
  );
  parts.push(
    `<div class="signatures"><div>Signed: Returning Officer${opts.officer ? ` — ${h(opts.officer)}` : ''}</div><div>Date</div><div>Witness or scrutineer${opts.witness ? ` — ${h(opts.witness)}` : ''}</div><div>Date</div></div>`,
  );
  parts.push(`<p class="small">Result digest <span class="mono">${h(r.digest)}</span>: anyone holding the same files can reproduce it with <span class="mono">ccin-tally verify</span>.${r.tallySheet ? ` Tally sheet of receipts: ${r.tallySheet.lines} lines, SHA-256 <span class="mono">${h(r.tallySheet.sha256)}</span>.` : ''}</p>`);
  parts.push(`</section>`);

  if (r.notices.length > 0) parts.push(`<h2>Read before declaring</h2><ul class="notices">${r.notices.map((n) => `<li>${h(n)}</li>`).join('')}</ul>`);
  const alert = unauthenticatedAlert(r);
  if (alert.length > 0) parts.push(`<div class="status prov"><p>${h(alert[0]?.replace(/^\s*!\s*/, ''))}</p><ul>${alert.slice(1).map((l) => `<li>${h(l.trim())}</li>`).join('')}</ul></div>`);
  parts.push(`<h2>Votes per candidate</h2>`);
  parts.push(chart(r));
  if (r.lot) {
    parts.push(`<h2>Tie decided by lot</h2><p>Seed announced before the count: <code>${h(r.lot.seed)}</code>. Tied candidates ordered by SHA-256 of <code>&lt;seed&gt;:&lt;candidate id&gt;</code>, lowest first; anyone can redo it with <code>printf '%s' 'seed:id' | sha256sum</code>.</p>`);
    parts.push(`<table><tr><th>Candidate</th><th>Input</th><th>SHA-256</th></tr>${r.lot.order.map((o) => `<tr><td>${h(names.get(o.candidate) ?? o.candidate)}${r.lot?.elected.includes(o.candidate) ? ' (elected)' : ''}</td><td class="mono">${h(o.input)}</td><td class="mono">${o.sha256}</td></tr>`).join('')}</table>`);
  }
  parts.push(`<h2>Rejected papers by reason code</h2>`);
  parts.push(rejected.length === 0 ? '<p>None.</p>' : `<table><tr><th>Reason</th><th>Number</th><th>Meaning</th></tr>${rejected.map(([k, n]) => `<tr><td>${k}</td><td class="n">${n}</td><td>${h(REASON_TEXT[k])}</td></tr>`).join('')}</table>`);
  if (pending.length > 0) {
    parts.push(`<h2>Awaiting adjudication</h2><table><tr><th>Reason</th><th>Number</th></tr>${pending.map(([k, n]) => `<tr><td>${k}</td><td class="n">${n}</td></tr>`).join('')}</table>`);
  }
  const auth = r.summary.authentication;
  if (auth.policy !== 'off' && (auth.failingSignatures.length > 0 || auth.unauthenticatedBallots.length > 0)) {
    const bySha = new Map(r.messages.map((m) => [m.sha256, m]));
    const row = (sha: string, what: string): string => {
      const m = bySha.get(sha);
      const why = m?.disposition === 'counted' ? ` — counts: ${m.evidence.authentication.authenticated ? m.evidence.authentication.summary : `not authenticated; dkim: ${auth.policy} counts it, as nothing authenticated contradicts it`}` : '';
      return `<tr><td class="mono">${sha.slice(0, 12)}</td><td>${h(m?.council ?? '')}</td><td>${h(showAddress(m?.from ?? ''))}</td><td>${h(what)}</td><td>${h(m?.disposition ?? '')}${m?.reason ? `: ${h(m.reason)}` : ''}${h(why)}</td></tr>`;
    };
    parts.push(`<h2>Authentication warnings (dkim: ${h(auth.policy)})</h2><p>${auth.authenticated} of ${auth.ballots} ballots authenticated.</p><table><tr><th>Message</th><th>Council</th><th>From</th><th>Warning</th><th>Disposition</th></tr>`);
    const warnings = [
      ...auth.failingSignatures.map((sha) => [sha, 'signature present and fails: altered after signing?'] as const),
      ...auth.unauthenticatedBallots.map((sha) => [sha, 'not authenticated'] as const),
    ];
    rows('', warnings, ([sha, what]) => row(sha, what), '</table>');
  }
  const adjudicated = r.messages.filter((m) => m.adjudication);
  if (adjudicated.length > 0) {
    parts.push(`<h2>Adjudicated by the returning officer</h2><table><tr><th>Message</th><th>Council</th><th>Automatic finding</th><th>Decision</th><th>Reason given</th></tr>`);
    rows(
      '',
      adjudicated,
      (m) => `<tr><td class="mono">${m.sha256.slice(0, 12)}</td><td>${h(m.council)}</td><td>${h(m.adjudication?.automatic.reason)}</td><td>${h(m.adjudication?.decision)} ${h(m.adjudication?.choices.join(', '))}</td><td>${h(m.adjudication?.reason)}</td></tr>`,
      '</table>',
    );
  }
  rows(
    `<h2>Eligible councils that did not vote (${r.councilsNotVoted.length})</h2><table><tr><th>Council</th><th>What was received</th></tr>`,
    r.councilsNotVoted,
    (c) => `<tr><td>${h(c.name)}</td><td>${h(c.sent.join('; ') || 'nothing')}</td></tr>`,
    '</table>',
  );

  parts.push(`<h2 class="appendix">Audit appendix</h2>`);
  parts.push(`<p>${r.summary.read} messages read = ${d.counted} counted + ${d.rejected} rejected + ${d.superseded} superseded + ${d['duplicate-copy']} duplicate copies + ${d['not-a-ballot']} not ballots + ${d['needs-adjudication']} awaiting adjudication${r.summary.accounted === r.summary.read ? '' : ' — <strong>DOES NOT ADD UP</strong>'}.</p>`);
  const files = [
    { file: r.inputs.election.file, what: 'election', sha256: r.inputs.election.sha256 },
    { file: r.inputs.roster.file, what: 'roster', sha256: r.inputs.roster.sha256 },
    ...(r.inputs.adjudications ? [{ file: r.inputs.adjudications.file, what: 'adjudications', sha256: r.inputs.adjudications.sha256 }] : []),
    ...r.inputs.mailbox.map((f) => ({ file: f.file, what: `${f.kind}, ${f.messages} message(s)${f.note ? `: ${f.note}` : ''}`, sha256: f.sha256 })),
  ];
  parts.push(`<table><tr><th>Input file</th><th>Kind</th><th>SHA-256</th></tr>${files.map((f) => `<tr><td>${h(f.file)}</td><td>${h(f.what)}</td><td class="mono">${f.sha256}</td></tr>`).join('')}</table>`);
  parts.push(`<h3>Every message</h3><table><tr><th>#</th><th>Message</th><th>Source</th><th>Sender</th><th>Received (UTC)</th><th>Disposition</th><th>Findings</th></tr>`);
  rows(
    '',
    r.messages,
    (m, i) =>
      `<tr><td class="n">${i + 1}</td><td class="mono">${m.sha256.slice(0, 16)}</td><td>${h(m.source.file)}${m.source.index !== null ? `#${m.source.index}` : ''}</td><td>${h(showAddress(m.from ?? ''))}<br><span class="small">${h(m.council ?? 'no roster council')}</span></td><td>${h(m.receivedAt)} <span class="small">${h(m.receivedAtSource)}</span></td><td><strong>${h(m.disposition)}</strong>${m.reason ? `: ${h(m.reason)}` : ''}${m.choices.length ? `<br>${h(m.choices.map((c) => names.get(c) ?? c).join(', '))}` : ''}</td><td class="small">${m.evidence.findings.map((f) => `${h(f.code)}: ${h(f.detail)}`).join('<br>')}</td></tr>`,
    '',
  );
  parts.push('</table>');
  parts.push(`<p class="small">Produced by ${h(r.generator)} · schema ${h(r.schema)} · result digest <span class="mono">${h(r.digest)}</span></p></body></html>\n`);
}
