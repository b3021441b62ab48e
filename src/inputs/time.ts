import { tzOffset } from '@date-fns/tz';

export type WallClockResult =
  | { ok: true; instant: Date }
  | { ok: false; problem: 'format' | 'nonexistent' | 'ambiguous' | 'zone'; detail: string };

const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?$/;

export function isValidTimeZone(zone: string): boolean {
  return !Number.isNaN(tzOffset(zone, new Date(0)));
}

/**
 * Turns an election time into an instant. Without an offset it is a wall-clock time in `zone`;
 * a time the clocks skip (spring forward) or pass twice (fall back) is an error, never a guess.
 */
export function resolveElectionTime(text: string, zone: string): WallClockResult {
  const m = LOCAL_RE.exec(text);
  if (!m) return { ok: false, problem: 'format', detail: `"${text}" is not a time of the form YYYY-MM-DDTHH:MM[:SS]` };
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const naive = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(naive);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return { ok: false, problem: 'format', detail: `"${text}" is not a real calendar time` };
  }
  const offsetText = m[7];
  if (offsetText !== undefined) {
    if (offsetText === 'Z') return { ok: true, instant: new Date(naive) };
    const sign = offsetText.startsWith('-') ? -1 : 1;
    const [oh, om] = offsetText.slice(1).split(':').map(Number) as [number, number];
    return { ok: true, instant: new Date(naive - sign * (oh * 60 + om) * 60_000) };
  }
  if (!isValidTimeZone(zone)) return { ok: false, problem: 'zone', detail: `unknown time zone "${zone}"` };
  // Every offset the zone uses within a day either side is a candidate; keep those that map back.
  const offsets = new Set<number>();
  for (const delta of [-36, -12, 0, 12, 36]) offsets.add(tzOffset(zone, new Date(naive + delta * 3_600_000)));
  const solutions = new Set<number>();
  for (const off of offsets) {
    const instant = naive - off * 60_000;
    if (tzOffset(zone, new Date(instant)) === off) solutions.add(instant);
  }
  if (solutions.size === 0) {
    return { ok: false, problem: 'nonexistent', detail: `"${text}" does not exist in ${zone} (the clocks skip it)` };
  }
  if (solutions.size > 1) {
    return { ok: false, problem: 'ambiguous', detail: `"${text}" happens twice in ${zone} (the clocks go back); give an offset such as +01:00` };
  }
  const [only] = [...solutions];
  return { ok: true, instant: new Date(only ?? naive) };
}

/** ISO 8601 UTC to the second, the one time format of the result. */
export function isoSeconds(d: Date): string {
  // toISOString always ends in ".sssZ" (and throws for an invalid date): the milliseconds dropped.
  const iso = d.toISOString();
  return `${iso.slice(0, -5)}Z`;
}

/** Wall-clock rendering in the election's zone for people, e.g. "2024-02-01 12:00:00 GMT". */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Exactly as Intl renders it (en-GB, 24-hour clock, the zone's short name). */
export function formatInZoneByIntl(d: Date, zone: string): string {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(zone, format);
  }
  const parts = format.formatToParts(d);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${get('timeZoneName')}`;
}

const HOUR = 3_600_000;
/** A zone's offset from UTC and short name through one UTC hour; null when they change within it. */
type HourInZone = { offset: number; name: string } | null;
const hours = new Map<string, Map<number, HourInZone>>();
/** Hours remembered a zone, at most: the mail of a count falls in a few hundred. */
const MAX_HOURS = 10_000;

/** The offset and name Intl gives at instant `ms` (to the second). */
function inZoneAt(ms: number, zone: string): { offset: number; name: string } {
  const text = formatInZoneByIntl(new Date(ms), zone);
  const m = /^(\d+)-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) (.*)$/.exec(text);
  if (!m) throw new Error(`internal: Intl wrote ${JSON.stringify(text)} for ${zone}`);
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return { offset: wall - Math.floor(ms / 1000) * 1000, name: m[7] ?? '' };
}

const two = (n: number): string => String(n).padStart(2, '0');

/**
 * formatInZoneByIntl, without asking Intl for every instant (some 5 µs each, half a second for the
 * terminal report of 100,000 messages): a zone's offset and short name are asked for at the first
 * and the last second of the instant's UTC hour, and when they agree (no change of clocks within
 * the hour) the time is worked out from the offset. In an hour whose clocks change, Intl is asked
 * for the instant itself. A test holds the two equal across zones, years and clock changes.
 */
export function formatInZone(d: Date, zone: string): string {
  const ms = d.getTime();
  const year = d.getUTCFullYear();
  // Years of four digits only: Intl writes others its own way.
  if (!Number.isFinite(ms) || year < 1000 || year > 9999) return formatInZoneByIntl(d, zone);
  const hour = Math.floor(ms / HOUR);
  let known = hours.get(zone);
  if (!known) hours.set(zone, (known = new Map()));
  let at = known.get(hour);
  if (at === undefined) {
    const start = inZoneAt(hour * HOUR, zone);
    const end = inZoneAt(hour * HOUR + HOUR - 1000, zone);
    at = start.offset === end.offset && start.name === end.name ? start : null;
    if (known.size >= MAX_HOURS) known.clear();
    known.set(hour, at);
  }
  if (at === null) return formatInZoneByIntl(d, zone);
  const wall = new Date(Math.floor(ms / 1000) * 1000 + at.offset);
  const wallYear = wall.getUTCFullYear();
  if (wallYear < 1000 || wallYear > 9999) return formatInZoneByIntl(d, zone);
  return `${wallYear}-${two(wall.getUTCMonth() + 1)}-${two(wall.getUTCDate())} ${two(wall.getUTCHours())}:${two(wall.getUTCMinutes())}:${two(wall.getUTCSeconds())} ${at.name}`;
}
