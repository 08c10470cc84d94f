/**
 * Weekly time windows (business hours, a scope's allowed hours) and the test
 * of an instant against one, in the policy's time zone.
 */
import type { HoursWindow, Weekday } from './types.js';
import { zonedParts } from './timezone.js';

export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const CLOCK = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/**
 * Minutes after midnight for `HH:MM`, or null. `24:00` is accepted only
 * where `allowEndOfDay` says so: it is a valid end of a window, never a start.
 */
export function parseClock(value: string, allowEndOfDay = false): number | null {
  if (allowEndOfDay && value === '24:00') return 1440;
  const m = CLOCK.exec(value);
  if (!m) return null;
  return Number(m[1]) * 60 + Number(m[2]);
}

/** `HH:MM` for minutes after midnight. */
export function formatClock(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/**
 * Whether the wall clock in `timeZone` at `epochS` lies in the window. A
 * window whose end is earlier than its start runs past midnight and belongs to
 * the day it starts on (`fri 22:00–06:00` covers Saturday 03:00).
 */
export function isWithinHours(window: HoursWindow, timeZone: string, epochS: number): boolean {
  const p = zonedParts(epochS * 1000, timeZone);
  const minute = p.hour * 60 + p.minute;
  const { fromMin, toMin, days } = window;
  if (fromMin < toMin) return minute >= fromMin && minute < toMin && days.includes(p.weekday);
  if (minute >= fromMin && days.includes(p.weekday)) return true;
  return minute < toMin && days.includes(previousDay(p.weekday));
}

function previousDay(day: Weekday): Weekday {
  const i = WEEKDAYS.indexOf(day);
  return WEEKDAYS[(i + 6) % 7] ?? 'sun';
}
