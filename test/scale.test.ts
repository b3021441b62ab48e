/**
 * Reading on several threads gives the same result, byte for byte, as reading on one (issue 8).
 * Speed is measured by `npm run bench`, never here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSynthetic } from '../bench/synthetic.js';
import { IN_PROCESS_FIRST } from '../src/read/pool.js';
import { run, tempDir } from './helpers.js';

describe('reader threads', () => {
  it('a count read on two threads is byte-identical to one read on the main thread', async () => {
    const t = tempDir();
    try {
      const s = await writeSynthetic(t.dir, IN_PROCESS_FIRST + 150);
      const outs: string[] = [];
      for (const jobs of ['1', '2']) {
        const out = join(t.dir, `r${jobs}.json`);
        const r = await run(['tally', s.mbox, '--election', s.election, '--roster', s.roster, '--json', out, '--jobs', jobs]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        outs.push(readFileSync(out, 'utf8'));
      }
      expect(outs[1]).toBe(outs[0]);
      const result = JSON.parse(outs[0]!) as { summary: { read: number; dispositions: { counted: number } } };
      expect(result.summary.read).toBe(IN_PROCESS_FIRST + 150);
      expect(result.summary.dispositions.counted).toBe(IN_PROCESS_FIRST + 150);
    } finally {
      t.cleanup();
    }
  });

  it('--jobs takes a whole number from 1 to 64', async () => {
    expect((await run(['tally', 'x', '--election', 'e', '--roster', 'r', '--jobs', '0'])).code).toBe(2);
  });
});
