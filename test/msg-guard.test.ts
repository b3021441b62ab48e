import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Attachment, Email } from '@tutao/oxmsg';
import { describe, expect, it } from 'vitest';
import { compoundFileFlaw } from '../src/read/cfb-guard.js';
import { msgToMime } from '../src/read/msg.js';
import { DEFAULT_READ_LIMITS, readMessage } from '../src/read/message.js';
import { ROOT, paperText } from './helpers.js';

/** A .msg as Outlook's format writer (oxmsg, a port of MsgKit, over SheetJS's compound-file writer) makes one. */
function outlookMsg(attachments: { name: string; data: Uint8Array }[] = []): Buffer {
  const email = new Email()
    .sender('leader@north-herts.gov.uk', 'Cllr Elliot Kirkland')
    .to('ballots@ccin.example', 'CCIN Ballots')
    .subject('Ballot')
    .bodyText(paperText({ alty: 'X' }))
    .sentOn(new Date('2024-01-31T10:00:00Z'))
    .receivedOn(new Date('2024-01-31T10:00:03Z'));
  for (const a of attachments) email.attach(new Attachment(a.data, a.name));
  return Buffer.from(email.msg());
}

/** Bytes that do not compress or repeat: SHA-256 in counter mode. */
function noise(length: number): Uint8Array {
  const out = Buffer.alloc(length);
  for (let i = 0, at = 0; at < length; i++, at += 32) createHash('sha256').update(String(i)).digest().copy(out, at);
  return out;
}

const sectorSize = (b: Buffer): number => (b[30] === 12 ? 4096 : 512);
const directoryStart = (b: Buffer): number => b.readInt32LE(0x30);
/** Where the FAT entry of a sector lies (the first FAT sector holds the first sectors' entries). */
function fatEntryAt(b: Buffer, sector: number): number {
  const per = sectorSize(b) / 4;
  const fatSector = b.readInt32LE(0x4c + 4 * Math.floor(sector / per));
  return (fatSector + 1) * sectorSize(b) + 4 * (sector % per);
}
const entryAt = (b: Buffer, index: number): number => (directoryStart(b) + 1) * sectorSize(b) + 128 * index;

const FIXTURES = ['fixtures/ccin-2024/telford-ballot.msg', 'fixtures/forms/msg/body-paper.msg', 'fixtures/forms/msg/pdf-attached.msg', 'fixtures/services/m365/banner-outlook.msg'];

describe('the compound-file guard in front of msgreader', () => {
  it('finds no flaw in .msg files as Outlook-format writers make them, large ones included', () => {
    for (const f of FIXTURES) expect([f, compoundFileFlaw(readFileSync(join(ROOT, f)))]).toEqual([f, null]);
    // Streams in the mini stream and in big sectors, nested storages, and a file of over 109 FAT
    // sectors (8 MiB at 512 bytes a sector), whose FAT is listed in the DIFAT chain.
    const large = outlookMsg([
      { name: 'ballot.txt', data: Buffer.from(paperText({ alty: 'X' })) },
      { name: 'scan.png', data: noise(8 << 20) },
      { name: 'small.bin', data: noise(3000) },
    ]);
    expect(large.readInt32LE(0x48)).toBeGreaterThan(0); // DIFAT sectors in use
    expect(compoundFileFlaw(large)).toBeNull();
    // msgreader reads it whole: the picture's last bytes lie in sectors only the DIFAT lists.
    const mime = msgToMime(large, 3).mime.toString('latin1');
    const scan = Buffer.from(mime.split(`filename*=UTF-8''scan.png`)[1]?.split('--ccin-tally-msg-0')[0]?.replace(/^[^]*?\r\n\r\n/, '') ?? '', 'base64');
    expect(scan.equals(noise(8 << 20))).toBe(true);
  });

  it('a directory chain that loops is refused, where msgreader had looped for ever', async () => {
    const msg = outlookMsg();
    const self = Buffer.from(msg);
    self.writeInt32LE(directoryStart(self), fatEntryAt(self, directoryStart(self)));
    expect(compoundFileFlaw(self)).toBe('the directory chain loops, or runs into another chain');
    expect(() => msgToMime(self, 3)).toThrow('not a well-formed compound file: the directory chain loops');
    // As a mailbox file and as an email's attachment, a row that says why.
    const facts = await readMessage({ source: { file: 'loop.msg', kind: 'msg', index: null, line: null }, bytes: self, size: self.length, sha256: '', oversize: false }, { receivedBy: null, limits: DEFAULT_READ_LIMITS });
    expect(facts.unreadable).toBe('the Outlook .msg file cannot be read: not a well-formed compound file: the directory chain loops, or runs into another chain');
  });

  it('a directory tree that loops, a stream longer than the file, and counts past the file are refused', () => {
    const msg = outlookMsg();
    const tree = Buffer.from(msg);
    // The root's first child names itself as its next sibling.
    const child = tree.readInt32LE(entryAt(tree, 0) + 0x4c);
    tree.writeInt32LE(child, entryAt(tree, child) + 0x48);
    expect(compoundFileFlaw(tree)).toBe('its directory tree loops');
    const long = Buffer.from(msg);
    let stream = 1;
    while (long[entryAt(long, stream) + 0x42] !== 2) stream++;
    long.writeInt32LE(0x7fffffff, entryAt(long, stream) + 0x78);
    expect(compoundFileFlaw(long)).toMatch(/^a stream is 2147483647 bytes long, in a file of \d+$/);
    const counts = Buffer.from(msg);
    counts.writeInt32LE(0x7fffffff, 0x40);
    expect(compoundFileFlaw(counts)).toMatch(/^its header counts 2147483647 mini FAT sectors, and the file holds \d+$/);
    expect(compoundFileFlaw(Buffer.alloc(100))).toBe('it is shorter than a compound file header');
  });

  it('whatever is written into its header, FAT and directory, reading a .msg ends: a row, never a hang', () => {
    const msg = outlookMsg([{ name: 'ballot.txt', data: Buffer.from(paperText({ williams: 'X' })) }]);
    const size = sectorSize(msg);
    const sectors = msg.length / size - 1;
    // Words that make chains and trees loop: small sector and entry numbers, and the markers.
    const word = fc.oneof(fc.integer({ min: -4, max: sectors + 2 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
    // Places where msgreader finds what it follows: the header, the first FAT sector, the directory.
    const structural = [0x2c, 0x30, 0x3c, 0x40, 0x44, 0x48, 0x4c].map((o) => fc.constant(o));
    const fatStart = (msg.readInt32LE(0x4c) + 1) * size;
    const dirStart = (directoryStart(msg) + 1) * size;
    const place = fc.oneof(
      ...structural,
      fc.integer({ min: 0, max: size / 4 - 1 }).map((i) => fatStart + 4 * i),
      fc.integer({ min: 0, max: (size * 2) / 4 - 1 }).map((i) => dirStart + 4 * i),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(place, word), { minLength: 1, maxLength: 6 }), (edits) => {
        const b = Buffer.from(msg);
        for (const [at, value] of edits) if (at + 4 <= b.length) b.writeInt32LE(value, at);
        try {
          const converted = msgToMime(b, 3);
          expect(converted.mime.length).toBeLessThan(msg.length * 8);
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 400, seed: 7 },
    );
  });
});
