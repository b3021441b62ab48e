import { z } from 'zod';
import { domainToUnicode } from 'node:url';
import { getPublicSuffix } from 'tldts';
import { asciiLower, readAddress, visualSkeleton } from '../model/address.js';
import { InputError } from '../model/errors.js';
import { councilKey, councilWrittenExactly, foldText, nameTokens } from '../model/names.js';
import { eachCsvRow, missingColumns } from './csv.js';
import type { LoadedFile } from './files.js';
import type { Membership } from './election.js';

export interface Council {
  id: string;
  name: string;
  membership: Membership;
  leader: string | null;
  mayor: string | null;
  emails: string[];
  domains: string[];
  /** Line of the roster the council is on, for messages. */
  line: number;
}

export interface Roster {
  councils: Council[];
  encoding: 'utf-8' | 'windows-1252';
}

export const ROSTER_COLUMNS = ['council_id', 'council', 'membership', 'leader', 'mayor', 'emails', 'domains'] as const;

const EMAIL_RE = /^[^\s@<>(),;:"[\]]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;
const DOMAIN_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;
/**
 * Names shared by many organisations that the Public Suffix List holds as domains, not suffixes
 * (every school under sch.uk, every Microsoft 365 tenant under onmicrosoft.com); every suffix it
 * lists (gov.uk, co.uk, gov.scot…) is refused by asking it.
 */
const TOO_BROAD = new Set(['sch.uk', 'gov.wales', 'llyw.cymru', 'onmicrosoft.com']);

/**
 * Public mail services, where anyone may open an address: a council's domain is never one. A
 * leader who votes from such an address is listed by that address, in `emails`.
 */
const MAIL_SERVICES = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'live.com', 'live.co.uk', 'msn.com',
  'yahoo.com', 'yahoo.co.uk', 'ymail.com', 'icloud.com', 'me.com', 'mac.com', 'aol.com', 'aol.co.uk', 'proton.me',
  'protonmail.com', 'pm.me', 'gmx.com', 'gmx.co.uk', 'gmx.net', 'mail.com', 'zoho.com', 'yandex.com', 'fastmail.com',
  'btinternet.com', 'sky.com', 'virginmedia.com', 'talktalk.net', 'tiscali.co.uk', 'ntlworld.com',
]);

/** The Public Suffix List, its private part too, for a domain already checked (DOMAIN_RE) and lower-cased. */
const PSL_OPTIONS = { allowPrivateDomains: true, extractHostname: false, validateHostname: false, detectIp: false, mixedInputs: false } as const;

/**
 * Why a domain cannot be a council's in `domains`, where every address under it is the council's:
 * a suffix (gov.uk, com, github.io: the Public Suffix List's, its private part too) or a public
 * mail service would give the council every sender under it. Null when it can be.
 */
function tooBroadDomain(domain: string): string | null {
  if (TOO_BROAD.has(domain) || getPublicSuffix(domain, PSL_OPTIONS) === domain) {
    return 'names a suffix shared by many organisations (every address under it would be this council\'s)';
  }
  if (MAIL_SERVICES.has(domain)) {
    return 'names a public mail service, where anyone may open an address: list the leader\'s own address in emails instead';
  }
  return null;
}

const list = (s: string): string[] =>
  s
    .split(';')
    .map((x) => asciiLower(x.trim()))
    .filter((x) => x.length > 0);

const MEMBERSHIP: Record<'full' | 'associate' | 'affiliate', Membership> = { full: 'Full', associate: 'Associate', affiliate: 'Affiliate' };

const RowSchema = z.object({
  council_id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'must be letters, digits, "-" or "_"'),
  council: z.string().min(1, 'must not be empty'),
  membership: z
    .string()
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.enum(['full', 'associate', 'affiliate'], { message: 'must be Full, Associate or Affiliate' }))
    // One string per kind, not one per council.
    .transform((s) => MEMBERSHIP[s]),
  leader: z.string(),
  mayor: z.string(),
  emails: z
    .string()
    .transform(list)
    .pipe(z.array(z.string().regex(EMAIL_RE, 'must be e-mail addresses separated by ";"'))),
  domains: z
    .string()
    .transform(list)
    .pipe(
      z.array(
        z
          .string()
          .regex(DOMAIN_RE, 'must be domain names separated by ";"')
          .superRefine((d, ctx) => {
            const why = tooBroadDomain(d);
            if (why !== null) ctx.addIssue({ code: 'custom', message: `${d} ${why}` });
          }),
      ),
    ),
});

export function parseRoster(file: LoadedFile): Roster {
  const index = new Map<string, number>();
  const onHeader = (names: string[]): void => {
    names.forEach((n, i) => {
      if (index.has(n) && (ROSTER_COLUMNS as readonly string[]).includes(n)) {
        throw new InputError('CSV_HEADER', { file: file.path, line: 1, column: n }, `column "${n}" appears twice`);
      }
      index.set(n, i);
    });
    const missing = missingColumns(names, ROSTER_COLUMNS);
    if (missing !== null) throw new InputError('CSV_HEADER', { file: file.path, line: 1 }, `${missing}; the header is: ${names.join(',')}`);
  };

  const councils: Council[] = [];
  const byId = new Map<string, Council>();
  const emailOwner = new Map<string, Council>();
  const domainOwner = new Map<string, Council>();
  // Each row is checked and made a council as it is read: the rows of a large roster are never all held.
  const onRow = (record: string[], line: number): void => {
    const obj: Record<string, string> = {};
    for (const col of ROSTER_COLUMNS) obj[col] = record[index.get(col) ?? -1] ?? '';
    const parsed = RowSchema.safeParse(obj);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue?.path[0] ?? '');
      const value = obj[field] ?? '';
      throw new InputError('ROSTER_INVALID', { file: file.path, line, column: field }, `${issue?.message ?? 'invalid'} (value: ${JSON.stringify(value)})`);
    }
    const r = parsed.data;
    const council: Council = {
      id: r.council_id,
      name: r.council,
      membership: r.membership,
      leader: r.leader === '' ? null : r.leader,
      mayor: r.mayor === '' ? null : r.mayor,
      emails: [...new Set(r.emails)],
      domains: [...new Set(r.domains)],
      line,
    };
    const prior = byId.get(council.id.toLowerCase());
    if (prior) {
      throw new InputError('ROSTER_CONFLICT', { file: file.path, line, column: 'council_id' }, `council_id "${council.id}" is already used on line ${prior.line}`);
    }
    byId.set(council.id.toLowerCase(), council);
    for (const e of council.emails) {
      const other = emailOwner.get(e);
      if (other) throw new InputError('ROSTER_CONFLICT', { file: file.path, line, column: 'emails' }, `address ${e} is also claimed by ${other.id} (line ${other.line})`);
      emailOwner.set(e, council);
    }
    for (const d of council.domains) {
      const other = domainOwner.get(d);
      if (other) throw new InputError('ROSTER_CONFLICT', { file: file.path, line, column: 'domains' }, `domain ${d} is also claimed by ${other.id} (line ${other.line})`);
      domainOwner.set(d, council);
    }
    councils.push(council);
  };
  const { encoding } = eachCsvRow(file, {}, onHeader, onRow);
  if (index.size === 0) throw new InputError('CSV_HEADER', { file: file.path, line: 1 }, 'the roster is empty');
  // A council typed twice under two ids would be counted twice: the same name, or the same person as leader or mayor.
  const nameOwner = new Map<string, Council>();
  const personOwner = new Map<string, { council: Council; column: string }>();
  for (const c of councils) {
    const key = foldText(c.name.replace(/&/g, ' and '));
    const other = nameOwner.get(key);
    if (other) throw new InputError('ROSTER_CONFLICT', { file: file.path, line: c.line, column: 'council' }, `"${c.name}" is also council ${other.id} on line ${other.line}: one council, two ids?`);
    nameOwner.set(key, c);
    for (const [column, person] of [['leader', c.leader], ['mayor', c.mayor]] as const) {
      if (person === null) continue;
      const who = nameTokens(person).join(' ');
      if (who === '') continue;
      const prior = personOwner.get(who);
      if (prior && prior.council !== c) {
        throw new InputError('ROSTER_CONFLICT', { file: file.path, line: c.line, column }, `${person} is also the ${prior.column} of ${prior.council.id} on line ${prior.council.line}: one council, two ids?`);
      }
      personOwner.set(who, { council: c, column });
    }
  }
  // An address listed for one council inside a domain listed for another is claimed by both.
  for (const [email, owner] of emailOwner) {
    const other = ownerOfDomain(domainOwner, email.slice(email.lastIndexOf('@') + 1));
    if (other && other !== owner) {
      throw new InputError('ROSTER_CONFLICT', { file: file.path, line: owner.line, column: 'emails' }, `address ${email} lies in domain of ${other.id} (line ${other.line})`);
    }
  }
  if (councils.length === 0) throw new InputError('ROSTER_INVALID', { file: file.path, line: 2 }, 'the roster lists no councils');
  return { councils, encoding };
}

function ownerOfDomain(domainOwner: Map<string, Council>, domain: string): Council | undefined {
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const c = domainOwner.get(labels.slice(i).join('.'));
    if (c) return c;
  }
  return undefined;
}

export type SenderMatch = { council: Council; by: 'email' | 'domain'; matched: string } | null;

interface RosterIndex {
  emails: Map<string, Council>;
  domains: Map<string, Council>;
  /**
   * Councils by the words of their name ("Borough Council" and the like removed), and by id. A
   * council alone under its words is held as itself, not in a list of one (5 MB at 100,000 councils).
   */
  names: Map<string, Council | Council[]>;
  ids: Map<string, Council>;
}
const indexes = new WeakMap<Roster, RosterIndex>();

/** Addresses and domains of the roster, indexed once per roster: a lookup costs the same whatever its size. */
function rosterIndex(roster: Roster): RosterIndex {
  let idx = indexes.get(roster);
  if (!idx) {
    idx = { emails: new Map(), domains: new Map(), names: new Map(), ids: new Map() };
    for (const c of roster.councils) {
      const key = councilKey(c.name);
      const named = idx.names.get(key);
      if (named === undefined) idx.names.set(key, c);
      else if (Array.isArray(named)) named.push(c);
      else idx.names.set(key, [named, c]);
      idx.ids.set(c.id, c);
      for (const e of c.emails) idx.emails.set(e, c);
      for (const d of c.domains) idx.domains.set(d, c);
    }
    indexes.set(roster, idx);
  }
  return idx;
}

/**
 * The roster's domains by their visual skeleton, for look-alikes: made when a sender outside the
 * roster is first met, not before (a count where every sender is on the roster never needs it:
 * some 15 MB at 100,000 councils).
 */
const skeletonIndexes = new WeakMap<Roster, Map<string, { council: Council; domain: string }>>();
function skeletonIndex(roster: Roster): Map<string, { council: Council; domain: string }> {
  let skeletons = skeletonIndexes.get(roster);
  if (!skeletons) {
    skeletons = new Map();
    for (const c of roster.councils) {
      for (const d of [...c.domains, ...c.emails.map((e) => e.slice(e.lastIndexOf('@') + 1))]) {
        skeletons.set(visualSkeleton(d, domainToUnicode), { council: c, domain: d });
      }
    }
    skeletonIndexes.set(roster, skeletons);
  }
  return skeletons;
}

/**
 * The council a sender address belongs to: its address listed, else its domain or a parent domain
 * (most specific first). Compared byte for byte after ASCII case-folding (see model/address.ts): an
 * address outside ASCII, or that is not an address, belongs to no council.
 */
export function councilForAddress(roster: Roster, address: string): SenderMatch {
  const a = readAddress(address);
  if (!a.ok) return null;
  const idx = rosterIndex(roster);
  const byEmail = idx.emails.get(a.address);
  if (byEmail) return { council: byEmail, by: 'email', matched: a.address };
  const labels = a.domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const d = labels.slice(i).join('.');
    const c = idx.domains.get(d);
    if (c) return { council: c, by: 'domain', matched: d };
  }
  return null;
}

/**
 * A roster domain that the address's domain imitates (a look-alike: other scripts' letters, punycode,
 * compatibility forms), for a warning to the officer. Never used to attribute a message.
 */
export function lookalikeOf(roster: Roster, address: string): { council: Council; domain: string } | null {
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const domain = address.slice(at + 1).trim();
  if (councilForAddress(roster, address)) return null;
  const skeleton = visualSkeleton(domain, domainToUnicode);
  const labels = skeleton.split('.');
  const skeletons = skeletonIndex(roster);
  for (let i = 0; i < labels.length - 1; i++) {
    const hit = skeletons.get(labels.slice(i).join('.'));
    if (hit) return hit;
  }
  return null;
}

/** The roster councils a paper's "Council:" line names exactly (its name's words, or its id), found by index. */
export function councilsNamedExactly(roster: Roster, written: string): Council[] {
  const w = councilWrittenExactly(written);
  if (w.key === '') return [];
  const idx = rosterIndex(roster);
  const byId = idx.ids.get(w.asId);
  const found = idx.names.get(w.key);
  const named = found === undefined ? [] : Array.isArray(found) ? found : [found];
  return byId && !named.includes(byId) ? [...named, byId] : named;
}
