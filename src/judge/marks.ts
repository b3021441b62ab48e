import type { Candidate } from '../inputs/election.js';
import { nameTokens } from '../model/names.js';
import type { RawPaper } from '../read/paper.js';

export type MarkReading = 'marked' | 'blank' | 'uncertain';

const MARK_CHARS = /^[x✓✔✗☒✘*☑✅❎■✕×⨯+•●þý\uF0FE\uF0FD]+$/u;
const MARK_WORDS = new Set(['yes', 'y', 'tick', 'ticked', 'vote', 'voted', 'cross', 'x', '1']);
const BLANK = /^[\s_☐□▢⬜¨\uF0A8\uF06F]*$/u;
const BLANK_WORDS = new Set(['no', 'n', '-', '–', '0']);

/** What is in a box: a mark (X x ✓ ✔ ✗ ☒ ✘ * or a word such as "yes"), nothing, or something that cannot be read with certainty. */
export function readMark(content: string): MarkReading {
  const c = content.normalize('NFC').toLowerCase().replace(/\uFE0F/g, '').trim();
  if (BLANK.test(c)) return 'blank';
  const compact = c.replace(/\s+/g, '');
  if (MARK_CHARS.test(compact) || MARK_WORDS.has(compact)) return 'marked';
  if (BLANK_WORDS.has(compact)) return 'blank';
  return 'uncertain';
}

function withoutBrackets(s: string): string {
  return s.replace(/\([^)]*\)?/g, ' ').replace(/\[[^\]]*\]?/g, ' ');
}

/** The candidate a box line names: the candidate's whole name first (titles and case aside), else a surname only one candidate has. */
export function matchCandidate(text: string, candidates: readonly Candidate[]): Candidate | null {
  const t = nameTokens(withoutBrackets(text));
  if (t.length === 0) return null;
  let best: Candidate | null = null;
  let bestLen = 0;
  for (const c of candidates) {
    const ct = nameTokens(c.name);
    if (ct.length === 0 || ct.length > t.length) continue;
    if (ct.every((w, i) => t[i] === w) && ct.length > bestLen) {
      best = c;
      bestLen = ct.length;
    }
  }
  if (best) return best;
  if (t.length === 1) {
    const bySurname = candidates.filter((c) => nameTokens(c.name).at(-1) === t[0]);
    if (bySurname.length === 1) return bySurname[0] ?? null;
  }
  return null;
}

export interface PaperReading {
  origin: string;
  /** Candidate ids marked, in election order. */
  choices: string[];
  /** Why the marks cannot be read with certainty; empty when they can. */
  uncertain: string[];
  /** Box lines that name no candidate and carry no mark. */
  ignoredLines: string[];
  marks: { line: number; text: string; mark: string; reading: MarkReading; candidate: string | null }[];
  boxes: number;
}

export function readPaperMarks(paper: RawPaper, candidates: readonly Candidate[]): PaperReading {
  const chosen = new Set<string>();
  const uncertain: string[] = [];
  const ignoredLines: string[] = [];
  const marks: PaperReading['marks'] = [];
  const state = new Map<string, MarkReading>();
  for (const box of paper.boxes) {
    let cand = box.candidateId !== undefined ? (candidates.find((c) => c.id === box.candidateId) ?? null) : matchCandidate(box.text, candidates);
    let text = box.text;
    if (!cand && box.continuation && box.candidateId === undefined) {
      const joined = `${box.text} ${box.continuation}`;
      cand = matchCandidate(joined, candidates);
      if (cand) text = joined;
    }
    const reading = readMark(box.mark);
    marks.push({ line: box.line, text, mark: box.mark, reading, candidate: cand?.id ?? null });
    if (!cand) {
      if (reading === 'blank') ignoredLines.push(text);
      else uncertain.push(`line ${box.line} is marked "${box.mark}" but names no candidate: "${text}"`);
      continue;
    }
    const prior = state.get(cand.id);
    if (reading === 'uncertain') uncertain.push(`the mark "${box.mark}" beside ${cand.name} cannot be read with certainty`);
    if (reading === 'marked') chosen.add(cand.id);
    if (prior !== undefined && prior !== reading && (prior === 'marked' || reading === 'marked')) {
      uncertain.push(`${cand.name} is listed more than once with different marks`);
    }
    state.set(cand.id, prior === 'marked' ? 'marked' : reading);
  }
  return {
    origin: paper.origin,
    choices: candidates.filter((c) => chosen.has(c.id)).map((c) => c.id),
    uncertain,
    ignoredLines,
    marks,
    boxes: paper.boxes.length,
  };
}
