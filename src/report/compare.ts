import type { ResultModel } from '../model/result.js';
import type { ResultFile } from '../inputs/result-file.js';

export interface Comparison {
  verified: boolean;
  /** The file's digest does not match its own content: it was edited after it was made. */
  tampered: boolean;
  differences: string[];
}

const key = (m: { sha256: string; source: { file: string; index: number | null } }): string =>
  `${m.sha256}@${m.source.file}#${m.source.index ?? 0}`;

/** Compares a claimed result with a recount, naming every message and figure that differs. */
export function compareResults(file: ResultFile, recount: ResultModel): Comparison {
  const differences: string[] = [];
  const claimed = { ...file.top, messages: file.messages };
  const tampered = file.contentDigest !== claimed.digest;
  if (tampered) differences.push(`the file's digest ${claimed.digest} does not match its content: it was changed after it was made`);

  const ci = claimed.inputs;
  const ri = recount.inputs;
  if (ci.election.sha256 !== ri.election.sha256) differences.push(`election file differs: claimed ${ci.election.sha256}, given ${ri.election.sha256}`);
  if (ci.roster.sha256 !== ri.roster.sha256) differences.push(`roster differs: claimed ${ci.roster.sha256}, given ${ri.roster.sha256}`);
  if ((ci.adjudications?.sha256 ?? null) !== (ri.adjudications?.sha256 ?? null)) {
    differences.push(`adjudications differ: claimed ${ci.adjudications?.sha256 ?? 'none'}, given ${ri.adjudications?.sha256 ?? 'none'}`);
  }
  const claimedFiles = new Map(ci.mailbox.map((f) => [f.file, f.sha256]));
  const givenFiles = new Map(ri.mailbox.map((f) => [f.file, f.sha256]));
  for (const [f, h] of claimedFiles) {
    const g = givenFiles.get(f);
    if (g === undefined) differences.push(`mailbox file ${f} is in the result but was not given`);
    else if (g !== h) differences.push(`mailbox file ${f} differs: claimed ${h}, given ${g}`);
  }
  for (const f of givenFiles.keys()) if (!claimedFiles.has(f)) differences.push(`mailbox file ${f} was given but is not in the result`);

  const claimedMsgs = new Map(claimed.messages.map((m) => [key(m), m]));
  const recountMsgs = new Map(recount.messages.map((m) => [key(m), m]));
  for (const [k, c] of claimedMsgs) {
    const r = recountMsgs.get(k);
    const label = `message ${c.sha256.slice(0, 12)} (${c.source.file}${c.source.index !== null ? `#${c.source.index}` : ''})`;
    if (!r) {
      differences.push(`${label} is in the result but not in the mailbox given`);
      continue;
    }
    const cs = `${c.disposition}${c.reason ? `: ${c.reason}` : ''} [${c.choices.join('+')}]`;
    const rs = `${r.disposition}${r.reason ? `: ${r.reason}` : ''} [${r.choices.join('+')}]`;
    if (cs !== rs) differences.push(`${label}: result says ${cs}, recount says ${rs}`);
  }
  for (const [k, r] of recountMsgs) {
    if (!claimedMsgs.has(k)) differences.push(`message ${r.sha256.slice(0, 12)} (${r.source.file}) is in the mailbox but not in the result`);
  }
  const claimedTally = new Map(claimed.tally.map((t) => [t.candidate, t]));
  for (const t of recount.tally) {
    const c = claimedTally.get(t.candidate);
    if (!c) differences.push(`candidate ${t.candidate} is missing from the result's tally`);
    else {
      if (c.votes !== t.votes) differences.push(`${t.candidate}: result says ${c.votes} votes, recount ${t.votes}`);
      if (c.elected !== t.elected) differences.push(`${t.candidate}: result says ${c.elected ? 'elected' : 'not elected'}, recount ${t.elected ? 'elected' : 'not elected'}`);
    }
  }
  if (claimed.turnout.voted !== recount.turnout.voted || claimed.turnout.eligible !== recount.turnout.eligible) {
    differences.push(`turnout: result says ${claimed.turnout.voted} of ${claimed.turnout.eligible}, recount ${recount.turnout.voted} of ${recount.turnout.eligible}`);
  }
  if (claimed.final !== recount.final) differences.push(`result says final=${claimed.final}, recount final=${recount.final}`);
  if (claimed.digest !== recount.digest && differences.length === 0) {
    differences.push(`digests differ (result ${claimed.digest}, recount ${recount.digest}) in fields other than the figures above (evidence, election settings or generator version)`);
  }
  return { verified: !tampered && claimed.digest === recount.digest, tampered, differences };
}
