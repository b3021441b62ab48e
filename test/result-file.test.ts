/**
 * verify reads a result file as a stream (issue 8): the claimed figures and the digest of its
 * content come out as reading it whole gives them, and a file that is not a result is refused with
 * its line, as before.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCount } from '../src/cli/pipeline.js';
import { closeSpills } from '../src/cli/spill.js';
import { loadInputFile } from '../src/inputs/files.js';
import { readResultFile } from '../src/inputs/result-file.js';
import { resultDigest } from '../src/model/canonical.js';
import { InputError } from '../src/model/errors.js';
import { renderJson } from '../src/report/json.js';
import { ADJUDICATIONS, ELECTION, ISSUED, KEYS, MAILBOX, ROSTER, tempDir } from './helpers.js';

let t: ReturnType<typeof tempDir>;
let text: string;
beforeAll(async () => {
  t = tempDir();
  // Spilled from the tenth message on: the file is written from the spilled evidence text.
  text = renderJson(await runCount({ paths: [MAILBOX], election: ELECTION, roster: ROSTER, keys: KEYS, issued: ISSUED, adjudications: ADJUDICATIONS, generator: 'test', jobs: 1, spillAfter: 10 }));
});
afterAll(() => {
  closeSpills();
  t.cleanup();
});

const write = (name: string, body: string): string => {
  const path = join(t.dir, name);
  writeFileSync(path, body);
  return path;
};

const refusal = async (path: string, options: { locateUpTo?: number } = {}): Promise<InputError> => {
  try {
    await readResultFile(path, options);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('the file was accepted');
};

describe('reading a result file as a stream', () => {
  it('gives the claimed figures, and the digest of the content is the file\'s own', async () => {
    const whole = JSON.parse(text) as { digest: string; messages: { sha256: string; disposition: string; choices: string[] }[]; tally: unknown };
    for (const body of [text, '\uFEFF' + text, JSON.stringify(whole)]) {
      const r = await readResultFile(write('r.json', body));
      expect(r.contentDigest).toBe(whole.digest);
      expect(r.top.digest).toBe(whole.digest);
      expect(r.top.tally).toEqual(whole.tally);
      expect(r.messages).toHaveLength(68);
      expect(r.messages.map((m) => [m.sha256, m.disposition, m.choices])).toEqual(whole.messages.map((m) => [m.sha256, m.disposition, m.choices]));
      expect('messages' in r.top).toBe(false);
    }
  });

  it('a changed piece of evidence changes the content digest, wherever it is', async () => {
    const r = JSON.parse(text) as { digest: string; messages: { evidence: { subject: string | null } }[] };
    r.messages[40]!.evidence.subject = 'edited';
    const read = await readResultFile(write('edited.json', JSON.stringify(r, null, 2)));
    expect(read.contentDigest).not.toBe(r.digest);
    const { digest: _d, ...rest } = r;
    expect(read.contentDigest).toBe(resultDigest(rest));
  });

  it('refuses what is not JSON, or not a result, naming the line', async () => {
    const broken = await refusal(write('broken.json', text.replace('"disposition": "counted"', '"disposition": counted')));
    expect(broken.code).toBe('JSON_SYNTAX');
    expect(broken.location.line).toBe(text.split('\n').findIndex((l) => l.includes('"disposition": "counted"')) + 1);

    const r = JSON.parse(text) as Record<string, unknown> & { messages: Record<string, unknown>[] };
    r.messages[3]!.choices = 'willoughby';
    const wrong = await refusal(write('wrong.json', JSON.stringify(r, null, 2)));
    expect(wrong.code).toBe('RESULT_INVALID');
    expect(wrong.location.field).toBe('messages.3.choices');
    expect(wrong.location.line).toBe(JSON.stringify(r, null, 2).split('\n').findIndex((l) => l.includes('"choices": "willoughby"')) + 1);

    const { messages: _m, ...noMessages } = JSON.parse(text) as Record<string, unknown>;
    const missing = await refusal(write('missing.json', JSON.stringify(noMessages)));
    expect(missing.code).toBe('RESULT_INVALID');
    expect(missing.location.field).toBe('messages');

    const two = await refusal(write('two.json', text + text));
    expect(two.code).toBe('JSON_SYNTAX');
  });

  it('a file too large to read whole is refused by field alone', async () => {
    const r = JSON.parse(text) as Record<string, unknown> & { messages: Record<string, unknown>[] };
    r.messages[5]!.source = 'nowhere';
    const wrong = await refusal(write('large.json', JSON.stringify(r, null, 2)), { locateUpTo: 0 });
    expect(wrong.code).toBe('RESULT_INVALID');
    expect(wrong.location.field).toBe('messages.5.source');
    expect(wrong.location.line).toBeUndefined();
    const broken = await refusal(write('large-broken.json', text.slice(0, text.length / 2)), { locateUpTo: 0 });
    expect(broken.code).toBe('JSON_SYNTAX');
    expect(broken.location.line).toBeUndefined();
  });

  it('a folder, or a named pipe (which would be read forever), given as the result is refused, never read', async () => {
    const folder = await refusal(t.dir);
    expect(folder.code).toBe('FILE_UNREADABLE');
    expect(folder.message).toMatch(/a folder/);
    const fifo = join(t.dir, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    const pipe = await refusal(fifo);
    expect(pipe.code).toBe('FILE_UNREADABLE');
    // Every input file is checked the same way (the roster, the election, the keys…).
    await expect(loadInputFile(fifo, 'roster')).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
  });
});
