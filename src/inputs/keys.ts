import { z } from 'zod';
import { InputError } from '../model/errors.js';
import type { LoadedFile } from './files.js';

/**
 * Pinned DKIM keys (spec §2.5): DNS TXT records by owner name, read from a zone file (the `.txt`
 * that opendkim-genkey writes pastes straight in under `$ORIGIN`) or from mailauth's DNS-cache JSON.
 * Names are lower case without the final dot; each record is its strings, in order.
 */
export type TxtRecords = Map<string, string[][]>;

const IGNORED_TYPES = new Set(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'SOA', 'SRV', 'PTR', 'CAA', 'SPF', 'DS', 'DNSKEY', 'RRSIG', 'NSEC', 'TLSA', 'HTTPS', 'SVCB']);
const CLASSES = new Set(['IN', 'CH', 'HS']);

export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

interface Token {
  text: string;
  quoted: boolean;
  line: number;
}

/** Splits zone text into logical records: comments dropped, parentheses joined, quoted strings kept whole. */
function logicalLines(text: string, file: string): { tokens: Token[]; line: number; indented: boolean }[] {
  const out: { tokens: Token[]; line: number; indented: boolean }[] = [];
  let cur: { tokens: Token[]; line: number; indented: boolean } | null = null;
  let depth = 0;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n] ?? '';
    const lineNo = n + 1;
    if (depth === 0) {
      if (cur && cur.tokens.length > 0) out.push(cur);
      cur = { tokens: [], line: lineNo, indented: /^[ \t]/.test(raw) };
    }
    let i = 0;
    while (i < raw.length) {
      const ch = raw[i] ?? '';
      if (ch === ';') break;
      if (ch === ' ' || ch === '\t') {
        i++;
        continue;
      }
      if (ch === '(') {
        depth++;
        i++;
        continue;
      }
      if (ch === ')') {
        if (depth === 0) throw new InputError('KEYS_INVALID', { file, line: lineNo }, 'unbalanced ")"');
        depth--;
        i++;
        continue;
      }
      if (ch === '"') {
        let s = '';
        i++;
        let closed = false;
        while (i < raw.length) {
          const c = raw[i] ?? '';
          if (c === '\\') {
            const digits = /^\d{3}/.exec(raw.slice(i + 1));
            if (digits) {
              s += String.fromCharCode(Number(digits[0]));
              i += 4;
            } else {
              s += raw[i + 1] ?? '';
              i += 2;
            }
            continue;
          }
          if (c === '"') {
            closed = true;
            i++;
            break;
          }
          s += c;
          i++;
        }
        if (!closed) throw new InputError('KEYS_INVALID', { file, line: lineNo }, 'a quoted string is not closed on its line');
        cur?.tokens.push({ text: s, quoted: true, line: lineNo });
        continue;
      }
      // A word, in which a backslash escapes the character after it, or gives one as \DDD (RFC 1035 §5.1).
      let word = '';
      let escaped = false;
      while (i < raw.length && !/[\s;()"]/.test(raw[i] ?? '')) {
        if (raw[i] === '\\') {
          const digits = /^\d{3}/.exec(raw.slice(i + 1));
          word += digits ? String.fromCharCode(Number(digits[0])) : (raw[i + 1] ?? '');
          i += digits ? 4 : 2;
          escaped = true;
        } else {
          word += raw[i];
          i++;
        }
      }
      // A word with an escape is text, as a quoted string is: never a directive, "@" or a keyword.
      cur?.tokens.push({ text: word, quoted: escaped, line: lineNo });
    }
  }
  if (depth !== 0) throw new InputError('KEYS_INVALID', { file, line: cur?.line }, 'a "(" is never closed');
  if (cur && cur.tokens.length > 0) out.push(cur);
  return out;
}

function parseZone(text: string, file: string): TxtRecords {
  const records: TxtRecords = new Map();
  let origin: string | null = null;
  let lastOwner: string | null = null;
  for (const rec of logicalLines(text, file)) {
    const t = rec.tokens;
    const first = t[0];
    if (!first) continue;
    if (!first.quoted && first.text.startsWith('$')) {
      const directive = first.text.toUpperCase();
      if (directive === '$ORIGIN') {
        const name = t[1]?.text;
        if (!name || !name.endsWith('.')) throw new InputError('KEYS_INVALID', { file, line: rec.line }, '$ORIGIN needs a fully qualified name ending in "."');
        origin = normaliseName(name);
      } else if (directive !== '$TTL') {
        throw new InputError('KEYS_INVALID', { file, line: rec.line }, `${first.text} is not supported in a keys file`);
      }
      continue;
    }
    let k = 0;
    let owner: string;
    if (rec.indented) {
      if (lastOwner === null) throw new InputError('KEYS_INVALID', { file, line: rec.line }, 'a record without an owner name, and none before it');
      owner = lastOwner;
    } else {
      const name = first.text;
      k = 1;
      if (name === '@' && !first.quoted) {
        if (origin === null) throw new InputError('KEYS_INVALID', { file, line: rec.line }, '"@" needs an $ORIGIN before it');
        owner = origin;
      } else if (name.endsWith('.')) owner = normaliseName(name);
      else {
        if (origin === null) throw new InputError('KEYS_INVALID', { file, line: rec.line }, `"${name}" is a relative name: put "$ORIGIN example.gov.uk." before it, or end the name with "."`);
        owner = `${name.toLowerCase()}.${origin}`;
      }
    }
    lastOwner = owner;
    // [ttl] [class] type, in either order for ttl and class.
    for (let guard = 0; guard < 2; guard++) {
      const tok = t[k];
      if (tok && !tok.quoted && (/^\d+[smhdw]?$/i.test(tok.text) || CLASSES.has(tok.text.toUpperCase()))) k++;
    }
    const typeTok = t[k];
    if (!typeTok || typeTok.quoted) throw new InputError('KEYS_INVALID', { file, line: rec.line }, 'no record type (TXT)');
    const type = typeTok.text.toUpperCase();
    if (type !== 'TXT') {
      if (IGNORED_TYPES.has(type)) continue;
      throw new InputError('KEYS_INVALID', { file, line: typeTok.line }, `"${typeTok.text}" is not a record type`);
    }
    const strings = t.slice(k + 1).map((x) => x.text);
    if (strings.length === 0) throw new InputError('KEYS_INVALID', { file, line: rec.line }, `TXT record for ${owner} has no value`);
    const list = records.get(owner) ?? [];
    list.push(strings);
    records.set(owner, list);
  }
  return records;
}

const CacheSchema = z.record(z.string(), z.looseObject({ TXT: z.array(z.union([z.string(), z.array(z.string())])).optional() }));

function parseCacheJson(text: string, file: string): TxtRecords {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError('KEYS_INVALID', { file }, `not valid JSON: ${(e as Error).message}`);
  }
  const parsed = CacheSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError('KEYS_INVALID', { file, field: issue?.path.join('.') }, `not a DNS cache of TXT records: ${issue?.message ?? ''}`);
  }
  const records: TxtRecords = new Map();
  for (const [name, entry] of Object.entries(parsed.data)) {
    if (!entry.TXT) continue;
    records.set(normaliseName(name), entry.TXT.map((r) => (typeof r === 'string' ? [r] : r)));
  }
  return records;
}

export function parseKeysFile(file: LoadedFile): TxtRecords {
  const text = new TextDecoder('utf-8').decode(file.bytes).replace(/^\uFEFF/, '');
  return text.trimStart().startsWith('{') ? parseCacheJson(text, file.path) : parseZone(text, file.path);
}

/**
 * A TXT string as a zone file's quoted string: a backslash and a double quote escaped, and every
 * control character (a line break above all) as \DDD (RFC 1035 §5.1), which parseZone reads back as
 * the same character. DNS answers are the sender's to choose (a key named in their own signature):
 * a record holding a line break had written a file that the count could then not read.
 */
function zoneEscaped(s: string): string {
  return s.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => (c === '\\' || c === '"' ? `\\${c}` : `\\${String(c.charCodeAt(0)).padStart(3, '0')}`));
}

/**
 * A name as a zone file's owner: every ASCII character but letters, digits, "-", "_" and the dots
 * between labels as \DDD (others are no character a zone file gives a meaning). The names are
 * those the signatures on the mailbox's messages give (s= and d=), which a sender may fill with
 * "(", '"' or "\\": written as they came, they had opened a group or a string that ran over the
 * lines after, and the file could not be read.
 */
function zoneName(name: string): string {
  return name.replace(/[\u0000-\u002c/:-@[-^`{-\u007f]/g, (c) => `\\${String(c.charCodeAt(0)).padStart(3, '0')}`);
}

/**
 * A keys file of what a live count fetched: fully qualified names, each string at most 255 bytes. A
 * name DNS had no record for is written with an empty string, so that a count with the file judges
 * its signatures as the live count did (no key), rather than as never looked up.
 */
export function renderKeysFile(records: TxtRecords): string {
  const lines = ['; DKIM keys fetched from DNS by ccin-tally --dns --save-keys; pin with --keys', ''];
  for (const name of [...records.keys()].sort()) {
    const found = records.get(name) ?? [];
    const owner = zoneName(name);
    if (found.length === 0) lines.push(`${owner}. IN TXT "" ; no such record in DNS when fetched: no key`);
    for (const record of found) {
      const joined = record.join('');
      const parts: string[] = [];
      for (let i = 0; i < joined.length; i += 250) parts.push(joined.slice(i, i + 250));
      if (parts.length === 0) parts.push('');
      const quoted = parts.map((p) => `"${zoneEscaped(p)}"`);
      lines.push(quoted.length === 1 ? `${owner}. IN TXT ${quoted[0]}` : `${owner}. IN TXT ( ${quoted.join('\n    ')} )`);
    }
  }
  return lines.join('\n') + '\n';
}
