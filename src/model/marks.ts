/**
 * What a mark in a box is, read alike wherever a box is found (the text of a paper, a Word document,
 * judge/): a tick, a cross, a word such as "yes", nothing, or something that cannot be read with
 * certainty.
 */
export type MarkReading = 'marked' | 'blank' | 'uncertain';

/**
 * The crosses and ticks a keyboard, a phone or a font gives that are no letter: the check marks, the
 * multiplication and saltire crosses, the emoji cross mark, the ballot boxes drawn with a tick or a
 * cross in them, Word's Wingdings cross and tick (U+F0FB, U+F0FC: character codes 251 and 252) and
 * ticked and crossed boxes (U+F0FE, U+F0FD).
 */
const MARK_GLYPH_CHARS = '✓✔✗☒✘☑✅❎■✕×⨯⨉╳☓✖❌🗸🗹🗷🗵⮽⊠●\uF0FB\uF0FC\uF0FE\uF0FD';
/** One such glyph anywhere in a text. */
export const MARK_GLYPH = new RegExp(`[${MARK_GLYPH_CHARS}]`, 'u');
const BARE_MARK = new RegExp(`^[xX${MARK_GLYPH_CHARS}]{1,3}$`, 'u');
/**
 * Text as a strike-through shows it (HTML's <s> or line-through, Word's strike): each character but a
 * line break followed by U+0336, the combining long stroke overlay, as struck text is written in
 * plain text; a mark so written is no certain mark (readMark). Text already struck stays as it is.
 */
export const struckText = (text: string): string => text.replace(/\u0336/g, '').replace(/[^\r\n]/gu, '$&\u0336');

/** Whether a text is a mark and nothing else (an X or a tick, up to three of them, white space aside): what a person places over a box. */
export const isBareMark = (text: string): boolean => BARE_MARK.test(text.replace(/\s+|\uFE0F/g, ''));
/** A box's content that is a mark: the glyphs, X, and the asterisk, plus, bullet and Wingdings letters (þ ticked, ý crossed) people and fonts leave in one. */
const MARK_CHARS = new RegExp(`^[x*+•þý${MARK_GLYPH_CHARS}]+$`, 'u');
const MARK_WORDS = new Set(['yes', 'y', 'tick', 'ticked', 'vote', 'voted', 'cross', 'x', '1']);
const BLANK = /^[\s_☐□▢⬜¨\uF0A8\uF06F]*$/u;
const BLANK_WORDS = new Set(['no', 'n', '-', '–', '0']);

/**
 * What is in a box: a mark (X x ✓ ✔ ✗ ☒ ✘ * or a word such as "yes"), nothing, or something that
 * cannot be read with certainty. A mark is read in its compatibility form (NFKC), as a reader sees
 * it: a full-width Ｘ or ｙｅｓ typed by an input method is X or yes. Emptiness is read before, as
 * written: NFKC makes the Wingdings empty box's ¨ a space and a combining mark.
 */
export function readMark(content: string): MarkReading {
  const c = content.normalize('NFC').toLowerCase().replace(/\uFE0F/g, '').trim();
  if (BLANK.test(c)) return 'blank';
  const compact = c.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
  if (MARK_CHARS.test(compact) || MARK_WORDS.has(compact)) return 'marked';
  if (BLANK_WORDS.has(compact)) return 'blank';
  return 'uncertain';
}

/**
 * A link's address as html-to-text and mail clients write one in brackets beside its text or in
 * place of a picture: a web address, mail, a telephone number, an image's content id ("cid:…").
 */
export const LINK_ADDRESS = /^(?:[a-z][a-z0-9+.-]*:\/\/|mailto:|cid:|tel:|www\.)/i;
