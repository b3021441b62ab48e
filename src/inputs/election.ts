import { z } from 'zod';
import { InputError } from '../model/errors.js';
import { editDistance } from '../model/names.js';
import { lineOfPath, readJsonFile } from './json-locate.js';
import type { LoadedFile } from './files.js';
import { isValidTimeZone, resolveElectionTime } from './time.js';

const hostName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, 'must be a host name');

export const ElectionFileSchema = z.strictObject({
  id: z.string().min(1),
  title: z.string().min(1),
  vacancies: z.number().int().min(1),
  method: z.literal('plurality'),
  candidates: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "-" or "_"'),
        name: z.string().min(1),
        council: z.string().min(1).optional(),
      }),
    )
    .min(1),
  opens: z.string().optional(),
  deadline: z.string(),
  timezone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/London'),
  ballotAddress: z.email(),
  eligibleMembership: z.array(z.enum(['Full', 'Associate', 'Affiliate'])).min(1).default(['Full']),
  signOffRoles: z.array(z.enum(['Leader', 'Mayor'])).min(1).default(['Leader', 'Mayor']),
  receivedBy: z.array(hostName).optional(),
  receivedVia: z.enum(['microsoft365', 'google', 'postfix']).optional(),
  authservId: z.array(z.string().min(1)).optional(),
  dkim: z.enum(['require', 'prefer', 'off']).default('prefer'),
  duplicates: z.enum(['latest', 'first', 'reject']).default('latest'),
  references: z.enum(['required', 'optional']).default('optional'),
  tieBreak: z
    .strictObject({
      method: z.literal('lot'),
      seed: z.string().min(1).optional(),
    })
    .optional(),
});
export type ElectionFile = z.infer<typeof ElectionFileSchema>;

export type Membership = 'Full' | 'Associate' | 'Affiliate';
export type Role = 'Leader' | 'Mayor';

export interface Candidate {
  id: string;
  name: string;
  council: string | null;
}

/** The election as the rest of the program sees it: validated, with times resolved to instants. */
export interface Election {
  id: string;
  title: string;
  vacancies: number;
  method: 'plurality';
  candidates: Candidate[];
  opens: Date | null;
  deadline: Date;
  /** The times as written in the file, for the report. */
  opensText: string | null;
  deadlineText: string;
  timezone: string;
  ballotAddress: string;
  eligibleMembership: Membership[];
  signOffRoles: Role[];
  receivedBy: string[] | null;
  /** The service that received the ballots (see read/services.ts); null for none named. */
  receivedVia: 'microsoft365' | 'google' | 'postfix' | null;
  authservId: string[] | null;
  dkim: 'require' | 'prefer' | 'off';
  duplicates: 'latest' | 'first' | 'reject';
  /** `required`: papers were issued with references; counting needs `--issued`, and a paper without its reference is wrong-reference. */
  references: 'required' | 'optional';
  tieBreakSeed: string | null;
}

const CANDIDATE_KEYS = ['id', 'name', 'council'];
const TIE_BREAK_KEYS = ['method', 'seed'];

/** The keys the election file allows at a place in it. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(ElectionFileSchema.shape);
  if (path[0] === 'candidates') return CANDIDATE_KEYS;
  if (path[0] === 'tieBreak') return TIE_BREAK_KEYS;
  return [];
}

/** The allowed key a misspelling most likely meant: at most two edits away (case aside), and fewer than half its letters, or none. */
function closestKey(written: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(written.toLowerCase(), k.toLowerCase());
    if (d < bestDistance && d * 2 < written.length) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** The value at `path` inside a parsed JSON value, and whether there is one (a key may hold null). */
function valueAt(root: unknown, path: readonly PropertyKey[]): { present: boolean; value: unknown } {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return { present: false, value: undefined };
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return { present: true, value: cur };
}

/** "a number", "an array", … for zod's expected type. */
function article(expected: string): string {
  const name = expected === 'array' ? 'list' : expected;
  return `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`;
}

/** A JSON value as a slip shows it: its kind, and a short value as written. */
function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v);
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `${typeof v === 'string' ? 'the text' : typeof v === 'number' ? 'the number' : 'the value'} ${shown}`;
}

function issuePath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : (s ? '.' : '') + String(p);
  return s;
}

export function parseElection(file: LoadedFile): Election {
  const { text, value: raw } = readJsonFile(file);
  const parsed = ElectionFileSchema.safeParse(raw);
  if (!parsed.success) {
    // An unknown key first: a misspelt required key is also reported missing, and the spelling is the slip to name.
    const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys') ?? parsed.error.issues[0];
    if (!issue) throw new InputError('ELECTION_INVALID', { file: file.path }, 'invalid election file');
    let path = issue.path;
    let detail = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      path = [...issue.path, key];
      const line = lineOfPath(text, path);
      const guess = closestKey(key, knownKeys(issue.path));
      detail = `unknown key \`${key}\`${line !== undefined ? ` on line ${line}` : ''}${guess ? ` — did you mean \`${guess}\`?` : ''}${issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).map((k) => `\`${k}\``).join(', ')})` : ''}`;
    } else if (issue.code === 'invalid_type') {
      // zod keeps no input in its issues (unless asked): whether the key is there is read from the file's value.
      const found = valueAt(raw, path);
      detail = found.present
        ? `must be ${article(issue.expected)}, not ${describeJson(found.value)}`
        : `the required key \`${String(path[path.length - 1] ?? '')}\` is missing`;
    }
    const field = issuePath(path) || '(top level)';
    throw new InputError('ELECTION_INVALID', { file: file.path, line: lineOfPath(text, path), field }, detail);
  }
  const f = parsed.data;
  const where = (key: string): { file: string; line: number | undefined; field: string } => ({
    file: file.path,
    line: lineOfPath(text, [key]),
    field: key,
  });

  const ids = new Set<string>();
  f.candidates.forEach((c, i) => {
    if (ids.has(c.id)) {
      throw new InputError('ELECTION_INVALID', { file: file.path, line: lineOfPath(text, ['candidates', i, 'id']), field: `candidates[${i}].id` }, `duplicate candidate id "${c.id}"`);
    }
    ids.add(c.id);
  });
  const deadline = resolveElectionTime(f.deadline, f.timezone);
  if (!deadline.ok) throw new InputError('ELECTION_TIME', where('deadline'), deadline.detail);
  let opens: Date | null = null;
  if (f.opens !== undefined) {
    const o = resolveElectionTime(f.opens, f.timezone);
    if (!o.ok) throw new InputError('ELECTION_TIME', where('opens'), o.detail);
    if (o.instant.getTime() >= deadline.instant.getTime()) {
      throw new InputError('ELECTION_TIME', where('opens'), 'voting must open before the deadline');
    }
    opens = o.instant;
  }
  if ((f.receivedVia === 'microsoft365' || f.receivedVia === 'google') && f.receivedBy !== undefined) {
    throw new InputError(
      'ELECTION_INVALID',
      where('receivedBy'),
      `"receivedVia": "${f.receivedVia}" names the service whose edge servers receive the ballots; "receivedBy" is for a server of your own. Give one of them`,
    );
  }
  if (f.receivedVia === 'postfix' && f.receivedBy === undefined) {
    throw new InputError('ELECTION_INVALID', where('receivedVia'), '"receivedVia": "postfix" (your own server) needs "receivedBy": the host names it writes in its Received headers');
  }
  if (f.tieBreak?.seed !== undefined && f.tieBreak.seed.trim() === '') {
    throw new InputError('ELECTION_INVALID', where('tieBreak'), 'the lot seed must not be blank');
  }
  return {
    id: f.id,
    title: f.title,
    vacancies: f.vacancies,
    method: f.method,
    candidates: f.candidates.map((c) => ({ id: c.id, name: c.name, council: c.council ?? null })),
    opens,
    deadline: deadline.instant,
    opensText: f.opens ?? null,
    deadlineText: f.deadline,
    timezone: f.timezone,
    ballotAddress: f.ballotAddress.toLowerCase(),
    eligibleMembership: [...new Set(f.eligibleMembership)],
    signOffRoles: [...new Set(f.signOffRoles)],
    receivedBy: f.receivedBy ? f.receivedBy.map((h) => h.toLowerCase()) : null,
    receivedVia: f.receivedVia ?? null,
    authservId: f.authservId ?? null,
    dkim: f.dkim,
    duplicates: f.duplicates,
    references: f.references,
    tieBreakSeed: f.tieBreak?.seed ?? null,
  };
}
