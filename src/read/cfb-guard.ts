/**
 * A guard in front of @kenjiuno/msgreader. An Outlook .msg is a compound file (MS-CFB): sectors
 * chained through a table (the FAT), and a tree of directory entries. msgreader follows the chains
 * and walks the tree without checking that they end: a .msg whose directory chain loops back on
 * itself (four bytes changed) kept a count busy for ever, its memory growing by gigabytes. Any
 * sender can attach one to an email.
 *
 * This reads the same header fields, tables and links as msgreader, the way msgreader reads them
 * (signed 32-bit values, a chain ending at -2 or at a table index past the table's end), and says
 * what is wrong when a loop it would follow could not end, or a size it would allocate is more than
 * the file holds. Every sector and every entry is visited at most once, so the guard's own cost is
 * linear in the file. It checks what makes msgreader stop, not everything MS-CFB requires; what
 * msgreader fails on otherwise it reports as an error, which the caller already turns into a row.
 */

const END_OF_CHAIN = -2;
const NO_INDEX = -1;
const HEADER_FAT_SECTORS = 109;
const ENTRY_SIZE = 128;
/** Directories inside directories: a message holds attachments, which hold messages, a few deep. */
const MAX_TREE_DEPTH = 64;
/** A stream this long or longer is kept in the big sectors; shorter ones in the mini stream. */
const MINI_STREAM_CUTOFF = 4096;

export function compoundFileFlaw(bytes: Uint8Array): string | null {
  if (bytes.length < 512) return 'it is shorter than a compound file header';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const int = (at: number): number | null => (Number.isInteger(at) && at >= 0 && at + 4 <= bytes.length ? view.getInt32(at, true) : null);
  const sectorSize = bytes[30] === 12 ? 4096 : 512;
  const perSector = sectorSize / 4;
  // Sector n lies at (n + 1) × its size: the header takes the place of sector -1. A last sector cut
  // short (some writers do not pad it) still counts.
  const sectors = Math.ceil(bytes.length / sectorSize) - 1;
  const at = (sector: number): number => (sector + 1) * sectorSize;
  const fatCount = int(0x2c) ?? -1;
  const directoryStart = int(0x30) ?? END_OF_CHAIN;
  const miniFatStart = int(0x3c) ?? END_OF_CHAIN;
  const miniFatCount = int(0x40) ?? -1;
  const difatStart = int(0x44) ?? END_OF_CHAIN;
  const difatCount = int(0x48) ?? -1;
  // msgreader loops up to each count: none may be more than the file has sectors.
  for (const [count, what] of [
    [fatCount, 'FAT'],
    [miniFatCount, 'mini FAT'],
    [difatCount, 'DIFAT'],
  ] as const) {
    if (count < 0 || count > Math.max(sectors, 0)) return `its header counts ${count} ${what} sectors, and the file holds ${Math.max(sectors, 0)}`;
  }

  // The FAT's own sectors: 109 in the header, the rest in the DIFAT chain.
  const fat: number[] = [];
  for (let i = 0; i < Math.min(fatCount, HEADER_FAT_SECTORS); i++) fat.push(int(0x4c + 4 * i) ?? -1);
  let remaining = fatCount - fat.length;
  let difat = difatStart;
  const difatSeen = new Set<number>();
  for (let i = 0; i < difatCount; i++) {
    if (difatSeen.has(difat)) return 'its DIFAT chain loops';
    difatSeen.add(difat);
    if (difat < 0 || difat >= sectors) return 'its DIFAT chain leaves the file';
    const n = Math.min(remaining, perSector - 1);
    for (let j = 0; j < n; j++) {
      const v = int(at(difat) + 4 * j) ?? -1;
      if (v === NO_INDEX || v === END_OF_CHAIN) break;
      fat.push(v);
    }
    remaining -= n;
    difat = int(at(difat) + 4 * (perSector - 1)) ?? END_OF_CHAIN;
    if (difat === NO_INDEX || difat === END_OF_CHAIN) break;
  }
  // The mini FAT's sectors, as msgreader gathers them (its loop stops at the count, or at sector 0).
  const miniFat: number[] = [];
  let next: number | null = miniFatStart;
  const following = (sector: number, table: number[]): number | null => {
    const holder = table[Math.floor(sector / perSector)];
    return holder === undefined ? END_OF_CHAIN : int(at(holder) + 4 * (sector % perSector));
  };
  for (let i = 0; i < miniFatCount && next !== null && next !== 0 && next !== END_OF_CHAIN; i++) {
    miniFat.push(next);
    next = following(next, fat);
  }

  // A chain msgreader follows to its end: its sectors, or what is wrong with it. Each sector once, in
  // all chains together (no two streams share one).
  const usedSectors = new Set<number>();
  const usedMiniSectors = new Set<number>();
  const chain = (start: number, table: number[], used: Set<number>, what: string): number[] | string => {
    const found: number[] = [];
    let sector: number | null = start;
    while (sector !== END_OF_CHAIN) {
      if (sector === null) return `${what} runs out of the file`;
      if (used.has(sector)) return `${what} loops, or runs into another chain`;
      used.add(sector);
      if (sector >= 0 && table === fat && sector >= sectors) return `${what} names sector ${sector}, past the end of the file`;
      found.push(sector);
      sector = following(sector, table);
    }
    return found;
  };
  const directorySectors = chain(directoryStart, fat, usedSectors, 'the directory chain');
  if (typeof directorySectors === 'string') return directorySectors;
  // Directory entries in chain order, as msgreader numbers them.
  const entries = directorySectors.length * (sectorSize / ENTRY_SIZE);
  const entryAt = (index: number): number => {
    const sector = directorySectors[Math.floor(index / (sectorSize / ENTRY_SIZE))] ?? 0;
    return at(sector) + (index % (sectorSize / ENTRY_SIZE)) * ENTRY_SIZE;
  };
  const entry = (index: number) => {
    const base = entryAt(index);
    return {
      type: base + 0x42 < bytes.length ? (bytes[base + 0x42] ?? 0) : 0,
      previous: int(base + 0x44) ?? NO_INDEX,
      next: int(base + 0x48) ?? NO_INDEX,
      child: int(base + 0x4c) ?? NO_INDEX,
      start: int(base + 0x74) ?? END_OF_CHAIN,
      size: int(base + 0x78) ?? 0,
    };
  };
  if (entries === 0) return 'it has no directory';
  const root = entry(0);
  const rootChain = chain(root.start, fat, usedSectors, "the root entry's chain");
  if (typeof rootChain === 'string') return rootChain;

  // The tree, walked as msgreader builds it: siblings through previous and next, directories' children below.
  const visited = new Uint8Array(entries);
  let bigStreamBytes = 0;
  const walk = (first: number, depth: number): string | null => {
    if (depth > MAX_TREE_DEPTH) return `its directories are nested more than ${MAX_TREE_DEPTH} deep`;
    const stack = [first];
    while (stack.length > 0) {
      const index = stack.pop()!;
      if (index < 0 || index >= entries) return `a directory entry links to entry ${index}, of ${entries}`;
      if (visited[index] === 1) return 'its directory tree loops';
      visited[index] = 1;
      const e = entry(index);
      if (e.type === 1 && e.child !== NO_INDEX) {
        const flaw = walk(e.child, depth + 1);
        if (flaw !== null) return flaw;
      }
      if (e.type === 2 && e.size !== 0) {
        if (e.size < 0 || e.size > bytes.length) return `a stream is ${e.size} bytes long, in a file of ${bytes.length}`;
        if (e.size >= MINI_STREAM_CUTOFF) {
          // Read a sector at a time up to its size: bounded, as long as all streams fit in the file.
          bigStreamBytes += e.size;
          if (bigStreamBytes > bytes.length) return 'its streams together are longer than the file';
        } else {
          const sectorsOfStream = chain(e.start, miniFat, usedMiniSectors, 'a stream in the mini stream');
          if (typeof sectorsOfStream === 'string') return sectorsOfStream;
        }
      }
      if (e.next !== NO_INDEX) stack.push(e.next);
      if (e.previous !== NO_INDEX) stack.push(e.previous);
    }
    return null;
  };
  visited[0] = 1;
  return root.child === NO_INDEX ? null : walk(root.child, 1);
}
