/**
 * The wall clock a decision sees: hour, minute and weekday in the policy's
 * time zone, and whether that instant is inside a weekly window. Called once
 * per decision, so it is kept cheap: one formatter per zone, and the reading
 * of the last minute asked for is remembered per zone (every real-world UTC
 * offset today is a whole number of minutes, so all instants of one UTC
 * minute share hour, minute and weekday).
 */
import type { HoursWindow, Weekday } from './types.js';

export interface WallClock {
  /** 0–23. */
  hour: number;
  /** 0–59. */
  minute: number;
  weekday: Weekday;
}

const WEEKDAY_OF: Record<string, Weekday> = {
  Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun',
};
const PREVIOUS_DAY: Record<Weekday, Weekday> = {
  mon: 'sun', tue: 'mon', wed: 'tue', thu: 'wed', fri: 'thu', sat: 'fri', sun: 'sat',
};

interface ZoneCache {
  format: Intl.DateTimeFormat;
  minute: number;
  clock: WallClock | null;
}

const zones = new Map<string, ZoneCache>();

function zone(timeZone: string): ZoneCache {
  let z = zones.get(timeZone);
  if (!z) {
    z = {
      format: new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        weekday: 'short',
        hour: 'numeric',
        minute: 'numeric',
      }),
      minute: Number.NaN,
      clock: null,
    };
    zones.set(timeZone, z);
  }
  return z;
}

/** The wall-clock reading in `timeZone` at `epochMs`. Throws RangeError for a zone the runtime does not know. */
export function wallClock(epochMs: number, timeZone: string): WallClock {
  const z = zone(timeZone);
  const minute = Math.floor(epochMs / 60_000);
  if (z.clock !== null && z.minute === minute) return z.clock;
  let hour = 0;
  let min = 0;
  let weekday: Weekday = 'mon';
  for (const p of z.format.formatToParts(minute * 60_000)) {
    if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') min = Number(p.value);
    else if (p.type === 'weekday') weekday = WEEKDAY_OF[p.value] ?? 'mon';
  }
  const clock: WallClock = Object.freeze({ hour, minute: min, weekday });
  z.minute = minute;
  z.clock = clock;
  return clock;
}

/**
 * Whether a wall-clock reading lies in a weekly window. A window whose end is
 * before its start runs past midnight and belongs to the day it starts on
 * (`fri 22:00–06:00` covers Saturday 03:00), as in src/policy/hours.ts.
 */
export function inWindow(window: HoursWindow, clock: WallClock): boolean {
  const m = clock.hour * 60 + clock.minute;
  const { fromMin, toMin, days } = window;
  if (fromMin < toMin) return m >= fromMin && m < toMin && days.includes(clock.weekday);
  if (m >= fromMin && days.includes(clock.weekday)) return true;
  return m < toMin && days.includes(PREVIOUS_DAY[clock.weekday]);
}
