import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inWindow, wallClock } from '../src/policy/calendar.js';
import { isWithinHours } from '../src/policy/hours.js';
import { zonedParts } from '../src/policy/timezone.js';
import type { HoursWindow } from '../src/policy/types.js';

const at = (iso: string) => Date.parse(iso);

test('wall clock in the zone, across the spring daylight-saving jump in Berlin', () => {
  assert.deepEqual({ ...wallClock(at('2026-03-29T00:59:00Z'), 'Europe/Berlin') }, { hour: 1, minute: 59, weekday: 'sun' });
  assert.deepEqual({ ...wallClock(at('2026-03-29T01:00:00Z'), 'Europe/Berlin') }, { hour: 3, minute: 0, weekday: 'sun' });
});

test('half-hour offsets and the day boundary', () => {
  assert.deepEqual({ ...wallClock(at('2026-03-02T18:45:00Z'), 'Asia/Kolkata') }, { hour: 0, minute: 15, weekday: 'tue' });
  assert.deepEqual({ ...wallClock(at('2026-03-02T03:00:00Z'), 'America/New_York') }, { hour: 22, minute: 0, weekday: 'sun' });
});

test('alternating zones and instants agree with an uncached reading', () => {
  const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC', 'Australia/Lord_Howe'];
  const windows: HoursWindow[] = [
    { days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromMin: 480, toMin: 1140 },
    { days: ['fri', 'sat'], fromMin: 1320, toMin: 360 },
  ];
  let seed = 7;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const start = at('2026-01-01T00:00:00Z');
  for (let i = 0; i < 3000; i++) {
    const zone = zones[i % zones.length]!;
    const ms = start + Math.floor(rand() * 365 * 86_400_000) - (i % 3 === 0 ? 0 : 1);
    const clock = wallClock(ms, zone);
    const p = zonedParts(ms, zone);
    assert.deepEqual([clock.hour, clock.minute, clock.weekday], [p.hour, p.minute, p.weekday], `${zone} @ ${new Date(ms).toISOString()}`);
    for (const w of windows) assert.equal(inWindow(w, clock), isWithinHours(w, zone, Math.floor(ms / 1000)));
  }
});
