import type { Candidate } from '../inputs/election.js';
import { foldText, nameTokens } from '../model/names.js';
import { isLooseBox, type RawPaper } from '../read/paper.js';
import { LINK_ADDRESS, MARK_GLYPH, readMark, type MarkReading } from '../model/marks.js';

export { readMark, type MarkReading };

/**
 * A mark on a box line outside its box, which the name is read without: a bracketed mark ("(X)",
 * "[yes]", a second box marked: "[ ] Cllr A (B Council) [X]") or a mark glyph (`kind` 'mark'); on
 * a candidate's line (`candidate`), also a second box holding anything else a box may hold ("[?]",
 * `kind` 'uncertain'). A link as a mail client writes it out ("[https://…]", "[mailto:…]") is no
 * box. Null when there is none; else what it is, quoted short.
 */
export function markBesideBox(text: string, candidate: boolean): { shown: string; kind: 'mark' | 'uncertain' } | null {
  const quoted = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
  for (const m of text.matchAll(/\[([^\]]*)\]?/g)) {
    const inside = m[1] ?? '';
    const reading = readMark(inside);
    if (reading === 'marked') return { shown: quoted(m[0]), kind: 'mark' };
    if (candidate && reading === 'uncertain' && inside.trim().length <= MAX_BOX_CONTENT && !LINK_ADDRESS.test(inside.trim())) return { shown: quoted(m[0]), kind: 'uncertain' };
  }
  for (const m of text.matchAll(/\(([^)]*)\)?/g)) if (readMark(m[1] ?? '') === 'marked') return { shown: quoted(m[0]), kind: 'mark' };
  const glyph = MARK_GLYPH.exec(text)?.[0];
  return glyph === undefined ? null : { shown: glyph, kind: 'mark' };
}
/** What a box holds is this short (read/paper.ts reads a box of at most 16 characters). */
const MAX_BOX_CONTENT = 16;

function withoutBrackets(s: string): string {
  return s.replace(/\([^)]*\)?/g, ' ').replace(/\[[^\]]*\]?/g, ' ');
}

/** A candidate with the words of its name (titles aside) and of its council, folded once. */
interface CandidateEntry {
  candidate: Candidate;
  tokens: string[];
  council: Set<string>;
}

interface CandidateIndex {
  /** Candidates by the first word of their name. */
  byFirst: Map<string, CandidateEntry[]>;
  /** Candidates by surname, for a line that gives the surname alone, or after an initial. */
  bySurname: Map<string, CandidateEntry[]>;
}
const candidateIndexes = new WeakMap<readonly Candidate[], CandidateIndex>();

/** The election's candidate names folded once, so that reading a line costs the same however many lines or candidates. */
function candidateIndex(candidates: readonly Candidate[]): CandidateIndex {
  let idx = candidateIndexes.get(candidates);
  if (!idx) {
    idx = { byFirst: new Map(), bySurname: new Map() };
    for (const c of candidates) {
      const tokens = nameTokens(c.name);
      if (tokens.length === 0) continue;
      const entry: CandidateEntry = { candidate: c, tokens, council: new Set(c.council ? foldText(c.council.replace(/&/g, ' and ')).split(' ') : []) };
      idx.byFirst.set(tokens[0]!, [...(idx.byFirst.get(tokens[0]!) ?? []), entry]);
      const last = tokens[tokens.length - 1]!;
      idx.bySurname.set(last, [...(idx.bySurname.get(last) ?? []), entry]);
    }
    candidateIndexes.set(candidates, idx);
  }
  return idx;
}

/** Words that may follow a candidate's name on the line besides the words of their own council. */
const COUNCIL_FILLER = new Set(['council', 'borough', 'district', 'city', 'county', 'metropolitan', 'royal', 'of', 'the', 'and', 'for', 'from']);

/**
 * The candidate a box line names: the candidate's whole name (titles, letters and case aside),
 * followed by nothing but words of that candidate's own council; else a surname only one candidate
 * has, alone; else an initial and a surname that only one candidate has together. "Cllr Jason Williams-Smith" or "Jason Williams Junior" is not Cllr Jason Williams.
 */
export function matchCandidate(text: string, candidates: readonly Candidate[]): Candidate | null {
  const t = nameTokens(withoutBrackets(text));
  if (t.length === 0) return null;
  const idx = candidateIndex(candidates);
  const entry = entryNamed(t, idx);
  // The name of one candidate beside another's council in brackets ("Cllr Jason Williams (South
  // Ribble Borough Council)"): not a line of the issued paper, and which was meant cannot be told.
  return entry === null || bracketsNameAnother(text, entry, candidates) ? null : entry.candidate;
}

function entryNamed(t: readonly string[], idx: CandidateIndex): CandidateEntry | null {
  let best: CandidateEntry | null = null;
  for (const entry of idx.byFirst.get(t[0]!) ?? []) {
    const ct = entry.tokens;
    if (ct.length > t.length || ct.length <= (best?.tokens.length ?? 0) || !ct.every((w, i) => t[i] === w)) continue;
    if (!t.slice(ct.length).every((w) => entry.council.has(w) || COUNCIL_FILLER.has(w))) continue;
    best = entry;
  }
  if (best) return best;
  if (t.length === 1) {
    const bySurname = idx.bySurname.get(t[0]!) ?? [];
    if (bySurname.length === 1) return bySurname[0] ?? null;
  }
  // An initial and a surname ("Cllr J. Alty"), then nothing but words of that candidate's council:
  // the one candidate whose first name begins so and whose surname it is.
  const initial = t[0]!;
  if (initial.length === 1 && t.length >= 2) {
    const found = (idx.bySurname.get(t[1]!) ?? []).filter((e) => e.tokens[0]!.startsWith(initial) && t.slice(2).every((w) => e.council.has(w) || COUNCIL_FILLER.has(w)));
    if (found.length === 1) return found[0] ?? null;
  }
  return null;
}

/**
 * Whether what a line holds in round brackets names another candidate's council and nothing of the
 * named candidate's own (the words of a council that no other candidate's shares, fillers aside).
 */
function bracketsNameAnother(text: string, entry: CandidateEntry, candidates: readonly Candidate[]): boolean {
  if (!text.includes('(')) return false;
  const inside = new Set(foldText([...text.matchAll(/\(([^)]*)\)?/g)].map((m) => m[1] ?? '').join(' ').replace(/&/g, ' and ')).split(' ').filter((w) => w !== '' && !COUNCIL_FILLER.has(w)));
  if ([...inside].some((w) => entry.council.has(w))) return false;
  const idx = candidateIndex(candidates);
  for (const list of idx.byFirst.values()) {
    for (const other of list) {
      if (other !== entry && [...other.council].some((w) => !COUNCIL_FILLER.has(w) && !entry.council.has(w) && inside.has(w))) return true;
    }
  }
  return false;
}

/**
 * The candidates some lines of prose name (in the election's order): by their whole name (titles
 * aside), or a councillor's title and surname ("Cllr Alty", "Councillor Alty"). A surname alone is
 * too common a word to be taken for a candidate in prose.
 */
export function candidatesNamedIn(lines: readonly string[], candidates: readonly Candidate[]): string[] {
  const named = new Set<string>();
  const idx = candidateIndex(candidates);
  for (const line of lines) {
    const all = foldText(line).split(' ').filter((w) => w.length > 0);
    const t = nameTokens(line);
    for (let i = 0; i < t.length; i++) {
      for (const entry of idx.byFirst.get(t[i]!) ?? []) {
        if (entry.tokens.every((w, k) => t[i + k] === w)) named.add(entry.candidate.id);
      }
    }
    for (let i = 0; i + 1 < all.length; i++) {
      if (all[i] !== 'cllr' && all[i] !== 'councillor') continue;
      const bySurname = idx.bySurname.get(all[i + 1]!) ?? [];
      if (bySurname.length === 1) named.add(bySurname[0]!.candidate.id);
    }
  }
  return candidates.filter((c) => named.has(c.id)).map((c) => c.id);
}

const PERSON_TITLES = new Set(['cllr', 'councillor', 'councilor', 'mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'professor', 'sir', 'dame', 'lord', 'lady', 'baroness', 'mayor', 'rt', 'hon']);
const NAME_PARTICLES = new Set(['of', 'de', 'del', 'der', 'den', 'van', 'von', 'le', 'la', 'du', 'da', 'di', 'dos', 'bin', 'al', 'and', 'for']);

/**
 * Whether the text beside a box reads as a person's name (a candidate-shaped line): a title such as
 * "Cllr" (whatever follows, digits and look-alike letters included), or a few capitalised words with
 * no digits or sentence punctuation. Prose beside a bracketed tag ("[EXTERNAL] This email originated
 * outside…") is not.
 */
export function isNameShaped(text: string): boolean {
  const words = withoutBrackets(text).trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0 || words.length > 8) return false;
  const first = foldText(words[0]!);
  if (PERSON_TITLES.has(first.replace(/ /g, ''))) return true;
  if (/[\d.!?:;,@/\\]/.test(words.join(' ').replace(/\.(?=\s|$)/g, ''))) return false;
  return words.every((w) => /^\p{Lu}/u.test(w) || NAME_PARTICLES.has(w.toLowerCase()) || /^[\p{Lu}]?['’]?\p{Lu}/u.test(w));
}

/** At most this many box lines and doubts are kept in a paper's evidence; the rest are counted. */
export const MAX_MARKS_KEPT = 100;
const MAX_DOUBTS_KEPT = 10;
/** A box line's text is quoted in the evidence up to this many characters (no paper line is longer). */
const MAX_QUOTED = 500;

export interface PaperReading {
  origin: string;
  /** Candidate ids marked, in election order. */
  choices: string[];
  /** Why the marks cannot be read with certainty (the first few); empty when they can. */
  uncertain: string[];
  /** How many more doubts there were than `uncertain` lists. */
  uncertainOmitted: number;
  /** Box lines that are neither a candidate nor candidate-shaped and carry no mark (a tag beside prose). */
  ignoredLines: string[];
  /** `bare`: a cross or tick with no box around it (BoxLine.bare); `apart`: the box alone on the line above (BoxLine.apart); each present only then. */
  marks: { line: number; text: string; mark: string; reading: MarkReading; candidate: string | null; bare?: true; apart?: true }[];
  /** Box lines read but not listed in `marks` (only the first MAX_MARKS_KEPT are). */
  marksOmitted: number;
  boxes: number;
  /** Box lines that name a candidate. */
  candidateLines: number;
  /** Marks outside every candidate's box: beside a candidate's box, or on a line that names no candidate. */
  strayMarks: number;
}

/**
 * Reads the marks of one paper against the issued candidates. Only the issued paper counts: a
 * candidate-shaped line that names no candidate (invented, written in, a look-alike of a real name),
 * marked or not, makes the paper void for uncertainty, as does a mark beside anything that is not a
 * candidate. Cost is linear in the lines; evidence keeps the first few and counts the rest.
 */
export function readPaperMarks(paper: RawPaper, candidates: readonly Candidate[]): PaperReading {
  const chosen = new Set<string>();
  const doubts: string[] = [];
  let doubtCount = 0;
  const doubt = (why: string): void => {
    doubtCount++;
    if (doubts.length < MAX_DOUBTS_KEPT) doubts.push(why);
  };
  const ignoredLines: string[] = [];
  const marks: PaperReading['marks'] = [];
  let candidateLines = 0;
  let strayMarks = 0;
  const state = new Map<string, MarkReading>();
  const byId = new Map(candidates.map((c) => [c.id, c]));
  /** Box lines read: every box, and each cross or tick without one that names a candidate. */
  let read = 0;
  for (const box of paper.boxes) {
    let cand = box.candidateId !== undefined ? (byId.get(box.candidateId) ?? null) : matchCandidate(box.text, candidates);
    let text = box.text;
    if (!cand && box.continuation && box.candidateId === undefined) {
      const joined = `${box.text} ${box.continuation}`;
      cand = matchCandidate(joined, candidates);
      if (cand) text = joined;
    }
    // A box alone between a candidate's name above it and a line below it: a box under each name, or
    // over each? The machine reads it with the line below; a reader may not.
    const aboveCand = box.above === undefined ? null : matchCandidate(box.above, candidates);
    if (aboveCand !== null) {
      doubt(`the box read with line ${box.line} stands alone under ${aboveCand.name}'s name as well as over "${(cand?.name ?? text).slice(0, MAX_QUOTED)}": which name it belongs to cannot be read with certainty`);
    }
    // A cross or tick without a box names a candidate or is prose: no box line at all, no doubt.
    if (isLooseBox(box) && !cand) continue;
    read++;
    const reading = readMark(box.mark);
    // What the evidence and the doubts quote of the line (a line may be far longer than any paper's).
    const shown = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
    if (marks.length < MAX_MARKS_KEPT) marks.push({ line: box.line, text: shown, mark: box.mark, reading, candidate: cand?.id ?? null, ...(box.bare ? { bare: true as const } : {}), ...(box.apart ? { apart: true as const } : {}) });
    if (box.picture) {
      // A picture or link where a box would be: beside a candidate's name it may show a tick that
      // no machine reads; beside anything else (a logo before a signature) it is prose.
      if (cand) {
        candidateLines++;
        doubt(`line ${box.line} has a picture or link ("${box.mark.slice(0, MAX_QUOTED)}") where ${cand.name}'s box would be: what it shows cannot be read by machine`);
      } else if (ignoredLines.length < MAX_DOUBTS_KEPT) ignoredLines.push(shown);
      continue;
    }
    const beside = box.candidateId === undefined ? markBesideBox(text, cand !== null) : null;
    if (box.unsure !== undefined && (cand !== null || reading === 'marked' || beside !== null || isNameShaped(text))) doubt(`line ${box.line} cannot be read with certainty: ${box.unsure}`);
    if (!cand) {
      if (reading === 'marked' || beside !== null) strayMarks++;
      if (box.candidateId !== undefined || isNameShaped(text)) doubt(`line ${box.line} is candidate-shaped but names no candidate on the issued paper: "${shown}"${reading === 'blank' ? '' : ` (marked "${box.mark}")`}`);
      else if (reading === 'marked') doubt(`line ${box.line} is marked "${box.mark}" but names no candidate: "${shown}"`);
      else if (beside !== null) doubt(`line ${box.line} has a mark ("${beside.shown}") beside text that names no candidate: "${shown}"`);
      else if (ignoredLines.length < MAX_DOUBTS_KEPT) ignoredLines.push(shown);
      continue;
    }
    candidateLines++;
    // A mark beside a box that is itself marked ("[X] Cllr A ✓") marks the same candidate twice: the
    // intent is plain. Beside a box left empty, or a second box holding something else, it is not.
    if (beside !== null && (beside.kind === 'uncertain' || reading !== 'marked')) {
      strayMarks++;
      doubt(`line ${box.line} has a mark outside ${cand.name}'s box ("${beside.shown}"): which box is marked cannot be read with certainty`);
    }
    const prior = state.get(cand.id);
    if (reading === 'uncertain') doubt(`the mark "${box.mark}" beside ${cand.name} cannot be read with certainty`);
    if (reading === 'marked') chosen.add(cand.id);
    if (prior !== undefined && prior !== reading && (prior === 'marked' || reading === 'marked')) {
      doubt(`${cand.name} is listed more than once with different marks`);
    }
    state.set(cand.id, prior === 'marked' ? 'marked' : reading);
  }
  // A line among the box lines that names a candidate beside a mark in no box the reader reads
  // ("<X> Cllr …", "Cllr … (X)"): whoever reads the paper sees that candidate marked; the count would
  // not. (Naming only candidates the boxes mark, it marks them twice: the intent is plain.)
  // A mark alone on its line beside no candidate's name (a box below the last one, above another box,
  // above the signature; an X on a line of its own) is a mark a reader takes for some candidate's:
  // which cannot be told.
  for (const stray of paper.strays ?? []) {
    const named = candidatesNamedIn([stray.text], candidates);
    if (named.length > 0 ? named.every((id) => chosen.has(id)) : stray.alone === undefined) continue;
    strayMarks++;
    const shown = stray.text.length > MAX_QUOTED ? `${stray.text.slice(0, MAX_QUOTED)}…` : stray.text;
    if (named.length === 0) doubt(`line ${stray.line} has a mark ("${stray.mark}") alone, beside no candidate's name${shown === '' || shown === stray.mark ? '' : ` ("${shown}" below it)`}: which candidate it marks cannot be read with certainty`);
    else doubt(`line ${stray.line} names ${named.map((id) => byId.get(id)?.name ?? id).join(', ')} beside a mark ("${stray.mark}") in no box the machine reads: "${shown}"`);
  }
  return {
    origin: paper.origin,
    choices: candidates.filter((c) => chosen.has(c.id)).map((c) => c.id),
    uncertain: doubts,
    uncertainOmitted: doubtCount - doubts.length,
    ignoredLines,
    marks,
    marksOmitted: read - marks.length,
    boxes: read,
    candidateLines,
    strayMarks,
  };
}
