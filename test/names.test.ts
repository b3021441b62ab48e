import { describe, expect, it } from 'vitest';
import { roleInName, roleOfPosition, checkSignOff } from '../src/judge/signoff.js';
import type { Council } from '../src/inputs/roster.js';
import fc from 'fast-check';
import { compareNames, councilMatchScore, foldText, foldUnicode, nameTokens } from '../src/model/names.js';
import { isoSeconds } from '../src/inputs/time.js';

const COUNCIL: Council = {
  id: 'cardiff',
  name: 'Cardiff Council',
  membership: 'Full',
  leader: "Cllr Siobhán O'Neill-Hart",
  mayor: null,
  emails: [],
  domains: ['cardiff.gov.uk'],
  line: 2,
};

describe('names', () => {
  it('folds ASCII text by its quick path exactly as by the whole Unicode way, and other text the Unicode way', () => {
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 40 });
    fc.assert(fc.property(ascii, (s) => foldText(s) === foldUnicode(s)), { seed: 20261125, numRuns: 5000 });
    for (const s of ["Cllr Dr. Jo O'Neill-Smith OBE", 'NORTH  Herts`s\tCouncil\n', '[X]  Jacky  Alty ', '', '  ', 'A&B_C-D.E', '\u0000\u007f']) expect(foldText(s)).toBe(foldUnicode(s));
    expect(foldText('Zoë O’Neill')).toBe('zoe oneill');
    expect(foldText('ﬁona Ⅻ')).toBe(foldUnicode('ﬁona Ⅻ'));
  });
  it('writes an instant to the second, in UTC, as the result does', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => isoSeconds(new Date(ms)) === new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')),
      { seed: 20261125, numRuns: 5000 },
    );
    expect(isoSeconds(new Date('2024-02-01T12:00:00.999Z'))).toBe('2024-02-01T12:00:00Z');
  });
  it('titles and letters never decide', () => {
    for (const t of ['Cllr', 'Councillor', 'Mayor', 'Lord Mayor', 'Mr', 'Mrs', 'Ms', 'Miss', 'Mx', 'Dr', 'Prof', 'Sir', 'Dame', 'Lord', 'Lady', 'Baroness', 'Rt Hon']) {
      expect(compareNames(`${t} Jane Smith`, 'Jane Smith'), t).toBe('same');
    }
    for (const l of ['OBE', 'MBE', 'CBE', 'JP', 'DL', 'MP']) expect(compareNames(`Jane Smith ${l}`, 'Cllr Jane Smith'), l).toBe('same');
  });
  it('case, punctuation, hyphens, apostrophes and accents never decide', () => {
    expect(compareNames('SIOBHAN ONEILL HART', "Cllr Siobhán O'Neill-Hart")).toBe('same');
    expect(compareNames('siobhán o’neill-hart', "Siobhán O'Neill-Hart")).toBe('same');
    expect(nameTokens('Cllr. Dr. Jo Bloggs, OBE')).toEqual(['jo', 'bloggs']);
  });
  it('a probable typo is a near miss; another person is different', () => {
    expect(compareNames('Eliot Kirkland', 'Elliot Kirkland')).toBe('near-miss');
    expect(compareNames('Maureen Holloran', 'Maureen Halloran')).toBe('near-miss');
    expect(compareNames('E. Kirkland', 'Elliot Kirkland')).toBe('near-miss');
    expect(compareNames('Mel Barrett', 'David Mellen-Price')).toBe('different');
    // A surname written first is the same words in another order: for the officer to look at, not a match.
    expect(compareNames('Kirkland, Elliot', 'Cllr Elliot Kirkland')).toBe('near-miss');
    expect(compareNames('Kirkland, Mel', 'Cllr Elliot Kirkland')).toBe('different');
  });
  it('council names as people write them', () => {
    expect(councilMatchScore('North Hertfordshire District Council', 'North Hertfordshire District Council', 'north-herts')).toBe(2);
    expect(councilMatchScore('North Herts', 'North Hertfordshire District Council', 'north-herts')).toBe(2); // its council_id
    expect(councilMatchScore('North Herts', 'North Hertfordshire District Council', 'nhdc')).toBe(1);
    expect(councilMatchScore('Westminster', 'Westminster City Council', 'westminster')).toBe(2);
    expect(councilMatchScore('Lambeth', 'London Borough of Lambeth', 'lambeth')).toBe(2); // its council_id
    expect(councilMatchScore('Lambeth', 'London Borough of Lambeth', 'lbl')).toBe(1);
    expect(councilMatchScore('Stockport Council', 'Hastings Borough Council', 'hastings')).toBe(0);
    // Initials, as councils write themselves: plausible, never exact (another council may share them).
    for (const [written, name] of [
      ['NHDC', 'North Hertfordshire District Council'],
      ['N.H.D.C.', 'North Hertfordshire District Council'],
      ['WCC', 'Westminster City Council'],
      ['RBG', 'Royal Borough of Greenwich'],
      ['CBMDC', 'City of Bradford Metropolitan District Council'],
      ['CWaC', 'Cheshire West and Chester Council'],
      ['LB Lambeth', 'London Borough of Lambeth'],
    ]) {
      expect(councilMatchScore(written!, name!, 'x'), written).toBe(1);
    }
    for (const [written, name] of [
      ['SBC', 'North Hertfordshire District Council'],
      ['Hastings', 'Hastings Borough Council'.replace('Hastings', 'Stockport')],
      ['H', 'Hastings Borough Council'],
    ]) {
      expect(councilMatchScore(written!, name!, 'x'), written).toBe(0);
    }
  });
});

describe('positions and sign-off', () => {
  it.each([
    ['Leader', 'Leader'],
    ['Leader of the Council', 'Leader'],
    ['Council Leader', 'Leader'],
    ['leader and cabinet member for finance', 'Leader'],
    ['Elected Mayor', 'Mayor'],
    ['Mayor', 'Mayor'],
    ['Deputy Leader', null],
    ['Chief Executive', null],
    ['Leader of the Opposition', null],
    ['Deputy Mayor', null],
    ['PA to the Leader', null],
    ['Cabinet Member', null],
  ])('"%s" is %s', (position, role) => {
    expect(roleOfPosition(position)).toBe(role);
  });
  it('checks the signatory against the roster', () => {
    expect(checkSignOff("Cllr Siobhan O'Neill Hart", 'Leader', COUNCIL, ['Leader', 'Mayor']).result).toBe('ok');
    expect(checkSignOff(null, 'Leader', COUNCIL, ['Leader']).result).toBe('no-sign-off');
    expect(checkSignOff('Someone', '', COUNCIL, ['Leader']).result).toBe('no-sign-off');
    expect(checkSignOff('Someone', 'Deputy Leader', COUNCIL, ['Leader']).result).toBe('no-sign-off');
    expect(checkSignOff("Siobhán O'Neill-Hart", 'Leader', COUNCIL, ['Mayor']).result).toBe('no-sign-off');
    expect(checkSignOff('Huw Thomas', 'Leader', COUNCIL, ['Leader']).result).toBe('mismatch');
    expect(checkSignOff('Huw Thomas', 'Mayor', COUNCIL, ['Mayor']).result).toBe('mismatch'); // no mayor in roster
    expect(checkSignOff("Siobhan O'Neil-Hart", 'Leader', COUNCIL, ['Leader']).result).toBe('near-miss');
  });
  it('a role written beside the name is read as the Position when the Position line is blank, and is not part of the name', () => {
    const name = "Cllr Siobhan O'Neill Hart";
    for (const written of [`${name}, Leader`, `${name} (Leader of the Council)`, `${name} – Council Leader`, `${name} - Leader`]) {
      expect(checkSignOff(written, '', COUNCIL, ['Leader']), written).toMatchObject({ result: 'ok', role: 'Leader' });
      expect(checkSignOff(written, 'Leader', COUNCIL, ['Leader']).result, written).toBe('ok');
    }
    expect(checkSignOff(`${name}, Deputy Leader`, '', COUNCIL, ['Leader'])).toEqual({ result: 'no-sign-off', detail: 'Position "Deputy Leader" is not a Leader or Mayor' });
    // A role beside the name that the Position line contradicts is part of what was signed, and no match.
    expect(checkSignOff(`${name} (Deputy Leader)`, 'Leader', COUNCIL, ['Leader']).result).toBe('mismatch');
    // Words after a comma that name no leader or mayor are the name's own (a surname written first).
    expect(checkSignOff("O'Neill Hart, Siobhan", '', COUNCIL, ['Leader'])).toEqual({ result: 'no-sign-off', detail: 'the paper has no Position' });
    expect(checkSignOff('Someone Else, Leader', '', COUNCIL, ['Leader'])).toMatchObject({ result: 'mismatch', detail: `signed "Someone Else, Leader"; the roster's Leader is "${COUNCIL.leader}"` });
    // No name with a role beside it is longer than 200 characters: a longer text (a form field) is read as written, in one pass.
    expect(roleInName(`${'a - '.repeat(50)}Leader`)).toBeNull();
    expect(roleInName(`${'a'.repeat(180)} - Leader`)).toEqual({ name: 'a'.repeat(180), position: 'Leader' });
  });
});
