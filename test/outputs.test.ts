/**
 * What people do with the count (issue 9): the spreadsheet, the declaration, the tally sheet.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { neutralise } from '../src/report/csv.js';
import { ADJUDICATIONS, ELECTION, ISSUED, KEYS, MAILBOX, ROSTER, eml, paperText, run, tempDir } from './helpers.js';

const COMMON = ['--election', ELECTION, '--roster', ROSTER, '--keys', KEYS, '--issued', ISSUED, '--adjudications', ADJUDICATIONS];

describe('--csv', () => {
  it('one row per message, UTF-8 with BOM, formula cells neutralised, written by a CSV library', async () => {
    const t = tempDir();
    try {
      const box = join(t.dir, 'box');
      mkdirSync(box);
      writeFileSync(join(box, 'hostile.eml'), eml({ subject: '=HYPERLINK("http://x.example","click")', body: paperText({ williams: 'X' }), messageId: '<hostile@north-herts.gov.uk>' }));
      const csv = join(t.dir, 'r.csv');
      const json = join(t.dir, 'r.json');
      const r = await run(['tally', MAILBOX, box, ...COMMON, '--csv', csv, '--json', json]);
      expect([0, 3]).toContain(r.code);
      const bytes = readFileSync(csv);
      expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      const rows = parse(bytes, { bom: true, columns: true }) as Record<string, string>[];
      const result = JSON.parse(readFileSync(json, 'utf8')) as { messages: { sha256: string; disposition: string }[] };
      expect(rows).toHaveLength(result.messages.length);
      expect(rows.map((x) => [x.sha256, x.disposition])).toEqual(result.messages.map((m) => [m.sha256, m.disposition]));
      const hostile = rows.find((x) => x.message_id === '<hostile@north-herts.gov.uk>');
      expect(hostile?.subject).toBe('\'=HYPERLINK("http://x.example","click")');
      expect(bytes.toString('utf8')).toContain('\r\n');
      expect(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', 'plain'].map(neutralise)).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", 'plain']);
    } finally {
      t.cleanup();
    }
  });
});
