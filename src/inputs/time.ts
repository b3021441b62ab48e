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
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Wall-clock rendering in the election's zone for people, e.g. "2024-02-01 12:00:00 GMT". */
const formatters = new Map<string, Intl.DateTimeFormat>();

export function formatInZone(d: Date, zone: string): string {
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
