/**
 * Exception expiry. A date (`2026-12-31`) means the exception lasts through
 * that whole day in the policy's time zone, so it ends at the next midnight
 * there; a timestamp means that instant (local to the policy's time zone when
 * it carries no offset).
 */
import { zonedTimeToEpochMs } from './timezone.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

export const EXPIRES_HINT = 'write a date (2026-12-31) or an ISO 8601 timestamp (2026-12-31T18:00:00Z)';

/** True when the value has the shape of a date or timestamp that names a real day and time. */
export function isExpiresValue(value: unknown): boolean {
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (typeof value !== 'string') return false;
  const m = DATE.exec(value) ?? TIMESTAMP.exec(value);
  if (!m) return false;
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1, 7);
  return realDate(Number(y), Number(mo), Number(d)) && Number(h) < 24 && Number(mi) < 60 && Number(s) < 60;
}

/** Epoch seconds at which the exception stops being live; null when the value is not an expiry. */
export function expiresAtEpochS(value: unknown, timeZone: string): number | null {
  if (!isExpiresValue(value)) return null;
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  const text = value as string;
  const date = DATE.exec(text);
  if (date) {
    // The day after, at 00:00 local: the first instant no longer covered.
    const next = new Date(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]) + 1));
    const ms = zonedTimeToEpochMs(
      { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() },
      timeZone,
    );
    return Math.floor(ms / 1000);
  }
  const m = TIMESTAMP.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', zulu, sign, oh, om] = m;
  const local = {
    year: Number(y), month: Number(mo), day: Number(d),
    hour: Number(h), minute: Number(mi), second: Number(s),
  };
  if (zulu || sign) {
    const offsetMin = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
    const utc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
    return Math.floor(utc / 1000) - offsetMin * 60;
  }
  return Math.floor(zonedTimeToEpochMs(local, timeZone) / 1000);
}

function realDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}
