/**
 * Finds ballot papers in text and reads their parts as written. Which candidate a line names and
 * whether a mark is a vote is decided by judge/, which knows the election.
 */
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
}

const HEADING = /^\W*ccin\s+ballot\s+paper\W*$/i;
const GENERIC_HEADING = /^\W*ballot\s+paper\W*$/i;
const LEADING_BOX = /^(?:[-*•·]\s+|\d{1,2}[.)]\s+)?([[(])([^\])]{0,16})([\])])\s*(.*\p{L}.*)$/u;
const TRAILING_BOX = /^\[([^\]]{0,16})\]\s*$/u;
const HAS_LETTER = /\p{L}/u;
// Box glyphs, including the Wingdings characters Word and Outlook leave behind when a form is pasted
// as text (¨ empty, þ ticked, ý crossed; U+F0A8/U+F0FE/U+F0FD in the private use area).
const GLYPH_BOX = /^(?:([☐☑☒✅⬜🔲🔳■□▢❎¨\uF0A8\uF0FE\uF0FD\uF06F])\uFE0F?\s*|([þý])\s+)(.*\p{L}.*)$/u;
const LABEL =
  /^(election|ballot\s*ref(?:erence)?(?:\s*(?:no|number|#))?\.?|council|name|signed(?:\s+by)?|signature|signatory|position|role|job\s*title|title|date)\s*(?::|\s[-–]\s)\s*(.*)$/i;

type LabelKey = 'election' | 'reference' | 'council' | 'name' | 'position' | 'date';

function labelKey(word: string): LabelKey {
  const w = word.toLowerCase().replace(/\s+/g, ' ');
  if (w.startsWith('ballot')) return 'reference';
  if (w === 'election') return 'election';
  if (w === 'council') return 'council';
  if (w === 'date') return 'date';
  if (w === 'position' || w === 'role' || w.startsWith('job') || w === 'title') return 'position';
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

interface Parsed {
  box: { text: string; mark: string } | null;
  label: { key: LabelKey; value: string } | null;
  heading: 'ccin' | 'generic' | null;
}

/** No box, label or heading is this long; longer lines are never matched (and never backtracked over). */
const MAX_PAPER_LINE = 500;

function parseLine(raw: string): Parsed {
  if (raw.length > MAX_PAPER_LINE) return { box: null, label: null, heading: null };
  const t = raw.trim().replace(/\s+/g, ' ');
  if (HEADING.test(t)) return { box: null, label: null, heading: 'ccin' };
  if (GENERIC_HEADING.test(t)) return { box: null, label: null, heading: 'generic' };
  let m = LEADING_BOX.exec(t);
  if (m) return { box: { mark: (m[2] ?? '').trim(), text: (m[4] ?? '').trim() }, label: null, heading: null };
  m = GLYPH_BOX.exec(t);
  if (m) return { box: { mark: m[1] ?? m[2] ?? '', text: (m[3] ?? '').trim() }, label: null, heading: null };
  // "Cllr Jason Williams [X]": found from the last "[" rather than by a backtracking pattern.
  const open = t.lastIndexOf('[');
  if (open > 0) {
    m = TRAILING_BOX.exec(t.slice(open));
    const before = t.slice(0, open).trim();
    if (m && HAS_LETTER.test(before) && !LABEL.test(t)) return { box: { mark: (m[1] ?? '').trim(), text: before }, label: null, heading: null };
  }
  m = LABEL.exec(t);
  if (m) return { box: null, label: { key: labelKey(m[1] ?? ''), value: (m[2] ?? '').trim() }, heading: null };
  return { box: null, label: null, heading: null };
}

/** Every ballot paper in a text: a "CCIN BALLOT PAPER" heading starts one; boxes without a heading make one too. */
export function findPapers(text: string, origin: string): RawPaper[] {
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
  const close = (): void => {
    if (cur && (cur.heading || cur.boxes.length > 0)) papers.push(cur);
  };
  for (let i = 0; i < lines.length; i++) {
    const p = parsed[i];
    if (!p) continue;
    if (p.heading === 'ccin' || (p.heading === 'generic' && (cur === null || cur.boxes.length > 0 || cur.heading))) {
      close();
      cur = fresh(true);
      continue;
    }
    cur ??= fresh(false);
    if (p.box) {
      const next = parsed[i + 1];
      const nextText = (lines[i + 1] ?? '').trim();
      const continuation = next && !next.box && !next.label && !next.heading && nextText !== '' ? nextText : null;
      cur.boxes.push({ text: p.box.text, mark: p.box.mark, continuation, line: i + 1 });
      continue;
    }
    if (p.label) {
      let value = p.label.value;
      if (value === '') {
        // "Name:" with the answer typed on the line below.
        const next = parsed[i + 1];
        const nextText = (lines[i + 1] ?? '').trim();
        if (next && !next.box && !next.label && !next.heading && nextText !== '') value = nextText;
      }
      const v = value === '' ? null : value;
      const key = p.label.key;
      if (cur[key] === null) cur[key] = v;
    }
  }
  close();
  return papers;
}
