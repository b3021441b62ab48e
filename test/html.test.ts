/**
 * The HTML version of a message as text (src/read/html.ts): what mailparser makes of the same HTML
 * as the body of an HTML-only message but for tables, which are laid out a row a line, and refused
 * where mailparser refuses it.
 */
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { DEFAULT_READ_LIMITS } from '../src/read/message.js';
import { MAX_HTML_NESTING, htmlAsShown, htmlAsText, nestsDeeperThan } from '../src/read/html.js';
import { generatedText, hides, outlookHtml, parseColour } from '../src/read/html-shown.js';
import { struckText } from '../src/model/marks.js';
import { boxLines, findPapers } from '../src/read/paper.js';

/** mailparser's reading of an HTML-only message holding `html`. */
async function byMailparser(html: string): Promise<{ text: string } | { error: string }> {
  const mail = await simpleParser(Buffer.concat([Buffer.from('Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), Buffer.from(html, 'utf8')]), {
    maxHtmlLengthToParse: DEFAULT_READ_LIMITS.maxHtmlChars,
  });
  return mail.textConversionError ? { error: mail.textConversionError.message } : { text: typeof mail.text === 'string' ? mail.text : '' };
}
const ours = (html: string) => htmlAsText(html, DEFAULT_READ_LIMITS.maxHtmlChars);
const kind = (r: { text: string } | { error: string }): string => ('text' in r ? `text:${r.text}` : 'error');
/** The same, white space aside: where a table's cells and rows are set apart, only white space differs. */
const words = (r: { text: string } | { error: string }): string => ('text' in r ? `text:${r.text.replace(/\s+/g, '')}` : 'error');

describe('the HTML version as text', () => {
  const pieces = ['<p>', '</p>', '<div>', '</div>', '<br>', '<b>', '</b>', '<!--', '-->', '<', '>', '&amp;', '&#91;', '[X] ', '[ ] ', 'Cllr Jason Williams', 'Name: ', '\n', ' ', 'é', '<blockquote>', '</blockquote>', '<ul><li>', '</li></ul>', '<pre>', '</pre>', '<img src="x">', '<a href="https://x.example">', '</a>'];
  const tables = ['<table>', '<tr>', '</tr>', '<td>', '</td>', '<th>', '</th>', '</table>', '&#9746;', '&#9744;'];

  it('is mailparser’s text of the same HTML, on generated markup without tables (and lines short enough that mailparser does not wrap them)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...pieces), { maxLength: 60 }), async (parts) => {
        const html = parts.join('');
        expect(kind(ours(html))).toBe(kind(await byMailparser(html)));
      }),
      { seed: 11, numRuns: 400 },
    );
  });

  it('holds the words mailparser’s text holds, in the same order, where tables are laid out (only white space differs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...pieces, ...tables), { maxLength: 60 }), async (parts) => {
        const html = parts.join('');
        expect(words(ours(html))).toBe(words(await byMailparser(html)));
      }),
      { seed: 12, numRuns: 400 },
    );
  });

  it('writes each table row on a line of its own, its cells set apart, where mailparser runs them together', async () => {
    const paper = '<p>Our paper:</p><table><tr><th>Vote</th><th>Candidate</th></tr><tr><td>&#9746;</td><td>Cllr Jacky Alty</td></tr><tr><td>&#9744;</td><td>Cllr Jason Williams</td></tr></table><p>Name: Cllr Elliot Kirkland</p>';
    expect(await byMailparser(paper)).toEqual({ text: 'Our paper:\n\nVoteCandidate☒Cllr Jacky Alty☐Cllr Jason Williams\n\nName: Cllr Elliot Kirkland' });
    expect(ours(paper)).toEqual({ text: 'Our paper:\n\nVote Candidate\n☒ Cllr Jacky Alty\n☐ Cllr Jason Williams\n\nName: Cllr Elliot Kirkland' });
    // A mark after the name, a box split over cells, a cell holding paragraphs, a table in a cell.
    expect(ours('<table><tr><td>Cllr Jacky Alty</td><td>X</td></tr><tr><td>Cllr Jason Williams</td><td></td></tr></table>')).toEqual({ text: 'Cllr Jacky Alty X\nCllr Jason Williams' });
    expect(ours('<table><tr><td>[</td><td>X</td><td>]</td><td>Cllr Jacky Alty</td></tr></table>')).toEqual({ text: '[ X ] Cllr Jacky Alty' });
    expect(ours('<table><tr><td><p>[X]</p></td><td><p>Cllr Jacky Alty</p></td></tr></table>')).toEqual({ text: '[X]\n\nCllr Jacky Alty' });
    expect(ours('<table><tr><td><table><tr><td>a</td><td>b</td></tr></table></td><td>c</td></tr></table>')).toEqual({ text: 'a b\n\nc' });
    // A mark in a cell spanning rows stands beside each row it spans; a longer cell (a heading, a logo's name) is read once.
    expect(ours('<table><tr><td rowspan="2">X</td><td>Cllr Jacky Alty</td></tr><tr><td>Cllr Jason Williams</td></tr><tr><td>[ ]</td><td>Cllr Alistair Willoughby</td></tr></table>')).toEqual({
      text: 'X Cllr Jacky Alty\nX Cllr Jason Williams\n[ ] Cllr Alistair Willoughby',
    });
    expect(ours('<table><tr><td>Cllr Jacky Alty</td><td rowspan=0>&#10003;</td></tr><tr><td>Cllr Jason Williams</td></tr></table>')).toEqual({ text: 'Cllr Jacky Alty ✓\nCllr Jason Williams ✓' });
    expect(ours('<table><tr><td rowspan=3><img alt="North Herts"></td><td>Cllr Elliot Kirkland</td></tr><tr><td>Leader</td></tr><tr><td>Council</td></tr></table>')).toEqual({ text: 'North Herts Cllr Elliot Kirkland\nLeader\nCouncil' });
    expect(ours('<table><tr><td colspan=2>Vote</td><td rowspan=2>X</td></tr><tr><td>a</td><td>b</td></tr></table>')).toEqual({ text: 'Vote X\na b X' });
    // A table inside a spanning cell spreads its own spans once, however often it is written.
    expect(ours('<table><tr><td rowspan=2>X<table><tr><td rowspan=2>i</td><td>j</td></tr><tr><td>k</td></tr></table></td><td>1</td></tr><tr><td>2</td></tr></table>')).toEqual({ text: 'X\ni j\ni k\n\n1\nX\ni j\ni k\n\n2' });
    // Spans that would copy a cell billions of times are copied a bounded number of times, in linear time.
    const spans = `<table><tr>${'<td rowspan=65534>x</td>'.repeat(2000)}</tr>${'<tr><td>y</td></tr>'.repeat(20000)}</table>`;
    const text = ours(spans);
    expect('text' in text && text.text.split('x').length - 1).toBe(2000 + 10_000);
    // Lines are not wrapped at 80 characters, as mailparser's are: a mail client wraps them on screen
    // as wide as its window, and a row wrapped in two put its mark on a line of its own.
    const wide = '<table><tr><td>Cllr Alistair Willoughby (North Hertfordshire District Council)</td><td>Labour and Co-operative Party</td><td>X</td></tr></table>';
    expect(await byMailparser(wide)).toEqual({ text: 'Cllr Alistair Willoughby (North Hertfordshire District Council)Labour and\nCo-operative PartyX' });
    expect(ours(wide)).toEqual({ text: 'Cllr Alistair Willoughby (North Hertfordshire District Council) Labour and Co-operative Party X' });
    // A letter laid out in a table of one cell reads as it did.
    const letter = '<table><tr><td><p>Dear Returning Officer,</p><p>Our vote is attached.</p></td></tr></table>';
    expect(ours(letter)).toEqual(await byMailparser(letter));
  });

  it('refuses nesting deeper than mailparser lets html-to-text walk, as mailparser does, and reads what is just within it', async () => {
    const cases = [
      '<b>'.repeat(MAX_HTML_NESTING) + 'x',
      '<b>'.repeat(MAX_HTML_NESTING + 1) + 'x',
      // Unclosed cells and paragraphs do not nest; void elements open nothing; comments hide tags.
      '<table>' + '<tr><td>x'.repeat(5000) + '</table>',
      '<p>x'.repeat(5000),
      '<br>'.repeat(5000),
      `<!--${'<b>'.repeat(5000)}-->x`,
      // An end tag closes down to its element; one with no open element is ignored.
      `${'<i><b>'.repeat(400)}${'</i>'.repeat(400)}${'<u>'.repeat(700)}x`,
      `${'</b>'.repeat(3000)}${'<b>'.repeat(900)}x`,
      `${'<div>'.repeat(600)}<span>${'</div>'.repeat(600)}${'<div>'.repeat(600)}x`,
    ];
    for (const html of cases) expect(words(ours(html)), html.slice(0, 40)).toBe(words(await byMailparser(html)));
    expect(nestsDeeperThan('<b>'.repeat(MAX_HTML_NESTING + 1), MAX_HTML_NESTING)).toBe(true);
    expect(nestsDeeperThan('<b>'.repeat(MAX_HTML_NESTING), MAX_HTML_NESTING)).toBe(false);
  });

  it('refuses HTML over the length limit before reading it, and deep nesting of 2 MB before parsing it', () => {
    expect(htmlAsText('x'.repeat(11), 10)).toEqual({ error: 'HTML too long for parsing 11 characters' });
    const deep = '<b>'.repeat(650_000);
    expect(htmlAsText(deep, DEFAULT_READ_LIMITS.maxHtmlChars)).toEqual({ error: `HTML nested deeper than ${MAX_HTML_NESTING} levels` });
    expect(nestsDeeperThan(`${'<b></b>'.repeat(280_000)}`, MAX_HTML_NESTING)).toBe(false);
  });
});

describe('the HTML as a reader is shown it (src/read/html-shown.ts)', () => {
  const decls = (css: string): Map<string, string> =>
    new Map(css.split(';').filter((d) => d.includes(':')).map((d) => [d.slice(0, d.indexOf(':')).trim(), d.slice(d.indexOf(':') + 1).trim().toLowerCase()]));

  it('knows the styles that hide text, and leaves the ones an ordinary message carries', () => {
    for (const css of [
      'display:none', 'visibility:hidden', 'visibility:collapse', 'mso-hide:all', 'opacity:0', 'opacity:.05', 'opacity:4%', 'filter:opacity(0)',
      'font-size:0', 'font-size:0px', 'font-size:1px', 'font-size:1.5pt', 'font-size:0.1em', 'font-size:10%',
      'color:transparent', 'color:rgba(0,0,0,0)', 'color:rgb(0 0 0 / 0)', 'color:hsla(0, 0%, 0%, 0.0)', 'color:#0000', 'color:#12345600', '-webkit-text-fill-color:transparent',
      'max-height:0;overflow:hidden', 'height:1px;width:1px;overflow:hidden', 'width:0;overflow-x:clip', 'clip:rect(0,0,0,0)', 'clip:rect(0px 0px 0px 0px)',
      'position:absolute;left:-9999px', 'text-indent:-10000px', 'margin-top:-60em', 'transform:scale(0)', 'transform:scaleY(0)', 'scale:0',
      'filter:blur(6px)', 'filter:blur(0.5em) grayscale(1)', 'filter:contrast(0)', 'filter:contrast(0%)', 'content-visibility:hidden', 'zoom:0.1', 'zoom:5%',
    ]) expect(hides(decls(css)), css).toBe(true);
    for (const css of [
      'display:block', 'font-size:11.0pt', 'font-size:10px', 'font-size:x-small', 'font-size:0.8em', 'color:#000', 'color:rgb(0,0,0)', 'color:rgba(0,0,0,0.8)', 'color:#1F497D',
      'opacity:0.9', 'max-height:0', 'height:0', 'overflow:hidden', 'overflow:hidden;height:40px', 'margin-left:-4px', 'text-indent:-36.0pt', 'transform:scale(1)', 'mso-hide:none', '',
      'filter:blur(1px)', 'filter:contrast(1.2)', 'content-visibility:auto', 'zoom:0.9', 'zoom:100%',
    ]) expect(hides(decls(css)), css).toBe(false);
  });

  it('does not work out a value longer than any length, colour or keyword (a pattern for each would take the square of its length)', () => {
    for (const prop of ['font-size', 'font', 'opacity', 'left', 'color', 'clip', 'transform', 'scale', 'filter']) {
      expect(hides(new Map([[prop, `${'1'.repeat(100_000)}-`]])), prop).toBe(false);
      expect(hides(new Map([[prop, `rgba(0,0,0,${'0'.repeat(100_000)}x`]])), prop).toBe(false);
    }
    expect(parseColour(`rgb(${'1'.repeat(100_000)}-`)).toBeNull();
  });

  it('reads the text a ::before or ::after rule writes, CSS escapes and all', () => {
    expect(generatedText('"\\2713"')).toBe('✓');
    expect(generatedText("'X'")).toBe('X');
    expect(generatedText('"[" "\\58" "]"')).toBe('[X]');
    expect(generatedText('"\\"q\\""')).toBe('"q"');
    expect(generatedText('counter(n) ". "')).toBe('\ufffd. ');
    expect(generatedText('attr(data-mark)')).toBe('\ufffd');
    for (const none of ['none', 'normal', '""', "''"]) expect(generatedText(none)).toBe('');
    // Quotes never closed are passed over, in one pass (a pattern for each took the square of the length).
    expect(generatedText('"\\'.repeat(200_000))).toBe('\ufffd'.repeat(200_000));
    expect(generatedText('"a" \'b')).toBe('a\ufffd');
  });

  it('shows Outlook what conditional comments hold for it, and not what they hold for others', () => {
    const html = '<p>a</p><!--[if mso]><p>[X] mso</p><![endif]--><!--[if !mso]><!--><p>[X] others</p><!--<![endif]--><!--[if gte mso 9]><p>nine</p><![endif]--><!--[if !mso]><p>never</p><![endif]--><p>b</p>';
    expect(outlookHtml(html)).toBe('<p>a</p><p>[X] mso</p><p>nine</p><p>b</p>');
    expect(outlookHtml('<p>plain <!-- a comment --></p>')).toBe('<p>plain <!-- a comment --></p>');
  });

  const shown = (html: string) => {
    const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
    if (r === null || 'error' in r) throw new Error(`not read: ${JSON.stringify(r)}`);
    return { held: r.held, views: r.views.map((v) => `${v.client}: ${v.text ?? `unknown (${'why' in v ? v.why : ''})`}`) };
  };

  it('takes out what a stylesheet hides, through any selector a browser takes, in @media too; what it holds is read unchanged', () => {
    const style = '<style><!--\np.MsoNormal {margin:0cm; font-size:11.0pt}\n.n {display:none}\ndiv.paper td > span + b {font-size:0}\n@media screen { #m {visibility:hidden} }\n@font-face {font-family:X}\n@page {size:a4}\na:hover {display:none}\n--></style>';
    const r = shown(`${style}<p class="MsoNormal">one <span class="n">two</span> <a href="#">three</a></p><div class="paper"><table><tr><td><span>four</span><b>five</b></td></tr></table></div><p id="m">six</p>`);
    expect(r.held.replace(/\s+/g, ' ')).toBe('one two three fourfive six');
    expect(r.views.map((v) => v.replace(/\s+/g, ' ').trim())).toEqual(['a mail client: one three four']);
  });

  it('writes in what ::before and ::after write, and leaves out a hidden attribute, a <template> and hiding inline styles', () => {
    const r = shown('<style>.t::after{content:"\\2713"} .u:before{content:"<"}</style><p>[<span class="t"></span>] A</p><p><span class="u">x</span></p><p hidden>h</p><template>t</template><p style="font-size: 0px">f</p><p style="COLOR: Transparent !important">c</p><p>end</p>');
    expect(r.views.map((v) => v.replace(/\s+/g, ' ').trim())).toEqual(['a mail client: [✓] A <x end']);
  });

  it('works out each element\'s font size, text colour and visibility as a browser does: by the cascade, and down the tree', () => {
    const view = (html: string): string => {
      const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      if (r === null) return 'as held';
      if ('error' in r) throw new Error(r.error);
      return r.views.map((v) => (v.text ?? 'unknown').replace(/\s+/g, ' ').trim()).join(' | ');
    };
    // A layout wrapper of zero font size (as responsive templates write) whose cells set their own: all shown.
    expect(view('<div style="font-size:0"><div style="display:inline-block;font-size:14px">[X] A</div><div style="font-size:1.2em">gone</div> <b>gone too</b></div>')).toBe('[X] A');
    expect(view('<div style="visibility:hidden">hidden <span style="visibility:visible">[X] A</span></div>')).toBe('[X] A');
    expect(view('<div style="color:transparent">clear <span style="color:#000">[X] A</span> <i style="color:inherit">clear</i></div>')).toBe('[X] A');
    expect(view('<div style="-webkit-text-fill-color:transparent;color:#000">filled clear</div><p>end</p>')).toBe('end');
    // The cascade: specificity, then order; inline above rules; !important above inline.
    expect(view('<style>p.MsoNormal span {font-size:11pt} .k {font-size:0}</style><p class="MsoNormal"><span class="k">X</span> shown</p>')).toBe('as held');
    expect(view('<style>.k {font-size:0} span {font-size:11pt}</style><p><span class="k">X</span> shown</p>')).toBe('shown');
    expect(view('<style>.k {font-size:0} .k {font-size:11pt}</style><p><span class="k">X</span> shown</p>')).toBe('as held');
    expect(view('<style>.k {font-size:0}</style><p><span class="k" style="font-size:12px">X</span> shown</p>')).toBe('as held');
    expect(view('<style>.k {font-size:0 !important}</style><p><span class="k" style="font-size:12px">X</span> shown</p>')).toBe('shown');
    expect(view('<style>#x {display:block} .k {display:none}</style><p><span id="x" class="k">X</span> shown</p>')).toBe('as held');
    expect(view('<style>:where(#x) {display:block} .k {display:none}</style><p><span id="x" class="k">X</span> shown</p>')).toBe('shown');
    // Sizes relative to a zero size stay zero; the font shorthand sets a size.
    expect(view('<div style="font-size:0"><span style="font-size:150%">X</span> <span style="font:bold 0/0 a">Y</span></div><p>end</p>')).toBe('end');
    expect(view('<p style="font:0/0 a">X</p><p>end</p>')).toBe('end');
    // Text the colour of what is behind it: white on the white page, on a white cell, in <font color>; on a dark cell it shows.
    expect(view('<p>[<span style="color:#FFFFFF">X</span>] A</p>')).toBe('[] A');
    expect(view('<p>[<font color="white">X</font>] A</p>')).toBe('[] A');
    expect(view('<table><tr><td style="background-color:#1F497D"><span style="color:#fafafa">[X] A</span></td><td bgcolor="#000"><font color="#ffffff">[X] B</font> unseen</td></tr></table><p>[<span style="color:rgb(250, 250, 250)">X</span>] C</p>').replace(/\s+/g, '')).toBe('[X]A[X]B[]C');
    expect(view('<div style="background:#336 url(bg.png)"><span style="color:#fff">[X] A</span></div><p style="color:#1F497D;background:#1E4A7C">[X] B</p>').replace(/\s+/g, ' ')).toBe('[X] A');
    expect(view('<p style="color:windowtext">[X] A</p>')).toBe('as held');
    expect(parseColour('#1F497D')).toEqual([31, 73, 125]);
    expect(parseColour('rgb(100%, 0%, 50%)')).toEqual([255, 0, 128]);
    expect(parseColour('ffffff')).toEqual([255, 255, 255]);
    expect(parseColour('windowtext')).toBeNull();
  });

  it('leaves out a title and a script, which html-to-text writes and no mail client shows, and shows form controls as they are shown, in what every client shows', () => {
    const readings = (html: string): { read: string; held: string } => {
      const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      if (r === null || 'error' in r) throw new Error('not read');
      return { read: r.read.replace(/\s+/g, ' ').trim(), held: r.held.replace(/\s+/g, ' ').trim() };
    };
    expect(readings('<html><head><title>[X] Cllr Jason Williams</title></head><p>[ ] Cllr Jason Williams</p><script>document.write("x")</script></html>')).toEqual({
      read: '[X] Cllr Jason Williams [ ] Cllr Jason Williams',
      held: '[ ] Cllr Jason Williams',
    });
    expect(readings('<p><input type="checkbox" checked> A</p><p><input type=radio> B</p><p>[<input type="text" value="X" size="1">] C</p><p><select><option>[X] D</option><option selected>[ ] D</option></select></p><p><input type="hidden" value="[X] E"></p>').held).toBe('☑ A ☐ B [X] C [ ] D');
    // A ticked checkbox the machine does not read beside a candidate: every client shows it as a marked box.
    const shown = htmlAsShown('<p><input type="checkbox" checked> Cllr Jacky Alty (South Ribble Borough Council)</p>', DEFAULT_READ_LIMITS.maxHtmlChars);
    expect(shown !== null && 'held' in shown && findPapers(shown.held, 'x')[0]?.boxes).toMatchObject([{ mark: '☑', text: 'Cllr Jacky Alty (South Ribble Borough Council)' }]);
  });

  it('marks text a browser may show in another order (a <bdo>, dir="rtl", a CSS bidi override) with the controls that do that in plain text', () => {
    const lines = (html: string): string[] => {
      const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      if (r === null || 'error' in r) return [];
      return r.views.flatMap((v) => findPapers(v.text ?? '', 'body-html').flatMap((p) => p.boxes.map((b) => `${b.mark}|${b.unsure === undefined ? 'sure' : 'unsure'}`)));
    };
    expect(lines('<p>[<bdo dir="rtl">X</bdo>] Cllr Jacky Alty</p>')).toEqual(['X|unsure']);
    // Forced right to left, the text is shown reversed with its brackets mirrored: "…rllC [X]" is shown "[X] Cllr …".
    const shown = htmlAsShown('<p><bdo dir="rtl">(licnuoC ytiC retsnimtseW) smailliW nosaJ rllC [X]</bdo></p>', DEFAULT_READ_LIMITS.maxHtmlChars);
    expect(shown !== null && 'views' in shown && findPapers(shown.views[0]?.text ?? '', 'x')[0]?.boxes).toMatchObject([{ mark: 'X', text: 'Cllr Jason Williams (Westminster City Council)', unsure: expect.any(String) }]);
    expect(lines('<p dir="rtl">[X] Cllr Jacky Alty</p>')).toEqual(['X|unsure']);
    expect(lines('<style>.r {unicode-bidi: bidi-override; direction: rtl}</style><p class="r">[X] Cllr Jacky Alty</p>')).toEqual(['X|unsure']);
    // Gmail's <div dir="ltr"> reorders nothing.
    expect(htmlAsShown('<div dir="ltr"><p style="color:#000">[X] Cllr Jacky Alty</p></div>', DEFAULT_READ_LIMITS.maxHtmlChars)).toBeNull();
  });

  it('says so when a hiding rule cannot be matched, and reads HTML with no style, hidden attribute, template or conditional comment once', () => {
    expect(shown('<style>p:unknown-thing(1) {display:none}</style><p>a</p>').views).toEqual([expect.stringMatching(/^a mail client: unknown \(its stylesheet hides what "p:unknown-thing\(1\)" selects/)]);
    expect(htmlAsShown('<div dir="ltr"><p>[X] plain</p></div>', DEFAULT_READ_LIMITS.maxHtmlChars)).toBeNull();
  });
});

describe('the HTML as shown, over generated papers', () => {
  const lines = ['[ ] Cllr Alistair Willoughby (North Hertfordshire District Council)', '[X] Cllr Jason Williams (Westminster City Council)', '[ ] Cllr Jacky Alty (South Ribble Borough Council)'];
  const plain = fc.constantFrom('font-size:11.0pt', 'font-family:"Calibri",sans-serif', 'color:#1F497D', 'color:rgba(0,0,0,0.87)', 'margin:0cm', 'mso-fareast-language:EN-US', 'line-height:115%', 'overflow:hidden', 'max-height:40px', 'text-indent:-18pt', 'display:inline-block', 'opacity:0.9', 'font-size:0.9em',
    // Layout that moves nothing off its line: Word's table and list margins, a position without an offset, no transform.
    'margin-left:-5.4pt', 'margin:0cm 0cm 0cm -5.4pt', 'margin-top:-1pt', 'position:relative', 'position:relative;top:0;left:0px', 'position:static', 'transform:none', 'order:0', 'float:left', 'letter-spacing:-.1pt', 'zoom:100%', 'filter:blur(0px)', 'clip-path:none');
  const hiding = fc.constantFrom('display:none', 'visibility:hidden', 'mso-hide:all', 'font-size:0', 'font-size:1px', 'opacity:0', 'color:transparent', 'max-height:0;overflow:hidden', 'position:absolute;left:-9999px', 'transform:scale(0)', 'color:#FFFFFF', 'color:white', 'filter:blur(6px)', 'filter:contrast(0%)', 'content-visibility:hidden', 'zoom:0.1');
  const boxes = (html: string, at: 'held' | number): string => {
    const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
    if (r === null) {
      const text = htmlAsText(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      return at === 'held' && 'text' in text ? boxLines(findPapers(text.text, 'body-html')) : '';
    }
    if ('error' in r) throw new Error(r.error);
    const text = at === 'held' ? r.held : r.views[at]?.text;
    return typeof text === 'string' ? boxLines(findPapers(text, 'body-html')) : 'unknown';
  };
  const styled = (styles: string[], how: 'inline' | 'class', inner: string, i: number): string =>
    how === 'inline' ? `<span style="${styles.join(';')}">${inner}</span>` : `<span class="s${i}">${inner}</span>`;
  const sheet = (styles: string[][]): string => `<style>${styles.map((s, i) => `.s${i} { ${s.join(';')} }`).join('\n')}</style>`;

  it('styles that hide nothing leave every reading as the HTML holds it', () => {
    fc.assert(
      fc.property(fc.array(fc.array(plain, { minLength: 1, maxLength: 3 }), { minLength: 3, maxLength: 3 }), fc.constantFrom('inline' as const, 'class' as const), (styles, how) => {
        const html = sheet(styles) + lines.map((l, i) => `<p>${styled(styles[i]!, how, l, i)}</p>`).join('');
        const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
        if (r !== null && 'held' in r) for (let v = 0; v < r.views.length; v++) expect(boxes(html, v)).toBe(boxes(html, 'held'));
      }),
      { numRuns: 150 },
    );
  });

  it('a style that hides the mark, inline or by a class, set among plain ones, makes the reading shown differ from the one held', () => {
    fc.assert(
      fc.property(fc.array(plain, { maxLength: 3 }), hiding, fc.constantFrom('inline' as const, 'class' as const), fc.integer({ min: 0, max: 1 }), (others, hide, how, order) => {
        // A later declaration of the same property (font-size:1px, then font-size:11pt) shows the text again.
        const props = new Set(hide.split(';').map((d) => d.split(':')[0]));
        const rest = others.filter((d) => !props.has(d.split(':')[0]));
        const styles = order === 0 ? [...rest, hide] : [hide, ...rest];
        const html = `${sheet([styles])}<p>${lines[0]}</p><p>[${styled(styles, how, 'X', 0)}] Cllr Jason Williams (Westminster City Council)</p><p>${lines[2]}</p>`;
        expect(boxes(html, 0)).not.toBe(boxes(html, 'held'));
      }),
      { numRuns: 150 },
    );
  });

  // Styles by which a mark may be drawn beside another candidate's line than the one it is read on.
  const moving = fc.constantFrom('position:absolute', 'position:fixed;top:20px', 'position:relative;top:-1.3em', 'position:sticky;bottom:19px', 'position:relative;inset:-20px 0 0 0', 'transform:translateY(-22px)', 'transform:rotate(180deg)', 'translate:0 -20px', 'rotate:90deg', 'scale:-1 1', 'margin-top:-20px', 'margin:-1.5em 0 0', 'margin-block-start:-18px', 'order:-1', 'grid-row:1', 'writing-mode:vertical-rl', 'clip-path:inset(0 0 60% 0)', 'mask-image:linear-gradient(transparent, black)', 'letter-spacing:-0.5em', `position:relative;top:${'0'.repeat(240)}20px`);

  it('a style that may show the mark elsewhere (positioned, shifted, turned, reordered), inline or by a class, makes the mark unsure as shown', () => {
    fc.assert(
      fc.property(fc.array(plain, { maxLength: 3 }), moving, fc.constantFrom('inline' as const, 'class' as const), fc.integer({ min: 0, max: 1 }), (others, move, how, order) => {
        const props = new Set(move.split(';').map((d) => d.split(':')[0]));
        // (A font family in quotes would end a style attribute written in double quotes.)
        const rest = others.filter((d) => !props.has(d.split(':')[0]) && !/^(?:position|margin|transform|order)/.test(d) && !d.includes('"'));
        const styles = order === 0 ? [...rest, move] : [move, ...rest];
        const html = `${sheet([styles])}<p>${lines[0]}</p><p>[${styled(styles, how, 'X', 0)}] Cllr Jason Williams (Westminster City Council)</p><p>${lines[2]}</p>`;
        const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
        const view = r !== null && 'views' in r ? r.views[0]?.text ?? '' : '';
        expect(findPapers(view, 'body-html')[0]?.boxes.map((b) => (b.unsure === undefined ? `${b.mark}` : `${b.mark}?`))).toEqual(['', 'X?', '']);
        expect(boxes(html, 'held')).toBe(boxes(html.replace(/<style>[^]*?<\/style>/, '').replace(/ style="[^"]*"/, ''), 'held'));
      }),
      { numRuns: 150 },
    );
  });

  it('shows struck text struck (<s>, <strike>, <del> in every client; a line-through style in a mail client), as plain text writes it (a mark so written is read as no certain mark: marks.ts)', () => {
    const marks = (text: string | null | undefined): string[] => findPapers(text ?? '', 'body-html').flatMap((p) => p.boxes.map((b) => `${b.mark}${b.unsure === undefined ? '' : '?'}`));
    for (const tag of ['s', 'strike', 'del', 'S']) {
      const r = htmlAsShown(`<p>${lines[0]}</p><p>[<${tag}>X</${tag}>] Cllr Jason Williams (Westminster City Council)</p><p>${lines[2]}</p>`, DEFAULT_READ_LIMITS.maxHtmlChars);
      expect(r !== null && 'held' in r && [marks(r.read), marks(r.held)]).toEqual([['', 'X', ''], ['', 'X\u0336', '']]);
    }
    for (const style of ['text-decoration:line-through', 'text-decoration: underline line-through red', 'text-decoration-line:line-through']) {
      const r = htmlAsShown(`<style>.c {${style}}</style><p>${lines[0]}</p><p class="c">${lines[1]}</p><p>${lines[2]}</p>`, DEFAULT_READ_LIMITS.maxHtmlChars);
      expect(r !== null && 'held' in r && [marks(r.held), marks(r.views[0]?.text)]).toEqual([['', 'X', ''], ['', '\u0336X\u0336', '']]);
    }
    // A struck checkbox is struck too; text struck twice is written once.
    const box = htmlAsShown('<p><del><input type="checkbox" checked> Cllr Jacky Alty</del></p>', DEFAULT_READ_LIMITS.maxHtmlChars);
    expect(box !== null && 'held' in box && box.held.trim()).toBe(struckText('☑ Cllr Jacky Alty'));
    expect(struckText(struckText('[X] A\nB'))).toBe('[\u0336X\u0336]\u0336 \u0336A\u0336\nB\u0336');
    // <section>, <sup> and <summary> are no <s>.
    expect(htmlAsShown('<section><sup>1</sup><summary>[X] A</summary></section>', DEFAULT_READ_LIMITS.maxHtmlChars)).toBeNull();
  });

  it('reads text in a font the message supplies (an @font-face with a src, any of a list, by a rule, the font shorthand or <font face>) as glyphs that cannot be told; Word\'s @font-face rules supply none', () => {
    const marks = (html: string): string[] | null => {
      const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      if (r === null || 'error' in r) return null;
      return r.views.flatMap((v) => findPapers(v.text ?? '', 'body-html').flatMap((p) => p.boxes.map((b) => b.mark)));
    };
    const paper = lines.map((l) => `<p>${l}</p>`).join('');
    const face = (family: string, src: string): string => `@font-face {font-family: ${family}; src: ${src}}`;
    // The mark alone in such a font: it cannot be told. The whole paper: no line of it reads as a paper's.
    for (const [sheet, html, read] of [
      [face('"Blank"', 'url(data:font/woff2;base64,AAAA) format("woff2")') + ' .b {font-family: Blank, serif}', paper.replace('[X]', '[<span class="b">X</span>]'), ['', '\ufffd', '']],
      [face('Calibri', 'local("Wingdings")') + ' body {font-family: Calibri}', `<body>${paper}</body>`, []],
      [face("'my font'", 'url(https://fonts.example/f.woff)'), paper.replace('[X]', '[<font face="Arial, My  Font">X</font>]'), ['', '\ufffd', '']],
      [face('Blank', 'url(f.woff)') + ' p {font: italic 12px/1.2 Blank, sans-serif}', paper, []],
    ] as const) {
      expect(marks(`<style>${sheet}</style>${html}`)).toEqual(read);
    }
    // A child that sets another family shows its text in it; Word's declarations of fonts supply none.
    expect(marks(`<style>${face('Blank', 'url(f.woff)')} div {font-family: Blank} p {font-family: Arial}</style><div>${paper}</div>`)).toBeNull();
    expect(marks(`<style>@font-face {font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;} p {font-family:Calibri,sans-serif}</style>${paper}`)).toBeNull();
    const unmatched = htmlAsShown(`<style>${face('Blank', 'url(f.woff)')} p:unknown-thing(1) {font-family: Blank}</style><p>a</p>`, DEFAULT_READ_LIMITS.maxHtmlChars);
    expect(unmatched !== null && 'views' in unmatched && unmatched.views[0]).toMatchObject({ text: null, why: expect.stringMatching(/^its stylesheet sets a font of its own for what "p:unknown-thing\(1\)"/) });
  });

  it('a box whose overflow is hidden and too small for the text it holds (a mark pushed out by spaces, an indent, a line break) makes that text unsure; a box sized for its mark does not', () => {
    const view = (html: string): string[] | null => {
      const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      if (r === null || 'error' in r) return null;
      return r.views.flatMap((v) => findPapers(v.text ?? '', 'body-html').flatMap((p) => p.boxes.map((b) => `${b.mark}${b.unsure === undefined ? '' : '?'}`)));
    };
    const williams = 'Cllr Jason Williams (Westminster City Council)';
    const box = (style: string, inner: string): string => `<p>[<span style="display:inline-block;overflow:hidden;${style}">${inner}</span>] ${williams}</p>`;
    expect(view(box('width:10px', '&nbsp;&nbsp;&nbsp;&nbsp;X'))).toEqual(['X?']);
    expect(view(box('width:10px', '<span>&nbsp;</span><span>&nbsp;</span><span>&nbsp;</span>X'))).toEqual(['X?']);
    expect(view(box('width:0.75em;text-indent:40px', 'X'))).toEqual(['X?']);
    expect(view(box('max-height:18px', '<br>X'))).toEqual([]);
    expect(view(`<div style="width:300px;overflow:hidden;white-space:nowrap"><p>[ ] ${williams} ${'.'.repeat(60)} [X]</p></div>`)).toEqual(['?']);
    // Sized for what it holds: a cell for its mark, a column its lines wrap in.
    expect(view(`<table><tr><td style="width:20px;height:20px;overflow:hidden">X</td><td>${williams}</td></tr></table>`)).toBeNull();
    expect(view(`<div style="width:300px;overflow:hidden"><p>[X] ${williams}</p><p>${lines[2]}</p></div>`)).toBeNull();
  });

  it('writes in a list marker of the sender\'s own (::marker content, a list-style string, a picture or counter style of its own), by a rule or a style attribute; a predefined marker writes nothing', () => {
    const williams = (html: string): string | null => {
      const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      if (r === null || 'error' in r) return null;
      return r.views[0]?.text?.split('\n').find((l) => l.includes('Williams'))?.trim() ?? null;
    };
    const list = (attrs: string): string => `<ul${attrs}><li>Cllr Jason Williams (Westminster City Council)</li></ul>`;
    expect(williams(`<style>.w li::marker { content: "\\2612  " }</style>${list(' class="w"')}`)).toBe('* ☒ Cllr Jason Williams (Westminster City Council)');
    expect(williams(`<style>ul.w { list-style-type: '☒ ' }</style>${list(' class="w"')}`)).toBe('* ☒ Cllr Jason Williams (Westminster City Council)');
    expect(williams(list(` style='list-style: "✓ " inside'`))).toBe('* ✓ Cllr Jason Williams (Westminster City Council)');
    for (const style of ['list-style-image: url(tick.png)', 'list-style-type: ticks', 'list-style: symbols(cyclic "☒")']) {
      expect([style, williams(list(` style='${style}'`))]).toEqual([style, '* [\ufffd] Cllr Jason Williams (Westminster City Council)']);
    }
    for (const style of ['list-style-type: disc', 'list-style: square inside', 'list-style: none']) expect(htmlAsShown(list(` style="${style}"`), DEFAULT_READ_LIMITS.maxHtmlChars)).toBeNull();
  });

  it('takes out what a browser does not render (the fallback text of a canvas, a video, a frame, which draw a picture instead; a closed dialog; a closed <details> but its summary)', () => {
    const view = (html: string): string | null => {
      const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      return r === null || 'error' in r ? null : (r.views[0]?.text ?? null);
    };
    for (const tag of ['canvas', 'video', 'audio', 'iframe', 'noframes', 'noembed', 'meter', 'progress', 'dialog']) {
      // What draws something in its place (a poster, a page, a player, a bar) is a picture there.
      const drawn = ['video', 'audio', 'iframe', 'meter', 'progress'].includes(tag) ? ' \uFFFC' : '';
      expect([tag, view(`<p>${lines[1]!.replace('[X]', '[ ]')}</p><${tag}>${lines[1]}</${tag}>`)?.replace(/\s+/g, ' ').trim()]).toEqual([tag, lines[1]!.replace('[X]', '[ ]') + drawn]);
    }
    expect(view(`<details><summary>Our ballot</summary><p>${lines[1]}</p></details>`)?.trim()).toBe('Our ballot');
    // Open, each shows what it holds.
    expect(htmlAsShown(`<details open><summary>Our ballot</summary><p>${lines[1]}</p></details><dialog open>${lines[0]}</dialog>`, DEFAULT_READ_LIMITS.maxHtmlChars)).toBeNull();
  });

  it('shows a drawing (an SVG, an embedded object, an image button) or an empty element painted with a background picture as a picture (U+FFFC) where it stands: in a box, a mark that cannot be read', () => {
    const alty = (box: string): string => `<p>${lines[0]}</p><p>${lines[1]}</p><p>[${box}] Cllr Jacky Alty (South Ribble Borough Council)</p>`;
    const marks = (html: string, at: 'held' | number): string[] => {
      const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      if (r === null) return ['as held'];
      if ('error' in r) throw new Error(r.error);
      const text = at === 'held' ? r.held : r.views[at]?.text;
      return typeof text === 'string' ? findPapers(text, 'body-html').flatMap((p) => p.boxes.map((b) => b.mark)) : ['unknown'];
    };
    // Every client draws an SVG or an object.
    for (const drawing of ['<svg width="10" height="10"><path d="M0 5 L4 9 L10 0"/></svg>', '<object data="cid:tick@x"></object>', '<embed src="cid:tick@x">', '<input type="image" src="cid:tick@x" alt="">']) {
      expect(marks(alty(drawing), 'held')).toEqual(['', 'X', '\uFFFC']);
    }
    // A mail client paints a background picture, inline or by a rule, on an element holding nothing.
    for (const html of [alty('<span style="display:inline-block;width:10px;height:10px;background:url(cid:tick@x)"></span>'), `<style>.t { background-image: url(cid:tick@x) }</style>${alty('<span class="t"></span>')}`]) {
      expect(marks(html, 0)).toEqual(['', 'X', '\uFFFC']);
    }
    // A picture behind text, or a background colour, shows the text.
    expect(marks(`<div style="background:url(cid:letterhead@x)">${alty(' ')}</div>`, 0)).toEqual(['as held']);
    expect(marks(alty('<span style="background:#eee"> </span>'), 'held')).toEqual(['as held']);
  });
  it('a flex box shown in reverse, or a block moved as a whole, makes every line in it unsure, and a moving rule that cannot be matched leaves the reading unknown', () => {
    const unsure = (html: string): string[] => {
      const r = htmlAsShown(html, DEFAULT_READ_LIMITS.maxHtmlChars);
      const view = r !== null && 'views' in r ? r.views[0]?.text ?? '' : '';
      return findPapers(view, 'body-html').flatMap((p) => p.boxes.map((b) => `${b.mark}${b.unsure === undefined ? '' : '?'}`));
    };
    expect(unsure(`<div style="display:flex;flex-direction:column-reverse"><p>${lines[1]}</p><p>${lines[2]}</p></div>`)).toEqual(['X?', '?']);
    expect(unsure(`<p>${lines[0]}</p><div style="position:relative;top:-2.5em"><p>${lines[1]}</p><p>${lines[2]}</p></div>`)).toEqual(['', 'X?', '?']);
    const r = htmlAsShown('<style>p:unknown-thing(1) {position:absolute}</style><p>a</p>', DEFAULT_READ_LIMITS.maxHtmlChars);
    expect(r !== null && 'views' in r && r.views).toEqual([{ client: 'a mail client', text: null, why: expect.stringMatching(/^its stylesheet moves what "p:unknown-thing\(1\)" selects/) }]);
  });
});

describe('the HTML as shown, over generated hostile markup', () => {
  it('refuses Outlook\'s reading when its conditional comments (which the nesting limit does not count) open elements nested too deep, and reverses nested right-to-left text once', () => {
    const deep = htmlAsShown(`<p style="color:red">x</p><!--[if mso]>${'<div>'.repeat(5000)}deep${'</div>'.repeat(5000)}<![endif]-->`, DEFAULT_READ_LIMITS.maxHtmlChars);
    expect(deep !== null && 'views' in deep && deep.views).toEqual([{ client: 'Outlook', text: null, why: `HTML nested deeper than ${MAX_HTML_NESTING} levels` }]);
    const nested = htmlAsShown(`<p>${'<bdo dir="rtl">'.repeat(2)}]X[ A${'</bdo>'.repeat(2)}</p>`, DEFAULT_READ_LIMITS.maxHtmlChars);
    expect(nested !== null && 'views' in nested && nested.views.map((v) => v.text?.replace(/[\u202C\u202E]/g, ''))).toEqual(['A ]X[']);
  });

  it('never throws: every reading is text, or says why it cannot be told', () => {
    const piece = fc.constantFrom(
      '<style>', '</style>', '<p>', '</p>', '<span class="a">', '</span>', '<div style="', '">', '</div>', '<bdo dir="rtl">', '</bdo>', '<input type="checkbox" checked>',
      '<select><option selected>', '</select>', '<title>', '</title>', '<!--[if mso]>', '<![endif]-->', '<!--[if !mso]><!-->', '<!--<![endif]-->', '<template>', '</template>',
      '.a{display:none}', '.a::after{content:"\\2713"}', '*{font-size:0}', 'p span{font-size:12px}', '@media x{', '}', '{', ';', ':', 'color:#fff', 'background:#000',
      ':is(', ':not(', ')', '[', ']', '"', "'", '\\', '/*', '*/', '[X] Cllr Jacky Alty', '[ ] Cllr Jason Williams', ' ', '\n', '&nbsp;', '<font color="white">', '</font>',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), (pieces) => {
        const r = htmlAsShown(pieces.join(''), DEFAULT_READ_LIMITS.maxHtmlChars);
        if (r === null) return;
        if ('error' in r) throw new Error(r.error);
        expect(typeof r.read).toBe('string');
        expect(typeof r.held).toBe('string');
        for (const v of r.views) expect(typeof v.text === 'string' || ('why' in v && v.why.length > 0)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});
