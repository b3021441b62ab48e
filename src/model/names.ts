/**
 * Name comparison for sign-offs, candidates and councils. Titles and post-nominal letters, case,
 * punctuation, hyphens, apostrophes and accents never decide a match (spec §3).
 */

const TITLE_WORDS = new Set([
  'cllr', 'councillor', 'councilor', 'mayor', 'lord', 'lady', 'mr', 'mrs', 'ms', 'miss', 'mx', 'dr',
  'doctor', 'prof', 'professor', 'sir', 'dame', 'baroness', 'baron', 'rt', 'hon', 'right',
  'honourable', 'the', 'obe', 'mbe', 'cbe', 'jp', 'dl', 'mp', 'kbe', 'dbe', 'cllrs',
]);

/** Lower case, accents removed, apostrophes dropped, every other non-letter a space. */
export function foldText(s: string): string {
  // ASCII text (most of what is folded) is its own NFKD form and has no marks, and its only letters
  // and digits are a–z and 0–9 once lower-cased: the same result, without Unicode's tables.
  if (ASCII.test(s)) return s.toLowerCase().replace(/['`]/g, '').replace(/[^a-z0-9]+/g, ' ').trim();
  return foldUnicode(s);
}
const ASCII = /^[\x00-\x7f]*$/;

/** foldText, the whole way, for any text. */
export function foldUnicode(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’‘`ʼ]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The words of a person's name without titles or letters: "Cllr Dr. Jo O'Neill-Smith OBE" → jo, oneill, smith. */
export function nameTokens(s: string): string[] {
  const words = foldText(s).split(' ').filter((w) => w.length > 0);
  const kept = words.filter((w) => !TITLE_WORDS.has(w));
  return kept;
}

/** Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let prevPrev = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, (prevPrev[j - 2] ?? 0) + 1);
      }
      cur[j] = v;
    }
    [prevPrev, prev, cur] = [prev, cur, prevPrev];
  }
  return prev[m] ?? 0;
}

export type NameComparison = 'same' | 'near-miss' | 'different';

/**
 * Compares a signatory's name with the roster's. A near miss is a probable typo of the right person:
 * the same surname with a first name at most two edits (or only an initial) away, or the whole name
 * at most two edits away (one for short names), the surname alone, or the same words in another order.
 */
export function compareNames(written: string, expected: string): NameComparison {
  const w = nameTokens(written);
  const e = nameTokens(expected);
  if (w.length === 0 || e.length === 0) return 'different';
  const wj = w.join(' ');
  const ej = e.join(' ');
  if (wj === ej) return 'same';
  const budget = ej.length >= 10 ? 2 : 1;
  if (editDistance(wj, ej) <= budget) return 'near-miss';
  // The same words in another order: a surname written first ("Kirkland, Elliot").
  if (w.length === e.length && [...w].sort().join(' ') === [...e].sort().join(' ')) return 'near-miss';
  const wLast = w[w.length - 1] ?? '';
  const eLast = e[e.length - 1] ?? '';
  const wFirst = w[0] ?? '';
  const eFirst = e[0] ?? '';
  if (wLast === eLast) {
    if (w.length === 1) return 'near-miss';
    if (wFirst.length === 1 && eFirst.startsWith(wFirst)) return 'near-miss';
    if (editDistance(wFirst, eFirst) <= 2) return 'near-miss';
  }
  if (wFirst === eFirst && w.length > 1 && editDistance(wLast, eLast) <= (eLast.length >= 6 ? 2 : 1)) {
    return 'near-miss';
  }
  return 'different';
}

const COUNCIL_WORDS = new Set([
  'council', 'borough', 'district', 'city', 'county', 'metropolitan', 'royal', 'of', 'the', 'and',
  'mbc', 'dc', 'bc', 'cc', 'mdc', 'uc', 'unitary', 'authority', 'lb', 'rb',
]);

function councilTokens(s: string): string[] {
  const all = foldText(s.replace(/&/g, ' and ')).split(' ').filter((w) => w.length > 0);
  const core = all.filter((w) => !COUNCIL_WORDS.has(w));
  return core.length > 0 ? core : all;
}

function tokenLike(a: string, b: string): boolean {
  if (a === b) return true;
  const n = Math.min(a.length, b.length);
  if (n < 4) return false;
  let k = 0;
  while (k < n && a[k] === b[k]) k++;
  return k >= 4;
}

/** The words that name a council, "Borough Council" and the like removed: equal keys name the same council exactly. */
export function councilKey(name: string): string {
  return councilTokens(name).join(' ');
}

/** Whether the council written on a paper is, exactly, the roster council with this name or id (score 2 below). */
export function councilWrittenExactly(written: string): { key: string; asId: string } {
  return { key: councilKey(written), asId: foldText(written).replace(/ /g, '-') };
}

/**
 * How well the council named on a paper matches a roster council: 2 exact (after removing words
 * such as "Borough Council"), 1 plausible (abbreviation such as "North Herts"), 0 not at all.
 */
export function councilMatchScore(written: string, name: string, id: string): number {
  const w = councilTokens(written);
  // Worked out for each message, not cached: a cache by name grew with every council that sent a
  // paper, up to the whole roster (some 26 MB at 100,000 councils), to save a microsecond a message.
  const n = councilTokens(name);
  if (w.length === 0) return 0;
  if (w.join(' ') === n.join(' ') || foldText(written).replace(/ /g, '-') === id) return 2;
  const [small, big] = w.length <= n.length ? [w, n] : [n, w];
  const all = small.every((t) => big.some((u) => tokenLike(t, u)));
  if (all) return 1;
  return writtenAsInitials(written, name) ? 1 : 0;
}

/**
 * Whether a council is written by its initials ("NHDC", "W.C.C.", "RBG", "CWaC"): those of its
 * name's words, with or without "of", "the" and "and", and with or without its last word "Council".
 * Plausible (score 1), never exact: initials may be another council's too.
 */
function writtenAsInitials(written: string, name: string): boolean {
  const parts = foldText(written).split(' ').filter((t) => t.length > 0);
  // One word of letters ("nhdc"), or single letters ("n h d c", from "N.H.D.C.").
  const initials = parts.length === 1 ? parts[0]! : parts.every((t) => t.length === 1) ? parts.join('') : '';
  if (initials.length < 2 || initials.length > 8 || !/^[a-z]+$/.test(initials)) return false;
  const words = foldText(name.replace(/&/g, ' and ')).split(' ').filter((t) => t.length > 0);
  for (const dropped of [[], ['of', 'the'], ['of', 'the', 'and']]) {
    const kept = words.filter((t) => !dropped.includes(t));
    for (const list of [kept, kept[kept.length - 1] === 'council' ? kept.slice(0, -1) : kept]) {
      if (list.length >= 2 && list.map((t) => t[0]).join('') === initials) return true;
    }
  }
  return false;
}
