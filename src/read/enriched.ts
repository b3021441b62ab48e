/**
 * Text/enriched (RFC 1896) and text/richtext (RFC 1341) as the text a mail client shows of them:
 * their formatting commands taken out, their line breaks as they are drawn. A message may carry one
 * as another version of its body (in multipart/alternative, the last version a client can show is
 * the one it shows: Apple Mail and Thunderbird show text/enriched), so its paper is read as a
 * paper beside the text version's.
 */

/**
 * text/enriched: "<<" is a "<"; a command is "<name>" or "</name>", and a <param> holds a command's
 * parameter, not text; a line break alone is a space, and n line breaks in a row are n−1.
 */
export function enrichedAsText(text: string): string {
  return withoutParams(text.replace(/\r\n?/g, '\n'))
    .replace(/<<|<\/?[A-Za-z0-9-]{1,60}>/g, (c) => (c === '<<' ? '<' : ''))
    .replace(/\n+/g, (breaks) => (breaks.length === 1 ? ' ' : '\n'.repeat(breaks.length - 1)));
}

/**
 * The text less each <param>…</param> (any case), an unclosed one to the end: found with indexOf, once
 * through (a pattern that looked for each closing tag from each opening one would take the square of
 * the length on a text of openings alone).
 */
function withoutParams(text: string): string {
  const lower = text.toLowerCase();
  let out = '';
  let at = 0;
  for (let open = lower.indexOf('<param>'); open >= 0; open = lower.indexOf('<param>', at)) {
    out += text.slice(at, open);
    const close = lower.indexOf('</param>', open + 7);
    if (close < 0) return out;
    at = close + 8;
  }
  return out + text.slice(at);
}

/**
 * text/richtext: "<lt>" is a "<", "<nl>" a line break, "<np>" a new page; any other command is
 * taken out, and a line break in the text is a space.
 */
export function richtextAsText(text: string): string {
  return text
    .replace(/\r\n?|\n/g, ' ')
    .replace(/<(\/?)([A-Za-z0-9-]{1,60})>/g, (_c, close: string, name: string) => {
      const n = name.toLowerCase();
      if (close === '' && n === 'lt') return '<';
      if (close === '' && (n === 'nl' || n === 'np')) return '\n';
      return '';
    });
}
