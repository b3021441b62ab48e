import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { splitMbox } from '../src/sources/mbox.js';
import type { RawMessage } from '../src/sources/types.js';
import { walkSources } from '../src/sources/walk.js';
import { eml, tempDir } from './helpers.js';

async function split(text: string | Buffer, max = 1 << 20) {
  const out = [];
  const h = createHash('sha256');
  const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  // Small chunks, so that lines straddle chunk boundaries.
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 7) chunks.push(buf.subarray(i, i + 7));
  for await (const m of splitMbox(Readable.from(chunks), max, h)) out.push(m);
  return out;
}

const msg = (n: number, body: string) => `From: a${n}@x.example\nSubject: ${n}\n\n${body}\n`;

describe('mbox', () => {
  it('splits at "From " lines after a blank line and un-escapes >From (mboxrd)', async () => {
    const text = `From MAILER-DAEMON Thu Feb  1 11:58:00 2024\n${msg(1, 'Hello\n>From the start\n>>From quoted')}\nFrom MAILER-DAEMON Thu Feb  1 11:59:00 2024\n${msg(2, 'Bye')}\n`;
    const ms = await split(text);
    expect(ms).toHaveLength(2);
    expect(ms[0]?.bytes.toString()).toBe(msg(1, 'Hello\nFrom the start\n>From quoted'));
    expect(ms[1]?.bytes.toString()).toBe(msg(2, 'Bye'));
    expect(ms[0]?.sha256).toBe(createHash('sha256').update(ms[0]!.bytes).digest('hex'));
    expect(ms.map((m) => [m.index, m.line])).toEqual([
      [1, 1],
      [2, 9],
    ]);
  });
  it('reads Thunderbird, Google Takeout and Postfix separators, and CRLF files', async () => {
    for (const sep of ['From - Thu Feb 01 11:58:00 2024', 'From 1790123456789012345@xxx Thu Feb 01 11:58:00 +0000 2024', 'From leader@a.gov.uk  Thu Feb  1 11:58:00 2024']) {
      const text = `${sep}\n${msg(1, 'a')}\n${sep}\n${msg(2, 'b')}`;
      expect((await split(text)).length, sep).toBe(2);
      expect((await split(text.replace(/\n/g, '\r\n'))).map((m) => m.bytes.toString()), sep).toEqual([msg(1, 'a').replace(/\n/g, '\r\n'), msg(2, 'b').replace(/\n/g, '\r\n')]);
    }
  });
  it('a body line starting "From " that is not a separator stays in the message', async () => {
    const text = `From - Thu Feb 01 11:58:00 2024\n${msg(1, 'Dear RO,\n\nFrom what I understand the vote is open.')}`;
    const ms = await split(text);
    expect(ms).toHaveLength(1);
    expect(ms[0]?.bytes.toString()).toContain('From what I understand');
  });
  it('keeps text before the first separator as a message, so nothing is lost', async () => {
    const ms = await split(`Stray: header\n\nstray body\n\nFrom - Thu Feb 01 11:58:00 2024\n${msg(1, 'a')}`);
    expect(ms).toHaveLength(2);
    expect(ms[0]?.bytes.toString()).toContain('stray body');
  });
  it('a message within one chunk of the file is that chunk\'s memory, not a copy; one that spans chunks or had a line un-escaped is copied whole', async () => {
    const text = `From - Thu Feb 01 11:58:00 2024\n${msg(1, 'a\nb')}\nFrom - Thu Feb 01 11:59:00 2024\n${msg(2, '>From here')}\n`;
    // Memory of its own (Buffer.from would take a slice of the pool that small Buffers share).
    const file = Buffer.alloc(text.length);
    file.write(text, 'latin1');
    const ms = [];
    for await (const m of splitMbox(Readable.from([file]), 1 << 20, createHash('sha256'))) ms.push(m);
    expect(ms.map((m) => m.bytes.toString('latin1'))).toEqual([msg(1, 'a\nb'), msg(2, 'From here')]);
    expect(ms[0]!.bytes.buffer).toBe(file.buffer);
    expect(ms[1]!.bytes.buffer).not.toBe(file.buffer);
    const cut = await split(file);
    expect(cut.map((m) => m.bytes.toString('latin1'))).toEqual([msg(1, 'a\nb'), msg(2, 'From here')]);
  });
  it('an oversize message is flagged without being held in memory, and later messages still read', async () => {
    const big = 'x'.repeat(5000);
    const ms = await split(`From - Thu Feb 01 11:58:00 2024\n${msg(1, big)}\nFrom - Thu Feb 01 11:59:00 2024\n${msg(2, 'b')}`, 1000);
    expect(ms.map((m) => m.oversize)).toEqual([true, false]);
    expect(ms[0]?.bytes.length).toBe(0);
    expect(ms[0]?.size).toBeGreaterThan(5000);
  });
});

/**
 * The mbox rules read off a whole file at once, line by line, as the spec states them: the oracle a
 * streaming splitter (which appends runs of plain lines at once) is checked against.
 */
function splitWhole(file: Buffer, max: number): { index: number; line: number; bytes: string; size: number; sha256: string; oversize: boolean }[] {
  const lines: Buffer[] = [];
  for (let at = 0; at < file.length; ) {
    const nl = file.indexOf(0x0a, at);
    const end = nl < 0 ? file.length : nl + 1;
    lines.push(file.subarray(at, end));
    at = end;
  }
  const blank = (l: Buffer): boolean => l.toString('latin1') === '\n' || l.toString('latin1') === '\r\n';
  const out: ReturnType<typeof splitWhole> = [];
  const emit = (line: number, parts: Buffer[]): void => {
    const bytes = Buffer.concat(parts);
    const oversize = bytes.length > max;
    out.push({ index: out.length + 1, line, bytes: oversize ? '' : bytes.toString('latin1'), size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), oversize });
  };
  let prevBlank = true;
  let current: { line: number; parts: Buffer[]; pendingBlank: Buffer | null } | null = null;
  let preamble: { parts: Buffer[]; blank: boolean } | null = null;
  lines.forEach((l, i) => {
    const text = l.toString('latin1');
    if (text.startsWith('From ') && prevBlank && /^From \S+ ?.*\d{1,2}:\d{2}/.test(text.slice(0, 200))) {
      if (preamble && !preamble.blank && !current) emit(1, preamble.parts);
      preamble = null;
      if (current) emit(current.line, current.parts);
      current = { line: i + 1, parts: [], pendingBlank: null };
      prevBlank = false;
      return;
    }
    if (!current) {
      preamble ??= { parts: [], blank: true };
      preamble.parts.push(l);
      if (text.trim() !== '') preamble.blank = false;
    } else {
      if (current.pendingBlank) current.parts.push(current.pendingBlank);
      current.pendingBlank = null;
      if (blank(l)) current.pendingBlank = l;
      else current.parts.push(/^>+From /.test(text) ? l.subarray(1) : l);
    }
    prevBlank = blank(l);
  });
  const last = current as { line: number; parts: Buffer[] } | null;
  const pre = preamble as { parts: Buffer[]; blank: boolean } | null;
  if (last) emit(last.line, last.parts);
  else if (pre && !pre.blank) emit(1, pre.parts);
  return out;
}

describe('mbox, against the rules read off the whole file', () => {
  it('gives the same messages, bytes, line numbers and hashes however the file is cut into chunks', async () => {
    const line = fc.oneof(
      fc.constantFrom(
        'From - Thu Feb 01 11:58:00 2024\n',
        'From leader@a.gov.uk  Thu Feb  1 11:58:00 2024\r\n',
        'From what I understand\n',
        'From \n',
        '>From the start\n',
        '>>From quoted\r\n',
        '>From\n',
        '> a quoted line\n',
        '>\n',
        '\n',
        '\r\n',
        ' \n',
        'Subject: x\n',
        'F\n',
        'Fro',
      ),
      fc.string({ unit: fc.constantFrom('a', 'F', '>', ' ', '\r', 'é', 'From '), maxLength: 30 }).map((t) => `${t}\n`),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 80 }), fc.array(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(1 << 20)), { minLength: 1, maxLength: 8 }), fc.constantFrom(200, 400, 1 << 20), async (lines, cuts, max) => {
        const file = Buffer.from(lines.join(''), 'latin1');
        const chunks: Buffer[] = [];
        for (let at = 0, k = 0; at < file.length; k++) {
          const n = cuts[k % cuts.length]!;
          chunks.push(file.subarray(at, at + n));
          at += n;
        }
        const h = createHash('sha256');
        const got = [];
        for await (const m of splitMbox(Readable.from(chunks), max, h)) got.push({ ...m, bytes: m.bytes.toString('latin1') });
        expect(got).toEqual(splitWhole(file, max));
        expect(h.digest('hex')).toBe(createHash('sha256').update(file).digest('hex'));
      }),
      { seed: 20261202, numRuns: 1500 },
    );
  });
});

describe('paths to messages', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir();
  });
  afterEach(() => t.cleanup());

  async function collect(paths: string[]) {
    const w = walkSources(paths, { maxMessageBytes: 1 << 20 });
    const messages: RawMessage[] = [];
    for await (const m of w.messages) messages.push(m);
    return { messages, files: w.files };
  }

  it('reads .eml files, folders recursively, mbox files and Maildir, naming them without the working directory', async () => {
    const root = join(t.dir, 'export');
    mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(root, 'a.eml'), eml({ body: 'a' }));
    writeFileSync(join(root, 'sub', 'deeper', 'b.eml'), eml({ body: 'b' }));
    writeFileSync(join(root, 'sub', 'Inbox'), `From - Thu Feb 01 11:58:00 2024\n${msg(1, 'x')}\nFrom - Thu Feb 01 11:58:00 2024\n${msg(2, 'y')}`);
    writeFileSync(join(root, 'sub', 'Inbox.msf'), '// <!-- <mdb:mork:z v="1.4"/> -->');
    writeFileSync(join(root, '.DS_Store'), Buffer.from([0, 0, 0, 1, 66, 117, 100, 49]));
    for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(root, 'md', d), { recursive: true });
    writeFileSync(join(root, 'md', 'cur', '1706.M1.host:2,S'), eml({ body: 'c' }));
    writeFileSync(join(root, 'md', 'new', '1707.M2.host'), eml({ body: 'n' }));
    writeFileSync(join(root, 'md', 'tmp', '1708.M3.host'), eml({ body: 'being delivered' }));
    const { messages, files } = await collect([root]);
    expect(messages.map((m) => `${m.source.kind}:${m.source.file}${m.source.index ? `#${m.source.index}` : ''}`)).toEqual([
      'eml:export/a.eml',
      'maildir:export/md/cur/1706.M1.host:2,S',
      'maildir:export/md/new/1707.M2.host',
      'mbox:export/sub/Inbox#1',
      'mbox:export/sub/Inbox#2',
      'eml:export/sub/deeper/b.eml',
    ]);
    expect(files.filter((f) => f.kind === 'skipped').map((f) => f.file)).toEqual(['export/.DS_Store', 'export/md/tmp/1708.M3.host', 'export/sub/Inbox.msf']);
    expect(files.find((f) => f.file === 'export/md/tmp/1708.M3.host')?.note).toMatch(/still being delivered/);
    for (const f of files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a copy of a Maildir that lost its empty new and tmp folders (a git checkout, a zip) reads as the Maildir it was', async () => {
    const whole = join(t.dir, 'md-whole');
    const copy = join(t.dir, 'md-copy');
    for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(whole, d), { recursive: true });
    mkdirSync(join(copy, 'cur'), { recursive: true });
    for (const root of [whole, copy]) writeFileSync(join(root, 'cur', '1706.M1.host:2,S'), eml({ body: 'c' }));
    const a = await collect([whole]);
    const b = await collect([copy]);
    expect(a.messages.map((m) => m.source.kind)).toEqual(['maildir']);
    expect(b.messages.map((m) => [m.source.kind, m.source.file.replace('md-copy', 'md-whole')])).toEqual(a.messages.map((m) => [m.source.kind, m.source.file]));
  });

  it("an Apple Mail export (a Ballots.mbox folder holding an mbox file, Info.plist and table_of_contents) is read as its mbox", async () => {
    const bundle = join(t.dir, 'Ballots.mbox');
    mkdirSync(bundle);
    writeFileSync(join(bundle, 'mbox'), `From - Thu Feb 01 11:58:00 2024\n${msg(1, 'x')}\nFrom - Thu Feb 01 11:59:00 2024\n${msg(2, 'y')}`);
    writeFileSync(join(bundle, 'Info.plist'), '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict/></plist>\n');
    writeFileSync(join(bundle, 'table_of_contents'), Buffer.from([0, 1, 2, 3, 4, 5]));
    const { messages, files } = await collect([bundle]);
    expect(messages.map((m) => `${m.source.kind}:${m.source.file}#${m.source.index}`)).toEqual(['mbox:Ballots.mbox/mbox#1', 'mbox:Ballots.mbox/mbox#2']);
    expect(files.filter((f) => f.kind === 'skipped').map((f) => f.file)).toEqual(['Ballots.mbox/Info.plist', 'Ballots.mbox/table_of_contents']);
  });

  it('an Outlook .msg file is a message of its own (a broken one is unreadable, never skipped)', async () => {
    writeFileSync(join(t.dir, 'ballot.msg'), Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]));
    const { messages } = await collect([t.dir]);
    expect(messages.map((m) => m.source.kind)).toEqual(['msg']);
    const { readMessage, DEFAULT_READ_LIMITS } = await import('../src/read/message.js');
    const f = await readMessage(messages[0]!, { receivedBy: null, limits: DEFAULT_READ_LIMITS });
    expect(f.unreadable).toMatch(/the Outlook \.msg file cannot be read/);
  });

  it('a link to nothing and a folder inside a Maildir cur/ are listed as skipped, not read or lost', async () => {
    for (const d of ['cur', 'new', 'tmp']) mkdirSync(join(t.dir, 'md', d), { recursive: true });
    writeFileSync(join(t.dir, 'md', 'cur', '1.M1:2,S'), eml({ body: 'c' }));
    mkdirSync(join(t.dir, 'md', 'cur', 'odd-folder'));
    symlinkSync(join(t.dir, 'gone.eml'), join(t.dir, 'dangling.eml'));
    const { messages, files } = await collect([t.dir]);
    expect(messages).toHaveLength(1);
    const name = t.dir.split('/').pop();
    expect(files.filter((f) => f.kind === 'skipped').map((f) => [f.file, f.note])).toEqual([
      [`${name}/dangling.eml`, 'a link to nothing'],
      [`${name}/md/cur/odd-folder`, 'not a message file in a Maildir folder'],
    ]);
  });

  it('a device or pipe given as a mailbox is an input error, not a read that never ends', async () => {
    await expect(collect(['/dev/zero'])).rejects.toThrow(/not a file or folder/);
  });

  it('a folder of many files, read ahead many at a time, gives each file in order, whole and hashed as it is on disk', async () => {
    const box = join(t.dir, 'box');
    mkdirSync(box);
    const written: { name: string; bytes: Buffer }[] = [];
    // More files than are read ahead at once, of every kind the walk tells apart: small and large
    // messages (the largest past what is read ahead, and past the message limit), an mbox, a file
    // that is not mail, an empty one.
    for (let i = 0; i < 90; i++) {
      const name = `m${String(i).padStart(3, '0')}.eml`;
      const size = i === 40 ? (1 << 20) + 5000 : i === 41 ? 900_000 : 200 + i * 37;
      const bytes = Buffer.from(msg(i, 'x'.repeat(size)));
      writeFileSync(join(box, name), bytes);
      written.push({ name, bytes });
    }
    writeFileSync(join(box, 'n.mbox'), `From MAILER-DAEMON Thu Feb  1 11:58:00 2024\n${msg(100, 'a')}\nFrom MAILER-DAEMON Thu Feb  1 11:59:00 2024\n${msg(101, 'b')}\n`);
    writeFileSync(join(box, 'notes.txt'), 'no headers here\n');
    writeFileSync(join(box, 'zero'), '');
    const walk = walkSources([box], { maxMessageBytes: 1 << 20 });
    const messages: RawMessage[] = [];
    for await (const m of walk.messages) messages.push(m);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const singles = messages.filter((m) => m.source.kind === 'eml');
    expect(singles.map((m) => m.source.file)).toEqual(written.map((w) => `box/${w.name}`));
    for (const [i, m] of singles.entries()) {
      const w = written[i]!;
      expect([m.sha256, m.size, m.oversize]).toEqual([sha(w.bytes), w.bytes.length, w.bytes.length > 1 << 20]);
      expect(m.bytes.equals(m.oversize ? Buffer.alloc(0) : w.bytes)).toBe(true);
    }
    expect(messages.filter((m) => m.source.kind === 'mbox').map((m) => m.source.index)).toEqual([1, 2]);
    const byFile = new Map(walk.files.map((f) => [f.file, f]));
    expect(byFile.get('box/m040.eml')).toMatchObject({ kind: 'eml', bytes: written[40]!.bytes.length, sha256: sha(written[40]!.bytes) });
    expect(byFile.get('box/notes.txt')).toMatchObject({ kind: 'skipped', sha256: sha(Buffer.from('no headers here\n')) });
    expect(byFile.get('box/zero')).toMatchObject({ kind: 'skipped', note: 'empty file' });
    // Every file's size, asked when a progress bar asks: what it counts down.
    expect(await walk.plannedBytes()).toBe(walk.files.reduce((a, f) => a + f.bytes, 0));
  });

  it('a mailbox is known to be large before it is read: 32 MiB in a few files, or 8,000 files; else, or unreadable, it is not', async () => {
    const limits = { maxMessageBytes: 1 << 20 };
    // Only sizes are asked: sparse files of the sizes at either side of the line.
    const sized = (name: string, bytes: number): string => {
      const path = join(t.dir, name);
      writeFileSync(path, eml({ subject: name, body: 'x' }));
      truncateSync(path, bytes);
      return path;
    };
    expect(await walkSources([sized('big.mbox', 32 * 1024 * 1024)], limits).isLarge()).toBe(true);
    expect(await walkSources([sized('small.mbox', 32 * 1024 * 1024 - 1)], limits).isLarge()).toBe(false);
    // Two files that make 32 MiB between them.
    expect(await walkSources([sized('a.mbox', 16 * 1024 * 1024), sized('b.mbox', 16 * 1024 * 1024)], limits).isLarge()).toBe(true);
    // Many files: counted, never each asked its size (65 files of 1 MiB: not known to be large).
    const many = join(t.dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < 65; i++) {
      writeFileSync(join(many, `m${i}.eml`), '');
      truncateSync(join(many, `m${i}.eml`), 1 << 20);
    }
    expect(await walkSources([many], limits).isLarge()).toBe(false);
    const folder = join(t.dir, 'folder');
    mkdirSync(folder);
    for (let i = 0; i < 8000; i++) writeFileSync(join(folder, `m${String(i).padStart(4, '0')}.eml`), 'x');
    expect(await walkSources([folder], limits).isLarge()).toBe(true);
    rmSync(join(folder, 'm0000.eml'));
    expect(await walkSources([folder], limits).isLarge()).toBe(false);
    // Not a mailbox at all: not large, and reading it says why.
    const missing = walkSources([join(t.dir, 'nowhere')], limits);
    expect(await missing.isLarge()).toBe(false);
    await expect(missing.messages.next()).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it('a file reached twice (given twice, or through a link) is read once; argument order does not matter', async () => {
    const a = join(t.dir, 'a.eml');
    const b = join(t.dir, 'b.eml');
    writeFileSync(a, eml({ body: 'a' }));
    writeFileSync(b, eml({ body: 'b' }));
    symlinkSync(a, join(t.dir, 'link.eml'));
    const one = await collect([b, a, a, t.dir]);
    const two = await collect([t.dir, a, b]);
    expect(one.messages.map((m) => m.sha256)).toEqual(two.messages.map((m) => m.sha256));
    expect(one.messages).toHaveLength(2);
  });

  it('a mailbox file that goes away before its turn is an input error naming it, not a crash or a lost file', async () => {
    const box = join(t.dir, 'box');
    mkdirSync(box);
    writeFileSync(join(box, 'a.eml'), eml({ body: 'a' }));
    // Larger than is read ahead, so that it is opened only in its turn.
    writeFileSync(join(box, 'b.eml'), eml({ body: 'b'.repeat((1 << 20) + 10) }));
    const walk = walkSources([box], { maxMessageBytes: 4 << 20 });
    const first = await walk.messages.next();
    expect(first.done === false && first.value.source.file).toBe('box/a.eml');
    rmSync(join(box, 'b.eml'));
    await expect(walk.messages.next()).rejects.toMatchObject({ code: 'FILE_UNREADABLE', message: expect.stringMatching(/cannot be read \(ENOENT\)/) });
  });

  it('links and odd entries inside a folder: a linked folder is followed, a file met again through it is read once, a pipe is skipped', async () => {
    const box = join(t.dir, 'box');
    mkdirSync(join(box, 'inner'), { recursive: true });
    writeFileSync(join(box, 'inner', 'a.eml'), eml({ body: 'a' }));
    writeFileSync(join(t.dir, 'outside.eml'), eml({ body: 'o' }));
    mkdirSync(join(t.dir, 'elsewhere'));
    writeFileSync(join(t.dir, 'elsewhere', 'e.eml'), eml({ body: 'e' }));
    symlinkSync(join(box, 'inner'), join(box, 'same-inner'));
    symlinkSync(join(t.dir, 'elsewhere'), join(box, 'linked'));
    symlinkSync(join(t.dir, 'outside.eml'), join(box, 'to-outside.eml'));
    execFileSync('mkfifo', [join(box, 'pipe')]);
    const { messages, files } = await collect([box]);
    // inner/a.eml is reached twice (inner/, same-inner/): read once, under the name met first.
    expect(messages.map((m) => m.source.file)).toEqual(['box/inner/a.eml', 'box/linked/e.eml', 'box/to-outside.eml']);
    expect(files.filter((f) => f.kind === 'skipped').map((f) => [f.file, f.note])).toEqual([['box/pipe', 'not a regular file (a device, socket or pipe)']]);
    // The same files named again beside the folder, in any order: the same messages, none twice.
    const again = await collect([join(t.dir, 'outside.eml'), box, join(box, 'inner', 'a.eml')]);
    expect(again.messages.map((m) => m.sha256).sort()).toEqual(messages.map((m) => m.sha256).sort());
  });
});
