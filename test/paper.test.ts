import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candidate } from '../src/inputs/election.js';
import { matchCandidate, readMark, readPaperMarks } from '../src/judge/marks.js';
import { findPapers } from '../src/read/paper.js';
import { splitQuoted } from '../src/read/quotes.js';
import { paperText } from './helpers.js';

const CANDIDATES: Candidate[] = [
  { id: 'willoughby', name: 'Cllr Alistair Willoughby', council: 'North Hertfordshire District Council' },
  { id: 'williams', name: 'Cllr Jason Williams', council: 'Westminster City Council' },
  { id: 'alty', name: 'Cllr Jacky Alty', council: 'South Ribble Borough Council' },
];

function choicesOf(text: string): { choices: string[]; uncertain: string[] } {
  const papers = findPapers(text, 'body-text');
  expect(papers).toHaveLength(1);
  const r = readPaperMarks(papers[0]!, CANDIDATES);
  return { choices: r.choices, uncertain: r.uncertain };
}

describe('marks', () => {
  it.each(['X', 'x', '✓', '✔', '✗', '☒', '✘', '*', 'yes', 'Yes', 'YES', 'xx', ' X ', '✔️', '1', 'tick', 'Ｘ', 'ｙｅｓ', '❌', '✖️', '☓', '🗸', '🗹', '🗷', '⊠', '\uF0FB', '\uF0FC', '\uF0FD', '\uF0FE'])('"%s" in the box is a vote', (mark) => {
    expect(readMark(mark)).toBe('marked');
    expect(choicesOf(paperText({ williams: mark }))).toEqual({ choices: ['williams'], uncertain: [] });
  });
  it('a cross or tick where a deleted box was marks that candidate, whoever it is, wherever the line is on the paper', () => {
    const lines = ['[ ] Cllr Alistair Willoughby (North Hertfordshire District Council)', '[ ] Cllr Jason Williams (Westminster City Council)', '[ ] Cllr Jacky Alty (South Ribble Borough Council)'];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.constantFrom('X', 'x', 'XX', '✓', '✔', '✗', '❌'), fc.boolean(), fc.constantFrom(' ', ' - ', '  '), (k, mark, before, gap) => {
        const name = lines[k]!.slice(4);
        // A small x after the name is a kiss, not a cross.
        fc.pre(before || mark !== 'x');
        const text = paperText({}).replace(lines[k]!, before ? `${mark}${gap}${name}` : `${name} ${mark}`);
        expect(choicesOf(text)).toEqual({ choices: [CANDIDATES[k]!.id], uncertain: [] });
      }),
    );
  });
  it.each(['', ' ', '  ', '_', 'no', 'ＮＯ', '¨'])('"%s" in the box is not a vote', (mark) => {
    expect(readMark(mark)).toBe('blank');
  });
  it.each(['?', 'maybe', '2', 'X?'])('"%s" cannot be read with certainty', (mark) => {
    expect(readMark(mark)).toBe('uncertain');
    expect(choicesOf(paperText({ williams: mark })).uncertain).toHaveLength(1);
  });
  it('( ) boxes instead of [ ]', () => {
    const text = paperText({ alty: 'X' }).replace(/\[(.?)\]/g, '($1)');
    expect(choicesOf(text).choices).toEqual(['alty']);
  });
  it('changed spacing and case', () => {
    const text = paperText({}).replace('[ ] Cllr Jason Williams', '[   x   ]     cllr   JASON williams');
    expect(choicesOf(text).choices).toEqual(['williams']);
  });
  it('a box glyph without brackets', () => {
    expect(choicesOf(paperText({}).replace('[ ] Cllr Jacky Alty', '☒ Cllr Jacky Alty')).choices).toEqual(['alty']);
    expect(choicesOf(paperText({ alty: 'X' }).replace('[ ] Cllr Jason Williams', '☐ Cllr Jason Williams')).choices).toEqual(['alty']);
    for (const ticked of ['🗹', '🗷', '⊠']) expect(choicesOf(paperText({}).replace('[ ] Cllr Jacky Alty', `${ticked} Cllr Jacky Alty`))).toEqual({ choices: ['alty'], uncertain: [] });
  });
  it('Wingdings boxes left by Word and Outlook (¨ empty, þ ticked, ý crossed)', () => {
    const text = paperText({})
      .replace('[ ] Cllr Alistair Willoughby', '¨ Cllr Alistair Willoughby')
      .replace('[ ] Cllr Jason Williams', 'þ Cllr Jason Williams')
      .replace('[ ] Cllr Jacky Alty', '\uF0A8 Cllr Jacky Alty');
    expect(choicesOf(text)).toEqual({ choices: ['williams'], uncertain: [] });
    expect(choicesOf(paperText({}).replace('[ ] Cllr Jacky Alty', 'ý Cllr Jacky Alty')).choices).toEqual(['alty']);
  });
  it('the box after the name', () => {
    const text = paperText({}).replace('[ ] Cllr Jason Williams (Westminster City Council)', 'Cllr Jason Williams (Westminster City Council) [X]');
    expect(choicesOf(text).choices).toEqual(['williams']);
    // A box glyph, or round brackets holding a cross or nothing, after the name; never a council's initials in brackets.
    for (const after of ['☒', '(X)', '(x)', '(✓)', '- ☒']) {
      expect(choicesOf(paperText({}).replace('[ ] Cllr Jason Williams (Westminster City Council)', `Cllr Jason Williams (Westminster City Council) ${after}`)), after).toEqual({ choices: ['williams'], uncertain: [] });
    }
    for (const after of ['☐', '( )']) {
      expect(choicesOf(paperText({ alty: 'X' }).replace('[ ] Cllr Jason Williams (Westminster City Council)', `Cllr Jason Williams (Westminster City Council) ${after}`)), after).toEqual({ choices: ['alty'], uncertain: [] });
    }
    expect(choicesOf(paperText({ alty: 'X' }).replace('[ ] Cllr Jason Williams (Westminster City Council)', 'Cllr Jason Williams (WCC)'))).toEqual({ choices: ['alty'], uncertain: [] });
    // Prose that ends in a kiss in brackets is no box line beside a paper.
    expect(choicesOf(`${paperText({ alty: 'X' })}\nThank you (x)\n`)).toEqual({ choices: ['alty'], uncertain: [] });
  });
  it('a table typed with bars, its first cell empty or a mark, as boxes; a header row or a cell of words is no box', () => {
    const piped = (marks: Record<string, string>): string => paperText(marks).replace(/^\[(.?)\] (Cllr .*)$/gm, '| $1 | $2 |');
    expect(choicesOf(piped({ williams: 'X' }))).toEqual({ choices: ['williams'], uncertain: [] });
    expect(choicesOf(piped({ alty: '✓' }).replace('| ✓ |', '|✓|'))).toEqual({ choices: ['alty'], uncertain: [] });
    expect(choicesOf(`| Vote | Candidate |\n|---|---|\n${piped({ williams: 'X' })}`)).toEqual({ choices: ['williams'], uncertain: [] });
    expect(findPapers('| Labour | Cllr Jason Williams |', 'b')).toEqual([]);
  });
  it('a box glyph after a bullet or a number, as an HTML list becomes', () => {
    for (const prefix of ['* ', '• ', '- ', '3. ']) {
      expect(choicesOf(paperText({}).replace('[ ] Cllr Jacky Alty', `${prefix}☒ Cllr Jacky Alty`)), prefix).toEqual({ choices: ['alty'], uncertain: [] });
    }
  });
  it('a line among the box lines that names a candidate beside a mark in no box the machine reads makes the paper uncertain: the count never sees less than a reader does', () => {
    const alty = '[ ] Cllr Jacky Alty (South Ribble Borough Council)';
    for (const line of ['<X> Cllr Jacky Alty (South Ribble Borough Council)', '{X} Cllr Jacky Alty (South Ribble Borough Council)', '~~[X] Cllr Jacky Alty (South Ribble Borough Council)~~', 'X[ ] Cllr Jacky Alty (South Ribble Borough Council)', '[X Cllr Jacky Alty (South Ribble Borough Council)', 'X] Cllr Jacky Alty (South Ribble Borough Council)', 'Cllr Jacky Alty (South Ribble Borough Council) <X>', 'Cllr Jacky Alty (South Ribble Borough Council) x']) {
      // Alone, or beside another candidate's mark that the machine does read (a reader sees two marks).
      for (const marks of [{}, { williams: 'X' }]) {
        const r = choicesOf(paperText(marks).replace(alty, line));
        expect(r.uncertain, line).toEqual([expect.stringMatching(/^line 10 names Cllr Jacky Alty beside a mark \(".+"\) in no box the machine reads: /)]);
      }
    }
    // The line is found running on from the box lines, and between them; not in a covering note set apart by a blank line.
    const papers = findPapers(`I have ticked Cllr Jacky Alty ✓ below.\n\n${paperText({ alty: 'X' })}`, 'body-text');
    expect(papers.map((p) => p.strays)).toEqual([undefined]);
    const between = findPapers(paperText({ alty: 'X' }).replace('[ ] Cllr Jason Williams (Westminster City Council)', '[ ] Cllr Jason Williams (Westminster City Council)\n<X> Cllr Alistair Willoughby'), 'body-text');
    expect(between[0]?.strays).toEqual([{ line: 10, text: '<X> Cllr Alistair Willoughby', mark: '<X>' }]);
    // A cross without a box beside more than a candidate's name is kept too; in prose set apart by a blank line it is not.
    expect(choicesOf(paperText({}).replace(alty, 'Cllr Jacky Alty (South Ribble Borough Council) Labour and Co-operative X')).uncertain).toEqual([
      'line 10 names Cllr Jacky Alty beside a mark ("X") in no box the machine reads: "Cllr Jacky Alty (South Ribble Borough Council) Labour and Co-operative"',
    ]);
    expect(choicesOf(`${paperText({ williams: 'X' })}\nX Factor star Cllr Jacky Alty sends her regards\n`)).toEqual({ choices: ['williams'], uncertain: [] });
    // A line there that names nobody, or holds no mark, or marks again a candidate whose box is marked, is no doubt.
    expect(choicesOf(paperText({ alty: 'X' }).replace('[ ] Cllr Jason Williams (Westminster City Council)', '[ ] Cllr Jason Williams (Westminster City Council)\nCllr Jacky Alty ✓ is our vote'))).toEqual({ choices: ['alty'], uncertain: [] });
    expect(choicesOf(paperText({ alty: 'X' }).replace('[ ] Cllr Jason Williams (Westminster City Council)', 'Put a cross (X) in one box'))).toEqual({ choices: ['alty'], uncertain: [] });
  });
  it('lines the mail client re-wrapped', () => {
    const text = paperText({}).replace('[ ] Cllr Alistair Willoughby (North Hertfordshire District Council)', '[X] Cllr Alistair\nWilloughby (North Hertfordshire District\nCouncil)');
    expect(choicesOf(text).choices).toEqual(['willoughby']);
  });
  it('without the Ballot reference line', () => {
    const text = paperText({ alty: 'X' }).replace(/Ballot reference:.*\n/, '');
    const p = findPapers(text, 'b')[0]!;
    expect(p.reference).toBeNull();
    expect(readPaperMarks(p, CANDIDATES).choices).toEqual(['alty']);
  });
  it('non-breaking spaces, tabs and CRLF', () => {
    const text = paperText({ williams: 'X' }).replace(/ /g, '\u00a0').replace(/\n/g, '\r\n').replace('Name:', 'Name:\t');
    const p = findPapers(text, 'b')[0]!;
    expect(readPaperMarks(p, CANDIDATES).choices).toEqual(['williams']);
    expect(p.name).toBe('Cllr Elliot Kirkland');
  });
  it('no marks, two marks, a marked line that names no candidate', () => {
    expect(choicesOf(paperText({})).choices).toEqual([]);
    expect(choicesOf(paperText({ williams: 'X', alty: 'X' })).choices).toEqual(['williams', 'alty']);
    const unknown = paperText({}).replace('[ ] Cllr Jacky Alty (South Ribble Borough Council)', '[X] Cllr Someone Else');
    expect(choicesOf(unknown).uncertain[0]).toMatch(/names no candidate/);
  });
  it('the signatory fields, with the answer on the next line', () => {
    const text = paperText({ williams: 'X' }).replace('Name: Cllr Elliot Kirkland', 'Name:\nCllr Elliot Kirkland');
    const p = findPapers(text, 'b')[0]!;
    expect([p.name, p.position, p.council]).toEqual(['Cllr Elliot Kirkland', 'Leader', 'North Hertfordshire District Council']);
  });
  it.each([
    ['Name (print): Cllr Elliot Kirkland', 'Position held: Leader'],
    ['Print name: Cllr Elliot Kirkland', 'Designation: Leader'],
    ['Full name: Cllr Elliot Kirkland', 'Capacity: Leader'],
    ['Name (block capitals): Cllr Elliot Kirkland', 'Job title: Leader'],
    ['*Name:* Cllr Elliot Kirkland', '*Position:* Leader'],
    ['**Name:** Cllr Elliot Kirkland', '__Position__: Leader'],
    ['Name:- Cllr Elliot Kirkland', 'Position - Leader'],
  ])('the signatory fields labelled as people label them: %s / %s', (name, position) => {
    const text = paperText({ williams: 'X' }).replace('Name: Cllr Elliot Kirkland', name).replace('Position: Leader', position);
    const p = findPapers(text, 'b')[0]!;
    expect([p.name, p.position]).toEqual(['Cllr Elliot Kirkland', 'Leader']);
  });
  describe('a line shown otherwise than it is read is uncertain, never read for the box alone', () => {
    const ALTY = '[ ] Cllr Jacky Alty (South Ribble Borough Council)';
    const onAlty = (line: string): string => paperText({ williams: 'X' }).replace(ALTY, line);
    it.each([
      ['a second box, marked, after the name', `${ALTY} [X]`],
      ['a second box after a run of spaces', `${ALTY}${' '.repeat(60)}[X]`],
      ['a second box after tabs', `${ALTY}\t\t\t[x]`],
      ['a bracketed mark', `${ALTY} (X)`],
      ['a bracketed word', `${ALTY} (yes)`],
      ['a tick glyph', `${ALTY} ✓`],
      ['a cross glyph inside the council', '[ ] Cllr Jacky Alty (South Ribble ✗ Borough Council)'],
      ['a box holding something else', `${ALTY} [?]`],
    ])('%s', (_what, line) => {
      const r = choicesOf(onAlty(line));
      // Williams's box is marked; what is beside Alty's name may be a second vote, so nothing counts.
      expect(r.uncertain.join(' ')).toMatch(/mark outside Cllr Jacky Alty's box/);
    });
    it('the candidate\'s council in brackets, an empty second box, a link written out and a full-width box are no mark', () => {
      expect(choicesOf(onAlty(`${ALTY} [ ]`))).toEqual({ choices: ['williams'], uncertain: [] });
      expect(choicesOf(onAlty(`${ALTY} [https://ccin.example/alty]`))).toEqual({ choices: ['williams'], uncertain: [] });
      expect(choicesOf(onAlty(`${ALTY} [www.example.org]`))).toEqual({ choices: ['williams'], uncertain: [] });
      expect(choicesOf(onAlty(`${ALTY} [X:]`)).uncertain.join(' ')).toMatch(/mark outside/);
      // A candidate marked twice, in the box and beside it: the intent is plain.
      for (const twice of ['[X] Cllr Jacky Alty (South Ribble Borough Council) ✓', '[X] Cllr Jacky Alty (South Ribble Borough Council) [X]']) {
        expect(choicesOf(paperText({}).replace(ALTY, twice))).toEqual({ choices: ['alty'], uncertain: [] });
      }
      expect(choicesOf(paperText({}).replace(ALTY, '[X] Cllr Jacky Alty (South Ribble Borough Council) [?]')).uncertain.join(' ')).toMatch(/mark outside/);
      expect(choicesOf(onAlty('[ ] Cllr Jacky Alty [South Ribble Borough Council]'))).toEqual({ choices: ['williams'], uncertain: [] });
      expect(choicesOf(paperText({ williams: 'X' }).replace('[X] Cllr Jason', '［Ｘ］ Cllr Jason'))).toEqual({ choices: ['williams'], uncertain: [] });
    });
    it.each([
      ['an override before the box', '\u202e[X] Cllr Jacky Alty (South Ribble Borough Council)'],
      ['an override that shows "]X[" as a box after the name', `${ALTY} \u202e]X[`],
      ['an isolate around the name', '[ ] \u2067Cllr Jacky Alty\u2069 (South Ribble Borough Council)'],
      ['a right-to-left mark before the box', '\u200f[ ] Cllr Jacky Alty (South Ribble Borough Council)'],
      // Stored backwards, so that only the order a mail client shows it in reads as a box line.
      ['a whole line stored backwards, brackets mirrored when shown', '\u202e(licnuoC hguoroB elbbiR htuoS) ytlA ykcaJ rllC [X]'],
      ['a whole line stored backwards, brackets as stored', '\u202e(licnuoC hguoroB elbbiR htuoS) ytlA ykcaJ rllC ]X['],
      ['a line stored backwards inside an embedding', '\u202b\u202e)licnuoC hguoroB elbbiR htuoS( ytlA ykcaJ rllC ]X[\u202c\u202c'],
    ])('bidirectional controls: %s', (_what, line) => {
      const r = choicesOf(onAlty(line));
      expect(r.uncertain.join(' ')).toMatch(/bidirectional controls/);
    });
    it('a line with bidirectional controls that shows no box line either way is no part of a paper', () => {
      // A signature in a right-to-left script after the paper: no box read backwards or forwards.
      expect(choicesOf(`${paperText({ williams: 'X' })}\n\u200fمع التحيات (Regards) X\n`)).toEqual({ choices: ['williams'], uncertain: [] });
      expect(choicesOf(`${paperText({ williams: 'X' })}\n\u202eKind regards\n`)).toEqual({ choices: ['williams'], uncertain: [] });
    });
    it('a line longer than any paper line: its beginning and a box at its end are read, and it is uncertain', () => {
      // Filler words that may follow a candidate's name ("of", "and"), as far as the line goes.
      const prose = ' and'.repeat(200);
      expect(choicesOf(paperText({}).replace(ALTY, `[X] Cllr Jacky Alty${prose}`)).uncertain.join(' ')).toMatch(/characters long/);
      const boxAtEnd = choicesOf(onAlty(`Cllr Jacky Alty${prose} [X]`));
      expect(boxAtEnd.uncertain.join(' ')).toMatch(/characters long/);
      // A box whose name comes only after the first 500 characters is read all the same.
      expect(choicesOf(paperText({}).replace(ALTY, `[X] ${'-'.repeat(600)} Cllr Jacky Alty`)).uncertain.join(' ')).toMatch(/characters long/);
      // White space is squeezed first: a box padded out with spaces is an ordinary line.
      expect(choicesOf(paperText({}).replace(ALTY, `[X] Cllr Jacky Alty (South Ribble Borough Council)${' '.repeat(2000)}`))).toEqual({ choices: ['alty'], uncertain: [] });
      // A long line beside a box that is neither marked nor names anyone ("[EXTERNAL] This email…") is passed over.
      expect(choicesOf(onAlty(`${ALTY}\n[EXTERNAL] This message came from outside the organisation${prose}`))).toEqual({ choices: ['williams'], uncertain: [] });
    });
  });
  it('free text is no paper', () => {
    expect(findPapers('We vote for Cllr Jason Williams.\n\nCllr Elliot Kirkland\nLeader', 'b')).toEqual([]);
  });
});

describe('candidate names', () => {
  it('ignore titles, case, punctuation and accents', () => {
    expect(matchCandidate('COUNCILLOR JASON WILLIAMS', CANDIDATES)?.id).toBe('williams');
    expect(matchCandidate('Jason Williams (Westminster)', CANDIDATES)?.id).toBe('williams');
    expect(matchCandidate('Cllr. Jácky Álty', CANDIDATES)?.id).toBe('alty');
    expect(matchCandidate('Willoughby', CANDIDATES)?.id).toBe('willoughby');
    expect(matchCandidate('Cllr Jason Williamson', CANDIDATES)).toBeNull();
  });
});

describe('quoted and forwarded text', () => {
  it('">" lines and text below "On … wrote:" are never a vote', () => {
    const s = splitQuoted(`Thanks\n\nOn Thu, 18 Jan 2024 at 09:00, RO <ballots@ccin.example>\nwrote:\n${paperText({ alty: 'X' })}`, 'Re: ballot');
    expect(findPapers(s.own, 'b')).toEqual([]);
    expect(findPapers(s.quoted, 'b')).toHaveLength(1);
    const q = splitQuoted(paperText({ alty: 'X' }).split('\n').map((l) => `> ${l}`).join('\n'), 'Re: ballot');
    expect(findPapers(q.own, 'b')).toEqual([]);
  });
  it('text below -----Original Message----- is quoted', () => {
    const s = splitQuoted(`${paperText({ williams: 'X' })}\n-----Original Message-----\nFrom: RO\nSent: 18 January 2024\n${paperText({})}`, 'RE: ballot');
    expect(findPapers(s.own, 'b')).toHaveLength(1);
    expect(s.forwarded).toBeNull();
  });
  it('a forwarded original is kept apart with its header', () => {
    const s = splitQuoted(
      `See below.\n\n---------- Forwarded message ---------\nFrom: Cllr Elliot Kirkland <leader@north-herts.gov.uk>\nDate: Wed, 31 Jan 2024 at 09:00\nSubject: ballot\n\n${paperText({ williams: 'X' })}`,
      'Fwd: ballot',
    );
    expect(findPapers(s.own, 'b')).toEqual([]);
    expect(s.forwarded?.header.from).toBe('Cllr Elliot Kirkland <leader@north-herts.gov.uk>');
    expect(findPapers(s.forwarded?.text ?? '', 'b')).toHaveLength(1);
  });
  it('Outlook forward (FW: with a header block) is a forward, Outlook reply is a quotation', () => {
    const body = `FYI\n\nFrom: Cllr Elliot Kirkland <leader@north-herts.gov.uk>\nSent: 31 January 2024 09:00\nTo: Democratic Services\nSubject: ballot\n\n${paperText({ williams: 'X' })}`;
    expect(splitQuoted(body, 'FW: ballot').forwarded).not.toBeNull();
    expect(splitQuoted(body, 'RE: ballot').forwarded).toBeNull();
  });
});
