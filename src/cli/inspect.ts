import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChalkInstance } from 'chalk';
import { InputError } from '../model/errors.js';
import type { MessageRecord, ResultModel } from '../model/result.js';
import { DEFAULT_READ_LIMITS, readForOfficer } from '../read/message.js';
import { safe } from '../report/sanitize.js';
import { DEFAULT_LIMITS } from '../sources/types.js';
import { walkSources } from '../sources/walk.js';
import { writeAtomic } from './outputs.js';

/**
 * `inspect` takes mailbox paths and, among them, the ids the report prints: a SHA-256 prefix (at
 * least 8 hex digits), `file#index` (or a one-message file's name), or a Message-ID. An argument
 * that is an existing path is a path; anything else is an id.
 */
export function splitPathsAndIds(args: readonly string[]): { paths: string[]; ids: string[] } {
  const paths: string[] = [];
  const ids: string[] = [];
  for (const a of args) (existsSync(a) ? paths : ids).push(a);
  return { paths, ids };
}

/** "mailbox/ballots.mbox#2" is named by itself or by any tail of its path, such as "ballots.mbox#2". */
const namedBy = (name: string, key: string): boolean => {
  const n = name.toLowerCase();
  return n === key || n.endsWith(`/${key}`);
};
const bare = (s: string): string => s.trim().replace(/^<|>$/g, '').toLowerCase();

/** The messages an id names; an id that names none, or a short prefix that names several, is an input error. */
export function selectMessages(result: ResultModel, ids: readonly string[]): MessageRecord[] {
  if (ids.length === 0) return result.messages;
  const chosen = new Set<MessageRecord>();
  for (const id of ids) {
    const key = id.trim().toLowerCase();
    let found: MessageRecord[];
    if (/^[0-9a-f]{8,64}$/.test(key)) found = result.messages.filter((m) => m.sha256.startsWith(key));
    else if (key.includes('#')) found = result.messages.filter((m) => namedBy(`${m.source.file}#${m.source.index ?? ''}`, key));
    else found = result.messages.filter((m) => (m.messageId !== null && bare(m.messageId) === bare(key)) || (m.source.index === null && namedBy(m.source.file, key)));
    if (found.length === 0) {
      throw new InputError('FILE_NOT_FOUND', { file: id }, 'neither a path nor the id of a message in this count (a SHA-256 prefix of 8 or more hex digits, file#index as the report prints it, or a Message-ID)');
    }
    // A message and its copies share a SHA-256: naming it names them all.
    if (new Set(found.map((m) => m.sha256)).size > 1 && /^[0-9a-f]+$/.test(key)) {
      throw new InputError('FILE_NOT_FOUND', { file: id }, `names ${found.length} messages; give more of the SHA-256`);
    }
    for (const m of found) chosen.add(m);
  }
  return result.messages.filter((m) => chosen.has(m));
}

const TEXT_LIMIT = 4000;

/**
 * For the chosen messages, what a person reads to judge them: their own text, the forwarded part,
 * and (with `saveTo`) their attachments written out to open. Reads the mailbox again, one message
 * at a time; nothing of it enters the result.
 */
export async function officerView(paths: readonly string[], chosen: readonly MessageRecord[], colour: ChalkInstance, saveTo: string | undefined): Promise<string> {
  const wanted = new Map(chosen.map((m) => [`${m.sha256}@${m.source.file}#${m.source.index ?? ''}`, m]));
  if (saveTo !== undefined) await mkdir(saveTo, { recursive: true });
  const out: string[] = [];
  const walk = walkSources(paths, DEFAULT_LIMITS);
  for await (const raw of walk.messages) {
    const m = wanted.get(`${raw.sha256}@${raw.source.file}#${raw.source.index ?? ''}`);
    if (!m) continue;
    out.push(colour.bold(`${raw.source.file}${raw.source.index !== null ? ` #${raw.source.index}` : ''} · ${m.sha256.slice(0, 16)} · ${m.disposition}${m.reason ? `: ${m.reason}` : ''}`));
    const view = await readForOfficer(raw, DEFAULT_READ_LIMITS);
    if ('unreadable' in view) {
      out.push(`  cannot be read again: ${safe(view.unreadable)}`, '');
      continue;
    }
    const block = (label: string, text: string): void => {
      const t = text.trim();
      if (t === '') return;
      out.push(`  ── ${label} ──`);
      for (const line of (t.length > TEXT_LIMIT ? `${t.slice(0, TEXT_LIMIT)}\n[… ${t.length - TEXT_LIMIT} more characters]` : t).split('\n')) out.push(`  │ ${safe(line, 300)}`);
    };
    block('what the sender wrote', view.own);
    if (view.forwarded !== null) block('the forwarded message', view.forwarded);
    if (view.html !== null) block(view.shown.length === 0 ? 'its HTML version, as a mail client shows it' : 'its HTML version, all it holds (as the machine reads it)', view.html);
    for (const v of view.shown) {
      if (v.text !== null) block(`its HTML, as ${v.client} shows it`, v.text);
      else out.push(`  ── its HTML, as ${v.client} shows it: cannot be told (${safe(v.why ?? '', 300)}) ──`);
    }
    if (view.quoted.trim() !== '') out.push(`  (${view.quoted.split('\n').length} line(s) of quoted reply text not shown)`);
    for (const [i, a] of view.attachments.entries()) {
      let where = '';
      if (saveTo !== undefined) {
        const name = `${m.sha256.slice(0, 12)}-${i + 1}-${(a.filename ?? 'attachment').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}`;
        await writeAtomic(join(saveTo, name), a.content);
        where = ` → saved as ${join(saveTo, name)}`;
      }
      out.push(`  attachment ${i + 1}: ${safe(a.filename ?? '(unnamed)')} (${safe(a.contentType)}, ${a.content.length} bytes)${where}`);
    }
    out.push('');
  }
  return out.join('\n');
}
