/**
 * A stylesheet read for its rules, as CSS Syntax Level 3 reads one (comments, strings that a newline
 * ends, escapes, nested brackets, <!-- and --> ignored at the top, rules nested in rules), in one pass:
 * its cost grows with its length and nothing else. Hand-written because the libraries tried take the
 * square of the length on hostile input (postcss-safe-parser 7 and css-tree 3: 16 KB of a repeated
 * three-character pattern took seconds), and a message's stylesheet is written by whoever sends it.
 *
 * Only what html-shown.ts needs is read: each style rule's selectors and declarations (property and
 * value, lower case, comments and !important taken out). Rules in @media, @supports and the other
 * conditional groups are read as rules; @font-face rules' descriptors are given apart when asked for
 * (`fontFaces`); @page, @keyframes and the like are passed over.
 * A nested rule's selector is written out in full (`.a { .b {…} }` as `:is(.a) .b`, `&` as `:is(.a)`).
 */
export interface CssRule {
  selectors: string[];
  declarations: Map<string, string>;
  /** The properties declared !important. */
  important: Set<string>;
}

/** At-rules whose block holds rules that apply as the page is shown; others (@font-face, @page, @keyframes) hold none. */
const RULE_GROUPS = new Set(['media', 'supports', 'document', '-moz-document', 'layer', 'container', 'scope', 'starting-style']);
/** Rules nested deeper than this are not read (the stylesheet is said to be too deep). */
export const MAX_CSS_NESTING = 16;

/** A nested rule's parent selector list longer than this is written as `*` in its selectors (see `block`). */
const MAX_PARENT_SELECTOR = 1000;

const SLASH = 0x2f;
const STAR = 0x2a;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;
/** Where `until` stops: flags for ';', '{' and '}'. */
const SEMI = 1;
const OPEN = 2;
const CLOSE = 4;
const stopOf = (c: number): number => (c === 0x3b ? SEMI : c === 0x7b ? OPEN : c === 0x7d ? CLOSE : 0);

/**
 * The rules of a stylesheet, or null when they nest deeper than MAX_CSS_NESTING (what they say
 * could not all be read).
 */
export function cssRules(css: string, fontFaces?: Map<string, string>[]): CssRule[] | null {
  const rules: CssRule[] = [];
  let tooDeep = false;
  const n = css.length;

  /** The index just past a comment at `i`. */
  const pastComment = (i: number): number => {
    const end = css.indexOf('*/', i + 2);
    return end < 0 ? n : end + 2;
  };
  /** The index just past a string opened at `i` (a newline ends a string left open, and is not in it). */
  const pastString = (i: number): number => {
    const quote = css[i];
    let j = i + 1;
    while (j < n) {
      const c = css[j];
      if (c === quote) return j + 1;
      if (c === '\\') j += 2;
      else if (c === '\n' || c === '\r' || c === '\f') return j;
      else j++;
    }
    return n;
  };
  /** The index of the first of `stops` (SEMI, OPEN, CLOSE) at the level of `i` (outside comments, strings and brackets), or the end. */
  const until = (i: number, stops: number): number => {
    const closing: number[] = [];
    while (i < n) {
      const c = css.charCodeAt(i);
      if (c === SLASH && css.charCodeAt(i + 1) === STAR) i = pastComment(i);
      else if (c === DQUOTE || c === SQUOTE) i = pastString(i);
      else if (c === BACKSLASH) i += 2;
      else if (closing.length === 0 && (stops & stopOf(c)) !== 0) return i;
      else {
        const close = c === 0x7b ? 0x7d : c === 0x5b ? 0x5d : c === 0x28 ? 0x29 : 0;
        if (close !== 0) closing.push(close);
        else if (closing.length > 0 && c === closing[closing.length - 1]) closing.pop();
        i++;
      }
    }
    return n;
  };
  const skipBlanks = (i: number, top: boolean): number => {
    for (;;) {
      const c = css.charCodeAt(i);
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) i++;
      else if (c === SLASH && css.charCodeAt(i + 1) === STAR) i = pastComment(i);
      else if (top && c === 0x3c && css.startsWith('<!--', i)) i += 4;
      else if (top && c === 0x2d && css.startsWith('-->', i)) i += 3;
      else return i;
    }
  };
  /** An at-rule at `i`; its block read as a group of rules (`inner`) when it is one, else passed over. */
  const atRule = (i: number, inner: (from: number) => number): number => {
    const name = /^@(-?[a-z-]*)/i.exec(css.slice(i, i + 64))?.[1]?.toLowerCase() ?? '';
    const j = until(i + 1, SEMI | OPEN | CLOSE);
    if (css[j] === ';') return j + 1;
    if (css[j] !== '{') return j;
    if (name === 'font-face' && fontFaces !== undefined) {
      // Its descriptors (font-family, src) read as a declaration block, kept apart from the rules.
      const before = rules.length;
      const end = block(j + 1, [], 1);
      for (const r of rules.splice(before)) fontFaces.push(r.declarations);
      return end;
    }
    return RULE_GROUPS.has(name) ? inner(j + 1) : Math.min(n, until(j + 1, CLOSE) + 1);
  };

  /** A declaration block from `i` to its `}` (or the end): declarations, nested rules and groups. Returns the index past it. */
  const block = (i: number, selectors: string[], depth: number): number => {
    const declarations = new Map<string, string>();
    const important = new Set<string>();
    const done = (at: number): number => {
      if (declarations.size > 0) rules.push({ selectors, declarations, important });
      return at;
    };
    if (depth > MAX_CSS_NESTING) {
      tooDeep = true;
      return done(Math.min(n, until(i, CLOSE) + 1));
    }
    for (;;) {
      i = skipBlanks(i, false);
      if (i >= n) return done(n);
      const c = css[i];
      if (c === '}') return done(i + 1);
      if (c === ';') {
        i++;
      } else if (c === '@') {
        i = atRule(i, (from) => block(from, selectors, depth + 1));
      } else {
        const j = until(i, SEMI | OPEN | CLOSE);
        if (css[j] === '{') {
          // A parent of a long selector list stands as any element: its nested rules are read as applying more widely, never less.
          const parent = selectors.join(', ');
          const is = parent.length > MAX_PARENT_SELECTOR ? '*' : `:is(${parent})`;
          const full = selectorList(css.slice(i, j)).map((s) => (s.includes('&') ? s.replaceAll('&', is) : `${is} ${s}`));
          i = block(j + 1, full, depth + 1);
        } else {
          const text = css.slice(i, j);
          const colon = text.indexOf(':');
          if (colon > 0) {
            const prop = withoutComments(text.slice(0, colon)).trim().toLowerCase();
            const full = withoutComments(text.slice(colon + 1));
            const isImportant = /!\s*important\s*$/i.test(full);
            // Within a block, the last declaration of a property wins, but not over an !important one.
            if (/^-?-?[a-z][a-z0-9-]*$/.test(prop) && (isImportant || !important.has(prop))) {
              declarations.set(prop, full.replace(/!\s*important\s*$/i, '').trim().toLowerCase());
              if (isImportant) important.add(prop);
            }
          }
          i = css[j] === ';' ? j + 1 : j;
        }
      }
    }
  };

  /** The rules of a group (the stylesheet itself, or an @media block) from `i` to its `}` or the end. */
  const group = (i: number, depth: number): number => {
    if (depth > MAX_CSS_NESTING) {
      tooDeep = true;
      return Math.min(n, until(i, CLOSE) + 1);
    }
    const top = depth === 0;
    for (;;) {
      i = skipBlanks(i, top);
      if (i >= n) return n;
      if (css[i] === '}') {
        if (!top) return i + 1;
        i++; // a stray } at the top is part of no rule
      } else if (css[i] === '@') {
        i = atRule(i, (from) => group(from, depth + 1));
      } else {
        const j = until(i, OPEN);
        if (j >= n) return n;
        i = block(j + 1, selectorList(css.slice(i, j)), depth + 1);
      }
    }
  };

  group(0, 0);
  return tooDeep ? null : rules;
}

/** A rule's selector list, split at its top-level commas, comments taken out. */
function selectorList(prelude: string): string[] {
  const text = withoutComments(prelude);
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') i++;
    else if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[') depth++;
    else if ((c === ')' || c === ']') && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out.filter((s) => s !== '');
}

function withoutComments(text: string): string {
  if (!text.includes('/*')) return text;
  let out = '';
  let i = 0;
  for (let at = text.indexOf('/*'); at >= 0; at = text.indexOf('/*', i)) {
    out += `${text.slice(i, at)} `;
    const end = text.indexOf('*/', at + 2);
    i = end < 0 ? text.length : end + 2;
  }
  return out + text.slice(i);
}

/** The declarations of a style attribute (a declaration list with no braces around it). */
export function cssDeclarations(style: string): Pick<CssRule, 'declarations' | 'important'> {
  return cssRules(`x{${style.replace(/[{}]/g, ' ')}}`)?.[0] ?? { declarations: new Map(), important: new Set() };
}
