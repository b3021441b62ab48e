/**
 * A message's stylesheet read for its rules (src/read/css.ts): as CSS Syntax Level 3 reads one, and in
 * one pass whatever the sender wrote.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CSS_NESTING, cssDeclarations, cssRules } from '../src/read/css.js';

const read = (css: string): [string[], Record<string, string>][] | null => cssRules(css)?.map((r) => [r.selectors, Object.fromEntries(r.declarations)]) ?? null;

describe('a stylesheet read for its rules', () => {
  it('reads selectors and declarations, lower case, without comments or !important, in conditional groups too', () => {
    expect(read('<!--\n/* Font */ @font-face {font-family:"Cambria Math";}\np.MsoNormal, LI.x /* c */ , a[title="a,b"] {Margin:0cm; COLOR:Red !important; font-family:"A;B{}"}\n@page WordSection1 {size:612pt 792pt;}\n@media screen and (max-width:600px) { @supports (display:grid) { .m {display:none} } }\n@keyframes k { from {opacity:0} }\n@import url("x.css");\n-->')).toEqual([
      [['p.MsoNormal', 'LI.x', 'a[title="a,b"]'], { margin: '0cm', color: 'red', 'font-family': '"a;b{}"' }],
      [['.m'], { display: 'none' }],
    ]);
  });

  it('gives @font-face descriptors apart when asked, in conditional groups too, and never as rules', () => {
    const faces: Map<string, string>[] = [];
    const css = '@font-face {font-family:"Cambria Math"; panose-1:2 4 5 3 5 4 6 3 2 4;}\n@media screen { @font-face { font-family: Blank; src: url(data:font/woff2;base64,AA==) format("woff2") } }\np {color:red}';
    expect(cssRules(css, faces)?.map((r) => r.selectors)).toEqual([['p']]);
    expect(faces.map((f) => Object.fromEntries(f))).toEqual([
      { 'font-family': '"cambria math"', 'panose-1': '2 4 5 3 5 4 6 3 2 4' },
      { 'font-family': 'blank', src: 'url(data:font/woff2;base64,aa==) format("woff2")' },
    ]);
    expect(read(css)).toEqual([[['p'], { color: 'red' }]]);
  });

  it('writes out the selectors of nested rules in full, and reads @media nested in a rule as the rule', () => {
    expect(read('.a, .b { color: red; .c { display: none } &:first-child > i { font-size: 0 } @media print { visibility: hidden } }')).toEqual([
      [[':is(.a, .b) .c'], { display: 'none' }],
      [[':is(.a, .b):first-child > i'], { 'font-size': '0' }],
      [['.a', '.b'], { visibility: 'hidden' }],
      [['.a', '.b'], { color: 'red' }],
    ]);
  });

  it('reads what a browser reads of a broken stylesheet: a string a newline ends, a block never closed, a stray brace, a declaration with no colon', () => {
    expect(read('.a { content: "x\n; display: none }')).toEqual([[['.a'], { content: '"x', display: 'none' }]]);
    expect(read('} .b { display:none')).toEqual([[['.b'], { display: 'none' }]]);
    expect(read('.c { nonsense; display : none ; }')).toEqual([[['.c'], { display: 'none' }]]);
    expect(read('.d { background: url(a;b) ; x: "\\"}" ; display: none }')).toEqual([[['.d'], { background: 'url(a;b)', x: '"\\"}"', display: 'none' }]]);
    expect(read('.e /* never closed { display:none }')).toEqual([]);
  });

  it('says so when rules nest deeper than it reads', () => {
    expect(cssRules(`${'.a{'.repeat(MAX_CSS_NESTING)}display:none`)).not.toBeNull();
    expect(cssRules(`${'.a{'.repeat(MAX_CSS_NESTING + 1)}display:none`)).toBeNull();
    expect(cssRules(`${'@media x{'.repeat(MAX_CSS_NESTING + 1)}.a{display:none}`)).toBeNull();
  });

  it('reads a style attribute as a declaration list, where a brace neither ends it nor opens a rule', () => {
    expect(Object.fromEntries(cssDeclarations('font-size:11.0pt;font-family:"Calibri",sans-serif;DISPLAY: None').declarations)).toEqual({ 'font-size': '11.0pt', 'font-family': '"calibri",sans-serif', display: 'none' });
    // A browser drops the whole declaration (its value holds a block): nothing in it is hidden.
    expect(cssDeclarations('color:red} .x{display:none').declarations.get('display')).toBeUndefined();
    expect(cssDeclarations('').declarations.size).toBe(0);
    // The last declaration of a property wins, but not over an !important one.
    expect(cssDeclarations('color:red !important; color:blue; display:none; display:block').declarations).toEqual(new Map([['color', 'red'], ['display', 'block']]));
    expect([...cssDeclarations('color:red !important; color:blue').important]).toEqual(['color']);
  });

  it('never throws, and reads any text in one pass (the bench times the shapes that cost libraries the square of their length)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('"', "'", '\\', '/*', '*/', '(', ')', '{', '}', '[', ']', ';', ':', '@media x', '!', ',', '\n', 'a', ' ', '<!--', '-->', '&'), { maxLength: 200 }), (parts) => {
        const css = parts.join('');
        const rules = cssRules(css);
        if (rules !== null) for (const r of rules) expect(r.declarations.size).toBeGreaterThan(0);
        cssDeclarations(css);
      }),
      { numRuns: 2000 },
    );
    for (const shape of ['}{a', '"*:[', '"\\', '{}-', 'a{', '@media{', '/*', '(']) expect(Array.isArray(cssRules(shape.repeat(50_000))) || cssRules(shape.repeat(50_000)) === null).toBe(true);
  });
});
