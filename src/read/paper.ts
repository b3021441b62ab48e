/**
 * Finds ballot papers in text and reads their parts as written. Which candidate a line names and
 * whether a mark is a vote is decided by judge/, which knows the election.
 */
import { LINK_ADDRESS, isBareMark, readMark } from '../model/marks.js';

export interface BoxLine {
  /** The text beside the box, e.g. "Cllr Jason Williams (Westminster City Council)". */
  text: string;
  /** Set when the box is a form field that names its candidate by id (the issued PDF form). */
  candidateId?: string;
  /** The next line, when it may be the rest of a line the mail client wrapped. */
  continuation: string | null;
  /** What is inside the box, trimmed ("" for an empty box). */
  mark: string;
  /** 1-based line within the text the paper was found in. */
  line: number;
  /**
   * Why the line cannot be read with certainty as it is shown, when it cannot: it holds controls that
   * reorder text on screen, or it is longer than any paper line and only its beginning (and a box at
   * its end) was read. Absent for an ordinary line.
   */
  unsure?: string;
  /**
   * Set when the "box" holds only a link or a picture, as html-to-text and mail clients write them
   * ("[cid:image001.png@…]", "[https://…]", Gmail's "[image: Logo]"): no box but a picture or a link. Beside a
   * candidate's name it may be a picture of a tick (judge/ doubts it); beside anything else (a logo
   * before a signature) it is prose.
   */
  picture?: true;
  /**
   * Set when there is no box at all, but a cross or a tick where the box was ("X Cllr Jacky Alty",
   * "✓ Cllr Jacky Alty", "Cllr Jacky Alty X"): a person who deleted the brackets. Beside a candidate's
   * name it marks that candidate; beside anything else it is prose. Such lines never make a paper
   * of their own: only beside a heading or boxes.
   */
  bare?: true;
  /**
   * Set when the box stands alone on its line and `text` is the next line's ("[X]", then "Cllr Jacky
   * Alty (…)": a table or paragraphs laid out one cell a line). Read as `bare` is: it marks a
   * candidate it names, is prose beside anything else, and never makes a paper of its own.
   */
  apart?: true;
  /**
   * For a box alone on its line (`apart`), the line of text just above it (a blank line or two
   * between), when that line is text no other box was read with: the box stands between two lines
   * of text, and a reader may take it for the one above ("Cllr Jacky Alty (…)", then "[X]": a box
   * under each name). judge/ doubts it when that line names a candidate.
   */
  above?: string;
}

/** A box line that is prose unless it names a candidate, and never a paper on its own (BoxLine.bare, BoxLine.apart). */
export const isLooseBox = (b: BoxLine): boolean => b.bare === true || b.apart === true;

/** A line of a paper's block of box lines that is no box line but holds a mark, or a loose box's (RawPaper.strays). */
export interface StrayLine {
  /** 1-based line within the text the paper was found in. */
  line: number;
  /** The line, white space squeezed, cut to MAX_PAPER_LINE characters. */
  text: string;
  /** The word of it that is a mark, brackets and all ("<X>", "☒", "(X)"). */
  mark: string;
  /**
   * A mark alone on its line: a marked box ("[X]", `text` the line below it read with it, or "" when
   * none is), or a cross or tick and nothing else ("X", "✓"; `text` that too). A reader takes it for
   * some candidate's mark, so it is a doubt unless `text` names only candidates marked; present only then.
   */
  alone?: true;
}

export interface RawPaper {
  origin: string;
  heading: boolean;
  election: string | null;
  reference: string | null;
  council: string | null;
  boxes: BoxLine[];
  name: string | null;
  position: string | null;
  date: string | null;
  /**
   * Lines among the paper's box lines (between them, or running on from them with no blank line
   * between) that the reader reads as no box, label or heading, but that hold a mark: a cross in a
   * box drawn some other way ("<X> Cllr …", "{X} Cllr …"); and its loose boxes that are marked
   * (isLooseBox: "Cllr … Labour Party X"). judge/ doubts the paper when such a line names a candidate
   * it does not count as marked: a person reading it sees a mark the count would not. Present only
   * when there are any.
   */
  strays?: StrayLine[];
}

const HEADING = /^\W*ccin\s+ballot\s+paper\W*$/i;
const GENERIC_HEADING = /^\W*ballot\s+paper\W*$/i;
/** A box at a line's start ("[X] ", "( ) ", after a bullet or a number); the text beside it is the rest of the line, and holds a letter. */
const LEADING_BOX = /^(?:[-*•·]\s+|\d{1,2}[.)]\s+)?([[(])([^\])]{0,16})([\])])\s*/u;
const TRAILING_BOX = /^\[([^\]]{0,16})\]\s*$/u;
/**
 * A box after the name that is a box glyph ("Cllr Jacky Alty (…) ☒"), or round brackets holding a
 * cross or tick or nothing ("… (X)", "… ( )"): not a council's initials in brackets ("(SRBC)").
 * Read as a cross without a box is (BoxLine.bare): it marks a candidate it names, is prose beside
 * anything else, and makes no paper on its own.
 */
const TRAILING_GLYPH = /\s([☐☑☒⬜🔲🔳□▢❎🗹🗷🗵⮽⊠])\uFE0F?$/u;
const TRAILING_ROUND = /\s\(([^()]{0,5})\)$/u;
/**
 * A square box at the start whose content LEADING_BOX does not take (over 16 characters, or holding
 * brackets: an image or link as html-to-text writes it, "[tick [https://…]]"): the box ends at the
 * first "]" followed by a space and a letter. Its content is no mark the machine reads, so a
 * candidate's line is not lost (as the line after a box, it was read as that box's name wrapped).
 */
const LOOSE_BOX = /^(?:[-*•·]\s+|\d{1,2}[.)]\s+)?\[(.{0,200}?)\]\s+(?=\p{L})/u;
const HAS_LETTER = /\p{L}/u;
/**
 * Whether all a "box" holds is a link or a picture, as html-to-text or a mail client writes one in
 * brackets: an address (LINK_ADDRESS, or a data: URL) with no space in it, or Gmail's text
 * version of a picture ("image: Logo").
 */
const isLinkOrPicture = (content: string): boolean => ((LINK_ADDRESS.test(content) || /^data:/i.test(content)) && !/\s/.test(content)) || /^image:\s/i.test(content);
// Box glyphs, including the Wingdings characters Word and Outlook leave behind when a form is pasted
// as text (¨ empty, þ ticked, ý crossed; U+F0A8/U+F0FE/U+F0FD in the private use area), after a
// bullet or a number as a bracketed box may be (an HTML list's " * ☒ Cllr …").
const GLYPH_BOX = /^(?:[-*•·]\s+|\d{1,2}[.)]\s+)?(?:([☐☑☒✅⬜🔲🔳■□▢❎🗹🗷🗵⮽⊠¨\uF0A8\uF0FE\uF0FD\uF06F])\uFE0F?\s*|([þý])\s+)/u;
/**
 * A label and its value, as people write them: "Name:", "Print name:", "Name (block capitals):",
 * "Signed by:", "Position:", "Position held:", "Designation:", "Job title:"; "Name - …", "Name:- …";
 * in asterisks or underscores, as a mail client writes bold or italic text as plain text ("*Name:*").
 */
const LABEL =
  /^[*_]{0,2}(election|ballot\s*ref(?:erence)?(?:\s*(?:no|number|#))?\.?|council|(?:print(?:ed)?\s+|full\s+)?name(?:\s+in\s+(?:full|print|capitals))?(?:\s*\([^()]{0,30}\))?|signed(?:\s+by)?|signature|signatory|position(?:\s+held)?|designation|capacity|role|job\s*title|title|date)[*_]{0,2}\s*(?::[-–]?|\s[-–]\s)[*_]{0,2}\s*(.*)$/i;

type LabelKey = 'election' | 'reference' | 'council' | 'name' | 'position' | 'date';

function labelKey(word: string): LabelKey {
  const w = word.toLowerCase().replace(/\s+/g, ' ');
  if (w.startsWith('ballot')) return 'reference';
  if (w === 'election') return 'election';
  if (w === 'council') return 'council';
  if (w === 'date') return 'date';
  if (w.startsWith('position') || w === 'role' || w.startsWith('job') || w === 'title' || w === 'designation' || w === 'capacity') return 'position';
  return 'name';
}

/** Normalises the whitespace and look-alike characters mail clients put into text. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u00A0\u2000-\u200A\u202F\u205F\u3000\t]/g, ' ')
    .replace(/[\u200B-\u200D\u2060\uFEFF]/g, '')
    .replace(/［/g, '[')
    .replace(/］/g, ']')
    .replace(/（/g, '(')
    .replace(/）/g, ')');
}

/** Crosses and ticks that are no box and no bullet: model/marks.ts's mark glyphs less GLYPH_BOX's boxes and the bullet-like ● and ■. */
const TICKS = '✓✔✗✘✕×⨯⨉╳☓✖❌🗸';
/** A cross or tick where the box was, then the name: "X Cllr Jacky Alty", "✓ - Cllr Jacky Alty", after a bullet or number as a box may be. */
const BARE_LEADING = new RegExp(`^(?:[-*•·]\\s+|\\d{1,2}[.)]\\s+)?([xX]{1,3}|[${TICKS}]{1,3})\\uFE0F?(?:\\s+(?:[-–:]\\s+)?|[-–:)]\\s+)(?=\\p{L})`, 'u');
/** The same after the name: "Cllr Jacky Alty X" (a capital X only: a small x after a name is a kiss). */
const BARE_TRAILING = new RegExp(`\\s(X{1,3}|[${TICKS}]{1,3})\\uFE0F?$`, 'u');

/** A bracketed box and nothing else on its line: "[X]", "( )", after a bullet or number as a box may be. */
const LONE_BOX = /^(?:[-*•·]\s+|\d{1,2}[.)]\s+)?(?:\[([^[\]()]{0,16})\]|\(([^[\]()]{0,16})\))$/u;

/** A line that is none of the others: a box alone on it (Parsed.lone: bracketed, or a box glyph as GLYPH_BOX reads one), or nothing. */
function loneBox(t: string): Parsed {
  if (t.length > 24) return NONE;
  const m = LONE_BOX.exec(t);
  if (m) return { lone: (m[1] ?? m[2] ?? '').trim(), box: null, label: null, heading: null };
  const g = GLYPH_BOX.exec(t);
  if (g && g[0].trim().length === t.length) return { lone: g[1] ?? g[2] ?? '', box: null, label: null, heading: null };
  return NONE;
}

/**
 * For a box alone on line `i`, the line that holds its text: the next line with any (a blank line or
 * two between) when that line is no box, label or heading itself; else null.
 */
function besideLone(lines: readonly string[], parsed: readonly Parsed[], i: number): number | null {
  let j = i + 1;
  while (j < lines.length && j <= i + 3 && (lines[j] ?? '').trim() === '') j++;
  const text = (lines[j] ?? '').trim();
  return parsed[j] === NONE && text !== '' && text.length <= MAX_PAPER_LINE ? j : null;
}

interface Parsed {
  /** A box alone on its line: its mark ("" for an empty box). */
  lone?: string;
  box: { text: string; mark: string; unsure?: string; picture?: true; bare?: true } | null;
  label: { key: LabelKey; value: string } | null;
  heading: 'ccin' | 'generic' | null;
}

/**
 * No box, label or heading is this long. Of a longer line (its white space squeezed) only the first
 * MAX_PAPER_LINE characters are matched for a box at its start (never backtracked over), and its
 * last "[" for one at its end; the text beside the box is the whole rest of the line, and the box is
 * unsure.
 */
const MAX_PAPER_LINE = 500;
/**
 * Characters that make a mail client show a line's characters in another order than they are stored:
 * the explicit embeddings, overrides and isolates of Unicode's bidirectional algorithm (UAX #9), and
 * its invisible marks, which set the direction of the brackets beside them (the "Trojan Source"
 * trick, CVE-2021-42574). "[ ] Cllr A \u202E]X[" is shown as a box marked after the name.
 */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** What most lines of a message are: no box, label or heading (shared, never changed). */
const NONE: Parsed = Object.freeze({ box: null, label: null, heading: null });

const BIDI_UNSURE = 'it holds bidirectional controls (characters that reorder text on screen), so a mail client may show its box and name in another order than they are read';
/** Brackets as a right-to-left run shows them (UAX #9's mirrored pairs). */
const MIRRORED: Record<string, string> = { '(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<', '«': '»', '»': '«', '‹': '›', '›': '‹' };

function parseLine(raw: string): Parsed {
  const t = unpiped(raw.trim().replace(/\s+/g, ' '));
  // Every box, label and heading has a letter in it (a box, beside it): a line with none is none of
  // them, but may be a box alone ("[ ]", "☒"), its text on the next line.
  if (!HAS_LETTER.test(t)) return loneBox(t);
  if (t.search(BIDI_CONTROLS) < 0) return parseText(t, undefined);
  const stored = t.replace(BIDI_CONTROLS, '').trim().replace(/ {2,}/g, ' ');
  const read = parseText(stored, BIDI_UNSURE);
  if (read.box !== null || read.label !== null || read.heading !== null) return read;
  // A line stored backwards and shown forwards by an override ("\u202E(licnuoC …) ytlA ykcaJ rllC [X]"
  // is shown as "[X] Cllr Jacky Alty (…)"): what it shows, read in the order shown, is a box line
  // that cannot be read with certainty; never a line that is no part of a paper. Shown with its
  // brackets mirrored, as UAX #9 has a right-to-left run show them, or (a viewer that does not
  // mirror) as stored.
  const backwards = Array.from(stored).reverse();
  for (const shown of [backwards.map((c) => MIRRORED[c] ?? c).join(''), backwards.join('')]) {
    const box = parseText(shown, BIDI_UNSURE);
    if (box.box !== null) return box;
  }
  return read;
}

/**
 * A row of a table typed as text with bars ("| X | Cllr Jacky Alty (…) |", as Markdown writes one),
 * whose first cell is empty or a mark, as a box before the rest ("[X] Cllr Jacky Alty (…)"); any
 * other line as it is.
 */
function unpiped(t: string): string {
  const row = /^\|([^|]{0,16})\|(.*?)\|?$/.exec(t);
  if (row === null) return t;
  const cell = row[1]!.trim();
  if (cell !== '' && !isBareMark(cell)) return t;
  const rest = row[2]!.split('|').map((c) => c.trim()).filter((c) => c !== '').join(' ');
  return rest === '' ? `[${cell}]` : `[${cell}] ${rest}`;
}

/** A line (white space squeezed, bidirectional controls taken out) read as a box, label or heading; `unsure`, why any box on it is doubtful. */
function parseText(t: string, unsure: string | undefined): Parsed {
  const overlong = t.length > MAX_PAPER_LINE;
  if (overlong) unsure = `it is ${t.length} characters long, longer than any line of a ballot paper`;
  const head = overlong ? t.slice(0, MAX_PAPER_LINE) : t;
  const box = (mark: string, text: string, square = false): Parsed => ({
    box: { text, mark, ...(unsure === undefined ? {} : { unsure }), ...(square && isLinkOrPicture(mark) ? { picture: true as const } : {}) },
    label: null,
    heading: null,
  });
  if (!overlong && HEADING.test(t)) return { box: null, label: null, heading: 'ccin' };
  if (!overlong && GENERIC_HEADING.test(t)) return { box: null, label: null, heading: 'generic' };
  // A box at the start is looked for in the head alone; the text beside it is the whole rest.
  let m = LEADING_BOX.exec(head);
  if (m && HAS_LETTER.test(t.slice(m[0].length))) return box((m[2] ?? '').trim(), t.slice(m[0].length).trim(), m[1] === '[');
  m = GLYPH_BOX.exec(head);
  if (m && HAS_LETTER.test(t.slice(m[0].length))) return box(m[1] ?? m[2] ?? '', t.slice(m[0].length).trim());
  m = LOOSE_BOX.exec(head);
  if (m) return box((m[1] ?? '').trim(), t.slice(m[0].length).trim(), true);
  // "Cllr Jason Williams [X]": found from the last "[" rather than by a backtracking pattern.
  const open = t.lastIndexOf('[');
  if (open > 0) {
    m = TRAILING_BOX.exec(t.slice(open));
    const before = t.slice(0, open).trim();
    if (m && HAS_LETTER.test(before) && !LABEL.test(head)) return box((m[1] ?? '').trim(), before);
  }
  // A glyph or round brackets after the text (read as a cross without a box is, BoxLine.bare: prose
  // ends "(x)" or "☺" more often than a paper's line does).
  const glyph = TRAILING_GLYPH.exec(t);
  const round = glyph ? null : TRAILING_ROUND.exec(t);
  const after = glyph ?? (round && (round[1]!.trim() === '' || isBareMark(round[1]!)) ? round : null);
  if (after && HAS_LETTER.test(t.slice(0, after.index)) && !LABEL.test(head)) {
    return { box: { text: t.slice(0, after.index).trim(), mark: after[1]!.trim(), ...(unsure === undefined ? {} : { unsure }), bare: true }, label: null, heading: null };
  }
  if (overlong) return NONE;
  m = LABEL.exec(t);
  if (m) return { box: null, label: { key: labelKey(m[1] ?? ''), value: (m[2] ?? '').trim() }, heading: null };
  m = BARE_LEADING.exec(t);
  if (m) return { box: { text: t.slice(m[0].length).trim(), mark: m[1] ?? '', ...(unsure === undefined ? {} : { unsure }), bare: true }, label: null, heading: null };
  m = BARE_TRAILING.exec(t);
  if (m && HAS_LETTER.test(t.slice(0, m.index))) return { box: { text: t.slice(0, m.index).trim(), mark: m[1] ?? '', ...(unsure === undefined ? {} : { unsure }), bare: true }, label: null, heading: null };
  return loneBox(t);
}

/**
 * Papers' box lines (mark, text, and whether it is unsure) as one string: whether two readings of
 * one document found the same papers. A paper without boxes (a heading alone, as a <title> may
 * hold) marks nothing, and is left out.
 */
export function boxLines(papers: readonly RawPaper[]): string {
  return JSON.stringify(papers.filter((p) => p.boxes.length > 0).map((p) => p.boxes.map((b) => [b.mark, b.text, b.unsure !== undefined])));
}

/** Stray lines kept of one paper, at most (a hostile text may hold a million). */
const MAX_STRAYS = 20;

/**
 * The lines of a paper's block of box lines that hold a mark the reader reads as no box line
 * (RawPaper.strays): lines that are no box, label or heading but hold a mark, and loose boxes that
 * are marked. The block runs from its first box line to its last (a loose box counts only where
 * there are no others), and on above and below through such lines up to a blank line or a line of
 * another kind: a covering note set apart by a blank line is never in it. Each line is looked at once.
 */
function strayLines(lines: readonly string[], parsed: readonly Parsed[], boxes: readonly BoxLine[], lone: ReadonlyMap<number, BoxLine | null>): StrayLine[] {
  const boxAt = new Map<number, BoxLine>();
  for (const b of boxes) boxAt.set(b.line - 1, b);
  const firm = boxes.filter((b) => !isLooseBox(b));
  let first = Number.POSITIVE_INFINITY;
  let last = -1;
  for (const b of firm.length > 0 ? firm : boxes) {
    first = Math.min(first, b.line - 1);
    last = Math.max(last, b.line - 1);
  }
  const plain = (i: number): boolean => parsed[i] === NONE && (lines[i] ?? '').trim() !== '';
  const loose = (i: number): BoxLine | null => {
    const b = boxAt.get(i);
    return b !== undefined && isLooseBox(b) ? b : null;
  };
  // A box alone on its line is in the block as the line it stands on, whether or not it was read
  // with a line of text below it (BoxLine.apart, perhaps past a blank line: "Signed off by…").
  const within = (i: number): boolean => plain(i) || loose(i) !== null || lone.has(i);
  let top = first;
  while (top > 0 && within(top - 1)) top--;
  let bottom = last;
  while (bottom + 1 < lines.length && within(bottom + 1)) bottom++;
  const out: StrayLine[] = [];
  const kept = new Set<BoxLine>();
  for (let i = top; i <= bottom && out.length < MAX_STRAYS; i++) {
    if (lone.has(i)) {
      const placed = lone.get(i) ?? null;
      const mark = placed?.mark ?? parsed[i]?.lone ?? '';
      if (placed !== null) kept.add(placed);
      if (readMark(mark) !== 'blank') out.push({ line: i + 1, text: placed?.text.slice(0, MAX_PAPER_LINE) ?? '', mark, alone: true });
      continue;
    }
    const b = loose(i);
    if (b !== null && kept.has(b)) continue;
    // A cross without a box (or a box apart from its text) whose text is more than a candidate's
    // name ("… Labour and Co-operative Party X") is prose to judge/ unless it names one as a box line
    // does: it is kept, so that a name in it is not passed over.
    if (b !== null) {
      if (readMark(b.mark) !== 'blank') out.push({ line: b.line, text: b.text.slice(0, MAX_PAPER_LINE), mark: b.mark });
    } else if (plain(i)) {
      const text = (lines[i] ?? '').trim().replace(/\s+/g, ' ').slice(0, MAX_PAPER_LINE);
      const mark = markWord(text);
      if (mark !== null) out.push({ line: i + 1, text, mark, ...(mark === text ? { alone: true as const } : {}) });
    }
  }
  return out;
}

/** A word of a line that is a mark, brackets, bars or Markdown's marks about it aside ("X", "(X)", "<X>", "|X|", "[X", "X[", "~~[X]", "☒"), or null. */
function markWord(text: string): string | null {
  for (const word of text.split(' ')) {
    if (word.length > 8) continue;
    // (Markdown's ~~struck~~, *bold* and _italic_ marks about a word too: "~~[X]".)
    const core = word.replace(/^[[\](){}<>|~*_]+/, '').replace(/[[\](){}<>|.,;:!~*_]+$/, '');
    if (core !== '' && isBareMark(core)) return word;
  }
  return null;
}

/**
 * Every ballot paper in a text: a "CCIN BALLOT PAPER" heading starts one; boxes without a heading
 * make one too. `prose`, when given, is filled with the text's lines that are no part of a paper
 * (no box, label or heading, nor the text a box alone was read with), up to `prose.max` of them.
 */
export function findPapers(text: string, origin: string, prose?: { lines: string[]; max: number }): RawPaper[] {
  const lines = normaliseText(text).split('\n');
  const parsed = lines.map(parseLine);
  const papers: RawPaper[] = [];
  let cur: RawPaper | null = null;
  const fresh = (heading: boolean): RawPaper => ({
    origin,
    heading,
    election: null,
    reference: null,
    council: null,
    boxes: [],
    name: null,
    position: null,
    date: null,
  });
  // Lines of a box alone, each with the box read with the text below it (besideLone), or null when none is.
  const lone = new Map<number, BoxLine | null>();
  // The line a box alone was last read with (its `text`): no box after it stands below it.
  let readWith = -1;
  const close = (): void => {
    // A cross or tick without a box (BoxLine.bare) makes no paper of its own: prose may begin "X ".
    if (cur && !cur.heading && cur.boxes.every(isLooseBox)) cur.boxes = [];
    if (cur && cur.boxes.length > 0) {
      const strays = strayLines(lines, parsed, cur.boxes, lone);
      if (strays.length > 0) cur.strays = strays;
    }
    if (cur && (cur.heading || cur.boxes.length > 0)) papers.push(cur);
  };
  for (let i = 0; i < lines.length; i++) {
    const p = parsed[i];
    if (!p) continue;
    if (p === NONE && prose !== undefined && prose.lines.length < prose.max) {
      const t = (lines[i] ?? '').trim().replace(/\s+/g, ' ');
      if (t !== '') prose.lines.push(t.length > MAX_PAPER_LINE ? t.slice(0, MAX_PAPER_LINE) : t);
    }
    if (p.heading === 'ccin' || (p.heading === 'generic' && (cur === null || cur.boxes.some((b) => !isLooseBox(b)) || cur.heading))) {
      close();
      cur = fresh(true);
      continue;
    }
    cur ??= fresh(false);
    if (p.lone !== undefined) {
      const j = besideLone(lines, parsed, i);
      let a = i - 1;
      while (a >= 0 && a >= i - 3 && (lines[a] ?? '').trim() === '') a--;
      const aboveText = (lines[a] ?? '').trim().replace(/\s+/g, ' ');
      const above = a >= 0 && a !== readWith && parsed[a] === NONE && aboveText !== '' && aboveText.length <= MAX_PAPER_LINE ? aboveText : null;
      if (j !== null) {
        const box: BoxLine = { text: (lines[j] ?? '').trim().replace(/\s+/g, ' '), mark: p.lone, continuation: null, line: j + 1, apart: true, ...(above === null ? {} : { above }) };
        readWith = j;
        cur.boxes.push(box);
        lone.set(i, box);
        i = j;
      } else lone.set(i, null);
      continue;
    }
    if (p.box) {
      const next = parsed[i + 1];
      const nextText = (lines[i + 1] ?? '').trim();
      // A line with a cross but no box may still be the rest of this one, wrapped.
      const continuation = next && (!next.box || next.box.bare) && !next.label && !next.heading && nextText !== '' ? nextText : null;
      cur.boxes.push({ text: p.box.text, mark: p.box.mark, continuation, line: i + 1, ...(p.box.unsure === undefined ? {} : { unsure: p.box.unsure }), ...(p.box.picture ? { picture: true as const } : {}), ...(p.box.bare ? { bare: true as const } : {}) });
      continue;
    }
    if (p.label) {
      let value = p.label.value;
      if (value === '') {
        // "Name:" with the answer typed on the line below.
        const next = parsed[i + 1];
        const nextText = (lines[i + 1] ?? '').trim();
        if (next && (!next.box || next.box.bare) && !next.label && !next.heading && nextText !== '') value = nextText;
      }
      const v = value === '' ? null : value;
      const key = p.label.key;
      if (cur[key] === null) cur[key] = v;
    }
  }
  close();
  return papers;
}
