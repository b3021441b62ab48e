import type { Role } from '../inputs/election.js';
import type { Council } from '../inputs/roster.js';
import { compareNames, foldText, type NameComparison } from '../model/names.js';

const NOT_THE_ROLE =
  /\b(deputy|assistant|vice|acting|interim|former|ex|shadow|opposition|chief executive|executive director|director|pa|secretary|officer|clerk|on behalf|for and on behalf|support|manager|cabinet member)\b/;

/**
 * The role a written Position names, read as people write it: "Leader of the Council", "Council
 * Leader" and "Leader" are Leader; "Elected Mayor", "Mayor" are Mayor; "Deputy Leader", "Chief
 * Executive", "Leader of the Opposition" are neither.
 */
export function roleOfPosition(position: string): Role | null {
  const f = foldText(position);
  if (NOT_THE_ROLE.test(f)) {
    // "Leader and Cabinet Member for Finance" is still the Leader.
    if (/\bcabinet member\b/.test(f) && /^(?:the )?(?:council )?leader\b/.test(f) && !/\b(deputy|assistant|vice|acting|opposition)\b/.test(f)) return 'Leader';
    return null;
  }
  if (/\bleader\b/.test(f)) return 'Leader';
  if (/\bmayor\b/.test(f)) return 'Mayor';
  return null;
}

export type SignOffFinding =
  | { result: 'ok'; role: Role; expected: string }
  | { result: 'no-sign-off'; detail: string }
  | { result: 'mismatch'; role: Role; expected: string | null; detail: string }
  | { result: 'near-miss'; role: Role; expected: string; detail: string };

const MAX_NAME_WITH_ROLE = 200;

/**
 * A Name line that also gives the role ("Cllr Elliot Kirkland, Leader", "Cllr Elliot Kirkland
 * (Leader of the Council)", "Cllr Elliot Kirkland – Leader"): the name, and the role as written.
 * Null when what follows the name names no leader or mayor (a surname written first, "Kirkland, Elliot").
 */
export function roleInName(name: string): { name: string; position: string } | null {
  // No name with a role beside it is this long; a longer text (a form field can hold megabytes) is read as written.
  if (name.length > MAX_NAME_WITH_ROLE) return null;
  const m = /^(.*?\S)\s*(?:,|\(|\s[-–—]\s)\s*([^,()]*?)\)?\s*$/.exec(name.trim());
  if (!m) return null;
  const [, before = '', tail = ''] = m;
  // A position, whether or not it is a sign-off role ("Deputy Leader" is then named as the Position it is).
  return /\b(leader|mayor)\b/.test(foldText(tail)) ? { name: before, position: tail } : null;
}

export function checkSignOff(writtenName: string | null, writtenPosition: string | null, council: Council, roles: readonly Role[]): SignOffFinding {
  if (writtenName === null || writtenName.trim() === '') return { result: 'no-sign-off', detail: 'the paper has no Name' };
  // The role written beside the name is the Position when the Position line is left blank; the name is compared without it.
  const found = roleInName(writtenName);
  const blankPosition = writtenPosition === null || writtenPosition.trim() === '';
  // Beside a Position line, a role in the name line is set aside only when it names the same role:
  // "Cllr X (Deputy Leader)" above "Position: Leader" is compared as written, and so is no match.
  const inName = found !== null && (blankPosition || roleOfPosition(found.position) === roleOfPosition(writtenPosition ?? '')) ? found : null;
  const name = inName?.name ?? writtenName;
  const position = blankPosition ? (inName?.position ?? null) : writtenPosition;
  if (position === null || position.trim() === '') return { result: 'no-sign-off', detail: 'the paper has no Position' };
  const role = roleOfPosition(position);
  if (role === null) return { result: 'no-sign-off', detail: `Position "${position}" is not a Leader or Mayor` };
  if (!roles.includes(role)) return { result: 'no-sign-off', detail: `Position "${position}" (${role}) is not one of the election's sign-off roles (${roles.join(', ')})` };
  const expected = role === 'Leader' ? council.leader : council.mayor;
  if (expected === null) {
    return { result: 'mismatch', role, expected: null, detail: `the roster lists no ${role} for ${council.name}` };
  }
  const cmp: NameComparison = compareNames(name, expected);
  if (cmp === 'same') return { result: 'ok', role, expected };
  if (cmp === 'near-miss') return { result: 'near-miss', role, expected, detail: `signed "${writtenName}"; the roster's ${role} is "${expected}"` };
  return { result: 'mismatch', role, expected, detail: `signed "${writtenName}"; the roster's ${role} is "${expected}"` };
}
