import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { strToU8, zipSync } from 'fflate';
import { parseElection } from '../src/inputs/election.js';
import { sha256Hex, type LoadedFile } from '../src/inputs/files.js';
import { councilForAddress, parseRoster } from '../src/inputs/roster.js';
import { parseAdjudications } from '../src/inputs/adjudications.js';
import fc from 'fast-check';
import { formatInZone, formatInZoneByIntl, resolveElectionTime } from '../src/inputs/time.js';
import { parseRfc5322Date, parseReceived } from '../src/read/dates.js';
import { InputError } from '../src/model/errors.js';

const file = (text: string | Buffer, path = 'in.file'): LoadedFile => {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return { name: path, path, bytes, sha256: sha256Hex(bytes) };
};

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

const ELECTION = {
  id: 'e',
  title: 'T',
  vacancies: 1,
  method: 'plurality',
  candidates: [
    { id: 'a', name: 'Cllr A A' },
    { id: 'b', name: 'Cllr B B' },
  ],
  deadline: '2024-02-01T12:00',
  timezone: 'Europe/London',
  ballotAddress: 'ballots@ccin.example',
};

describe('election times', () => {
  it('are wall-clock times in the zone: GMT in winter, BST in summer', () => {
    const w = resolveElectionTime('2024-02-01T12:00', 'Europe/London');
    const s = resolveElectionTime('2024-07-01T12:00', 'Europe/London');
    expect(w.ok && w.instant.toISOString()).toBe('2024-02-01T12:00:00.000Z');
    expect(s.ok && s.instant.toISOString()).toBe('2024-07-01T11:00:00.000Z');
    expect(formatInZone(new Date('2024-07-01T11:00:00Z'), 'Europe/London')).toBe('2024-07-01 12:00:00 BST');
  });
  it('a time for people is what Intl writes, to the second, whatever the zone, the year or the clocks', () => {
    // Zones whose clocks move by an hour, by half an hour (Lord Howe), or sit at :30 and :45 offsets;
    // LMT offsets in seconds before 1900.
    const zones = ['Europe/London', 'UTC', 'America/St_Johns', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Sao_Paulo', 'Europe/Dublin', 'Africa/Casablanca'];
    const same = (ms: number, zone: string): void => {
      expect(formatInZone(new Date(ms), zone)).toBe(formatInZoneByIntl(new Date(ms), zone));
    };
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1850, 0, 1), max: Date.UTC(2100, 0, 1) }), (zone, ms) => same(ms, zone)),
      { seed: 20261125, numRuns: 4000 },
    );
    // Each second around clock changes, and the hours either side of them.
    const changes = [
      ['Europe/London', '2024-03-31T01:00:00Z'],
      ['Europe/London', '2024-10-27T01:00:00Z'],
      ['Australia/Lord_Howe', '2024-04-06T15:00:00Z'],
      ['Australia/Lord_Howe', '2024-10-05T15:30:00Z'],
      ['America/St_Johns', '2024-03-10T05:30:00Z'],
      ['Pacific/Chatham', '2024-04-06T14:00:00Z'],
    ] as const;
    for (const [zone, at] of changes) {
      const t = Date.parse(at);
      for (let k = -90 * 60; k <= 90 * 60; k += 1) same(t + k * 1000 + (k % 7) * 100, zone);
    }
    expect(formatInZone(new Date('2024-10-27T00:59:59.999Z'), 'Europe/London')).toBe('2024-10-27 01:59:59 BST');
    expect(formatInZone(new Date('2024-10-27T01:00:00Z'), 'Europe/London')).toBe('2024-10-27 01:00:00 GMT');
  });
  it('a time the clocks skip or pass twice is an error', () => {
    expect(resolveElectionTime('2024-03-31T01:30', 'Europe/London')).toMatchObject({ ok: false, problem: 'nonexistent' });
    expect(resolveElectionTime('2024-10-27T01:30', 'Europe/London')).toMatchObject({ ok: false, problem: 'ambiguous' });
    expect(resolveElectionTime('2024-10-27T01:30+01:00', 'Europe/London')).toMatchObject({ ok: true });
    expect(resolveElectionTime('2024-02-30T12:00', 'Europe/London')).toMatchObject({ ok: false, problem: 'format' });
  });
});

describe('the election file', () => {
  it('reads the spec example with defaults', () => {
    const e = parseElection(file(JSON.stringify(ELECTION)));
    expect(e.duplicates).toBe('latest');
    expect(e.dkim).toBe('prefer');
    expect(e.eligibleMembership).toEqual(['Full']);
    expect(e.deadline.toISOString()).toBe('2024-02-01T12:00:00.000Z');
  });
  it('an unknown key is an error naming the key and its line', () => {
    const text = JSON.stringify({ ...ELECTION, vacancy: 1 }, null, 2);
    const e = inputError(() => parseElection(file(text, 'election.json')));
    expect(e.message).toContain('election.json:');
    expect(e.message).toContain('unknown key `vacancy`');
    expect(e.location.line).toBe(text.split('\n').findIndex((l) => l.includes('"vacancy"')) + 1);
  });
  it('a misspelt required key is named as written, with its line and the key meant', () => {
    const { deadline, ...rest } = ELECTION;
    const text = JSON.stringify({ ...rest, deadine: deadline }, null, 2);
    const line = text.split('\n').findIndex((l) => l.includes('"deadine"')) + 1;
    const e = inputError(() => parseElection(file(text, 'election.json')));
    expect(e.detail).toBe(`unknown key \`deadine\` on line ${line} — did you mean \`deadline\`?`);
    expect(e.location.line).toBe(line);
    const missing = inputError(() => parseElection(file(JSON.stringify(rest, null, 2), 'election.json')));
    expect(missing.detail).toBe('the required key `deadline` is missing');
    const inner = inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, tieBreak: { method: 'lot', sed: 'x' } }, null, 2))));
    expect(inner.detail).toMatch(/unknown key `sed` on line \d+ — did you mean `seed`\?/);
    // A short key that shares nothing with an allowed one is not offered a guess.
    expect(inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, c2: 1 }, null, 2)))).detail).toMatch(/^unknown key `c2` on line \d+$/);
  });
  it('a value of the wrong kind is named as written, never reported as a missing key', () => {
    const text = JSON.stringify({ ...ELECTION, vacancies: '1' }, null, 2);
    const e = inputError(() => parseElection(file(text, 'election.json')));
    expect(e.detail).toBe('must be a number, not the text "1"');
    expect(e.location).toMatchObject({ field: 'vacancies', line: text.split('\n').findIndex((l) => l.includes('"vacancies"')) + 1 });
    expect(inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, vacancies: null })))).detail).toBe('must be a number, not null');
    expect(inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, receivedBy: 'mx.ccin.example' })))).detail).toBe('must be a list, not the text "mx.ccin.example"');
    expect(inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, ballotAddress: ['a@b.example'] })))).detail).toBe('must be a string, not a list');
    expect(inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, candidates: [{ id: 'a', name: 7 }] })))).location.field).toBe('candidates[0].name');
  });
  it('names the field and line of a bad value', () => {
    const text = JSON.stringify({ ...ELECTION, candidates: [{ id: 'a', name: 'A' }, { id: 'B C', name: 'B' }] }, null, 2);
    const e = inputError(() => parseElection(file(text, 'election.json')));
    expect(e.location.field).toBe('candidates[1].id');
    expect(e.location.line).toBe(text.split('\n').findIndex((l) => l.includes('"B C"')) + 1);
  });
  it('rejects invalid JSON with its line, a skipped deadline, duplicate candidates, an unknown zone', () => {
    expect(inputError(() => parseElection(file('{\n  "id": "x",\n  oops\n}'))).location.line).toBe(3);
    expect(inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, deadline: '2024-03-31T01:30' })))).code).toBe('ELECTION_TIME');
    expect(inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, candidates: [{ id: 'a', name: 'A' }, { id: 'a', name: 'B' }] })))).detail).toMatch(/duplicate/);
    expect(inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, timezone: 'Mars/Olympus' })))).location.field).toBe('timezone');
    expect(inputError(() => parseElection(file(JSON.stringify({ ...ELECTION, opens: '2024-03-01T09:00' })))).detail).toMatch(/before the deadline/);
  });
});

const HEADER = 'council_id,council,membership,leader,mayor,emails,domains';

describe('the roster', () => {
  it('reads a spreadsheet export: BOM, CRLF, quoted fields, upper-case headers, extra columns', () => {
    const text = '\uFEFFCOUNCIL_ID,Council,Membership,Leader,Mayor,Emails,Domains,Notes\r\n' + 'north-herts,"North Hertfordshire District Council",full,"Cllr Elliot Kirkland",,"leader@north-herts.gov.uk; ceo@north-herts.gov.uk",north-herts.gov.uk,"a, b"\r\n';
    const r = parseRoster(file(text));
    expect(r.councils[0]).toMatchObject({ id: 'north-herts', membership: 'Full', emails: ['leader@north-herts.gov.uk', 'ceo@north-herts.gov.uk'] });
  });
  it('reads Windows-1252 text', () => {
    const bytes = iconv.encode(`${HEADER}\r\nkirklees,Kirklees Council,Full,Cllr Zoë Ashworth,,,kirklees.gov.uk\r\n`, 'windows-1252');
    const r = parseRoster(file(bytes));
    expect(r.encoding).toBe('windows-1252');
    expect(r.councils[0]?.leader).toBe('Cllr Zoë Ashworth');
  });
  it('matches a sender by address, domain or subdomain', () => {
    const r = parseRoster(file(`${HEADER}\na,A Council,Full,Lee A,,leader@a.gov.uk,a.gov.uk\nb,B Council,Full,Lee B,,x@b.example,\n`));
    expect(councilForAddress(r, 'Leader@A.gov.uk')?.council.id).toBe('a');
    expect(councilForAddress(r, 'someone@mail.a.gov.uk')?.council.id).toBe('a');
    expect(councilForAddress(r, 'x@b.example')?.council.id).toBe('b');
    expect(councilForAddress(r, 'y@b.example')).toBeNull();
    expect(councilForAddress(r, 'x@notagov.uk')).toBeNull();
  });
  it('spreadsheet slips: trailing blank rows are ignored; a council typed twice is an error naming both lines; ";" columns get a hint', () => {
    const blank = parseRoster(file(`${HEADER}\r\na,A Council,Full,Lee A,,leader@a.gov.uk,a.gov.uk\r\n,,,,,,\r\n,,,,,,\r\n`));
    expect(blank.councils.map((c) => c.id)).toEqual(['a']);
    const twice = inputError(() => parseRoster(file(`${HEADER}\na,A Council,Full,Lee A,,leader@a.gov.uk,a.gov.uk\nb,B Council,Full,Lee B,,,b.gov.uk\na2,A  council,Full,Other,,,a2.gov.uk\n`, 'roster.csv')));
    expect(twice.message).toMatch(/^roster\.csv:4 \(column council\): "A {2}council" is also council a on line 2/);
    const leader = inputError(() => parseRoster(file(`${HEADER}\na,A Council,Full,Cllr Lee Able,,leader@a.gov.uk,a.gov.uk\nb,Aye Council,Full,LEE ABLE OBE,,,b.gov.uk\n`, 'roster.csv')));
    expect(leader.message).toMatch(/^roster\.csv:3 \(column leader\): LEE ABLE OBE is also the leader of a on line 2/);
    const semi = inputError(() => parseRoster(file(`${HEADER.replace(/,/g, ';')}\na;A;Full;L;;;a.gov.uk\n`, 'roster.csv')));
    expect(semi.message).toMatch(/^roster\.csv:1: the columns are separated by ";".*CSV UTF-8 \(Comma delimited\)/);
  });
  it('spreadsheet slips in the header: columns separated by tabs, or named with spaces or hyphens, are errors that say what to change', () => {
    const tabs = inputError(() => parseRoster(file(`${HEADER.replace(/,/g, '\t')}\na\tA\tFull\tL\t\t\ta.gov.uk\n`, 'roster.csv')));
    expect(tabs.code).toBe('CSV_SYNTAX');
    expect(tabs.message).toMatch(/^roster\.csv:1: the columns are separated by tabs.*CSV UTF-8 \(Comma delimited\)/);
    const spaced = inputError(() => parseRoster(file(`Council ID,Council,Membership,Leader,Mayor,E-mails,Domains\na,A,Full,L,,,a.gov.uk\n`, 'roster.csv')));
    expect(spaced.code).toBe('CSV_HEADER');
    expect(spaced.message).toBe('roster.csv:1: missing column(s): council_id, emails ("council id" must be named council_id; "e-mails" must be named emails); the header is: council id,council,membership,leader,mayor,e-mails,domains');
    // Only a name that differs in spaces, hyphens or underscores is offered; another is just missing.
    expect(inputError(() => parseRoster(file(`id,council,membership,leader,mayor,emails,domains\na,A,Full,L,,,a.gov.uk\n`))).detail).toBe(
      'missing column(s): council_id; the header is: id,council,membership,leader,mayor,emails,domains',
    );
    expect(inputError(() => parseAdjudications(file('Message,Decision,Choice,Reason\nabc,count,a,x\n'))).detail).toBe('missing column(s): choices');
    expect(inputError(() => parseAdjudications(file('message,decision,choices,reason for decision\nabc,count,a,x\n'))).detail).toBe('missing column(s): reason');
  });
  it('a workbook, or UTF-16 text, given for a CSV or JSON file is an error that says how to save it', () => {
    const csv = `${HEADER}\na,A,Full,L,,,a.gov.uk\n`;
    const cases: [Buffer, RegExp][] = [
      // Excel's "Unicode Text": UTF-16LE with a byte order mark; and UTF-16 without one.
      [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv.replace(/,/g, '\t'), 'utf16le')]), /^roster\.csv:1: it is UTF-16 text \(as Excel saves "Unicode Text"\), but this file must be comma-separated text/],
      [Buffer.from(csv, 'utf16le'), /^roster\.csv:1: it holds NUL bytes/],
      // An .xlsx (a zip) and an old .xls (a compound file), saved under the CSV file's name.
      [Buffer.from(zipSync({ '[Content_Types].xml': strToU8('<Types/>'), 'xl/workbook.xml': strToU8('<workbook/>') })), /^roster\.csv:1: it is a zip file, as an Excel workbook \(\.xlsx\)/],
      [Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]), /^roster\.csv:1: it is an old Excel workbook \(\.xls\)/],
    ];
    for (const [bytes, message] of cases) {
      const e = inputError(() => parseRoster(file(bytes, 'roster.csv')));
      expect([e.code, e.message]).toEqual(['CSV_SYNTAX', expect.stringMatching(message)]);
      expect(e.message).toContain('Save As → "CSV UTF-8 (Comma delimited)"');
    }
    expect(inputError(() => parseAdjudications(file(Buffer.from('message,decision,choices,reason\n', 'utf16le'), 'adjudications.csv'))).message).toMatch(/^adjudications\.csv:1: it holds NUL bytes/);
    // An election file saved as UTF-16 (Notepad's "Unicode") says so, rather than "Unexpected token".
    const json = JSON.stringify(ELECTION, null, 2);
    const u16 = inputError(() => parseElection(file(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json, 'utf16le')]), 'election.json')));
    expect([u16.code, u16.message]).toEqual(['JSON_SYNTAX', 'election.json:1: it is UTF-16 text (as Windows Notepad saves "Unicode"), but this file must be UTF-8: save it again as UTF-8']);
    // UTF-8 with its byte order mark, as Excel's "CSV UTF-8" writes it, is read.
    expect(parseRoster(file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv)]))).councils.map((c) => c.id)).toEqual(['a']);
  });
  it('errors name the file, line and column', () => {
    const e = inputError(() => parseRoster(file(`${HEADER}\na,A,Full,L,,leader@a.gov.uk,a.gov.uk\nb,B,Gold,L,,,b.gov.uk\n`, 'roster.csv')));
    expect(e.message).toMatch(/^roster\.csv:3 \(column membership\)/);
    expect(inputError(() => parseRoster(file(`${HEADER}\na,A,Full,L,,not-an-address,\n`))).location.column).toBe('emails');
    expect(inputError(() => parseRoster(file(`${HEADER}\na,A,Full,L,,,gov.uk\n`))).detail).toMatch(/shared by many/);
  });
  it('a domain that would give a council every sender under it is an error: a public suffix (of any country, or private) or a public mail service', () => {
    // Every address under a domain in `domains` is the council's: gov.au (a suffix of the Public
    // Suffix List), github.io (its private part), gov.wales (not a suffix there, shared all the same).
    for (const d of ['gov.au', 'co.uk', 'kommune.no', 'github.io', 'gov.wales', 'com.au']) {
      const e = inputError(() => parseRoster(file(`${HEADER}\na,A,Full,L,,,a.gov.uk;${d}\n`, 'roster.csv')));
      expect(e.message).toMatch(/^roster\.csv:2 \(column domains\): .*shared by many organisations/);
      expect(e.detail).toContain(d);
    }
    for (const d of ['gmail.com', 'outlook.com']) {
      expect(inputError(() => parseRoster(file(`${HEADER}\na,A,Full,L,,,${d}\n`))).detail).toMatch(/public mail service.*emails/);
    }
    // The leader's own address at such a service is listed as an address, and a council's own
    // domain under a suffix stays a domain.
    const ok = parseRoster(file(`${HEADER}\na,A,Full,L,,a.leader@gmail.com,nsw.gov.au;a.gov.uk;a.github.io\n`));
    expect(ok.councils[0]?.emails).toEqual(['a.leader@gmail.com']);
    expect(ok.councils[0]?.domains).toEqual(['nsw.gov.au', 'a.gov.uk', 'a.github.io']);
    expect(inputError(() => parseRoster(file('council_id,council\na,b\n'))).code).toBe('CSV_HEADER');
    expect(inputError(() => parseRoster(file(`${HEADER}\na,"A,Full,L,,,\n`))).code).toBe('CSV_SYNTAX');
  });
  it('duplicate ids and addresses or domains claimed twice are errors', () => {
    expect(inputError(() => parseRoster(file(`${HEADER}\na,A,Full,,,,a.gov.uk\na,B,Full,,,,b.gov.uk\n`))).message).toMatch(/:3 .*already used on line 2/);
    expect(inputError(() => parseRoster(file(`${HEADER}\na,A,Full,,,,a.gov.uk\nb,B,Full,,,,a.gov.uk\n`))).code).toBe('ROSTER_CONFLICT');
    expect(inputError(() => parseRoster(file(`${HEADER}\na,A,Full,,,x@b.gov.uk,a.gov.uk\nb,B,Full,,,,b.gov.uk\n`))).code).toBe('ROSTER_CONFLICT');
  });
});

describe('the adjudications file', () => {
  it('reads rows and rejects incomplete ones with their line', () => {
    const rows = parseAdjudications(file('message,decision,choices,reason\n0123456789abcdef,count,a,"checked by phone"\n<x@y>,reject,,spam\n'));
    expect(rows).toEqual([
      { line: 2, message: '0123456789abcdef', decision: 'count', choices: ['a'], reason: 'checked by phone' },
      { line: 3, message: '<x@y>', decision: 'reject', choices: [], reason: 'spam' },
    ]);
    expect(inputError(() => parseAdjudications(file('message,decision,choices,reason\nabc,count,a,\n'))).location).toMatchObject({ line: 2, column: 'reason' });
    expect(inputError(() => parseAdjudications(file('message,decision,choices,reason\nabc,maybe,a,x\n'))).location.column).toBe('decision');
  });
});

describe('mail dates', () => {
  it('parses RFC 5322 dates strictly, with obsolete zones and comments', () => {
    expect(parseRfc5322Date('Thu, 1 Feb 2024 12:00:00 +0000')?.toISOString()).toBe('2024-02-01T12:00:00.000Z');
    expect(parseRfc5322Date('1 Feb 2024 13:00 +0100 (BST)')?.toISOString()).toBe('2024-02-01T12:00:00.000Z');
    expect(parseRfc5322Date('Thu, 01 Feb 24 07:00:00 EST')?.toISOString()).toBe('2024-02-01T12:00:00.000Z');
    expect(parseRfc5322Date('Thu, 1 Feb 2024 12:00:00 GMT')?.toISOString()).toBe('2024-02-01T12:00:00.000Z');
  });
  it('refuses what is not a date instead of guessing', () => {
    for (const bad of ['', 'yesterday', '2024-02-01T12:00:00Z', 'Thu, 31 Feb 2024 12:00:00 +0000', 'Thu, 1 Feb 2024 25:00:00 +0000', 'Thu, 1 Feb 2024 12:00:00']) {
      expect(parseRfc5322Date(bad), bad).toBeNull();
    }
  });
  it('reads the receiving host and time of a Received header', () => {
    const hop = parseReceived('from mail.a.gov.uk (mail.a.gov.uk [192.0.2.1])\r\n\tby MX.ccin.example (Postfix) with ESMTPS id X\r\n\tfor <ballots@ccin.example>; Thu, 1 Feb 2024 11:59:59 +0000 (GMT)', 0);
    expect(hop.by).toBe('mx.ccin.example');
    expect(hop.at?.toISOString()).toBe('2024-02-01T11:59:59.000Z');
  });
});
