import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../src/policy/duration.js';
import { isWithinHours, parseClock } from '../src/policy/hours.js';
import { expiresAtEpochS } from '../src/policy/expires.js';
import { canonicalTimeZone } from '../src/policy/timezone.js';
import { compileCondition } from '../src/policy/cel.js';
import type { HoursWindow } from '../src/policy/types.js';

const utc = (...p: [number, number, number, number?, number?]) => Date.UTC(p[0], p[1] - 1, p[2], p[3] ?? 0, p[4] ?? 0) / 1000;

test('durations: seconds or compact units, always positive', () => {
  const cases: [unknown, number | null][] = [
    ['30m', 1800], ['8h', 28800], ['1h30m', 5400], ['45s', 45], ['2d', 172800], ['1d2h3m4s', 93784],
    [900, 900], ['900', 900],
    [0, null], ['0m', null], [-5, null], [1.5, null], ['', null], ['1 hour', null], ['30M', null],
    ['1m1h', null], ['h', null], [null, null], [undefined, null], [true, null],
  ];
  for (const [input, seconds] of cases) assert.equal(parseDuration(input), seconds, `parseDuration(${JSON.stringify(input)})`);
  assert.equal(formatDuration(5400), '1h30m');
  assert.equal(formatDuration(93784), '1d2h3m4s');
  assert.equal(parseDuration(formatDuration(93784)), 93784);
});

test('clock times: HH:MM, with 24:00 only as an end', () => {
  assert.equal(parseClock('08:00'), 480);
  assert.equal(parseClock('8:05'), 485);
  assert.equal(parseClock('23:59'), 1439);
  assert.equal(parseClock('24:00'), null);
  assert.equal(parseClock('24:00', true), 1440);
  assert.equal(parseClock('12:60'), null);
  assert.equal(parseClock('noon'), null);
});

test('business hours are read on the wall clock of the policy time zone, across DST', () => {
  const office: HoursWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromMin: 8 * 60, toMin: 19 * 60 };
  const tz = 'Europe/Berlin';
  // Winter, UTC+1: Monday 2026-01-12 07:30Z is 08:30 in Berlin.
  assert.equal(isWithinHours(office, tz, utc(2026, 1, 12, 7, 30)), true);
  assert.equal(isWithinHours(office, tz, utc(2026, 1, 12, 6, 59)), false);
  assert.equal(isWithinHours(office, tz, utc(2026, 1, 12, 18, 0)), false, '19:00 is the end, exclusive');
  // Summer, UTC+2: 06:30Z is 08:30 in Berlin.
  assert.equal(isWithinHours(office, tz, utc(2026, 7, 13, 6, 30)), true);
  assert.equal(isWithinHours(office, tz, utc(2026, 7, 13, 5, 30)), false);
  // Saturday.
  assert.equal(isWithinHours(office, tz, utc(2026, 1, 17, 10, 0)), false);
});

test('a window that ends before it starts runs past midnight and belongs to its first day', () => {
  const night: HoursWindow = { days: ['fri'], fromMin: 22 * 60, toMin: 6 * 60 };
  assert.equal(isWithinHours(night, 'UTC', utc(2026, 1, 16, 23, 0)), true, 'Friday 23:00');
  assert.equal(isWithinHours(night, 'UTC', utc(2026, 1, 17, 3, 0)), true, 'Saturday 03:00');
  assert.equal(isWithinHours(night, 'UTC', utc(2026, 1, 17, 6, 0)), false, 'Saturday 06:00');
  assert.equal(isWithinHours(night, 'UTC', utc(2026, 1, 16, 3, 0)), false, 'Friday 03:00 belongs to Thursday night');
  const allDay: HoursWindow = { days: ['sun'], fromMin: 0, toMin: 1440 };
  assert.equal(isWithinHours(allDay, 'UTC', utc(2026, 1, 18, 23, 59)), true);
});

test('exception expiry: a date ends at the next local midnight, a timestamp is that instant', () => {
  assert.equal(expiresAtEpochS('2026-12-31', 'Europe/Berlin'), utc(2026, 12, 31, 23));
  assert.equal(expiresAtEpochS('2026-07-31', 'Europe/Berlin'), utc(2026, 7, 31, 22));
  assert.equal(expiresAtEpochS('2026-02-28', 'UTC'), utc(2026, 3, 1));
  assert.equal(expiresAtEpochS('2026-12-31T18:00:00Z', 'Europe/Berlin'), utc(2026, 12, 31, 18));
  assert.equal(expiresAtEpochS('2026-12-31T18:00:00+02:00', 'UTC'), utc(2026, 12, 31, 16));
  assert.equal(expiresAtEpochS('2026-12-31T18:00', 'Europe/Berlin'), utc(2026, 12, 31, 17), 'no offset: policy time');
  assert.equal(expiresAtEpochS(new Date(Date.UTC(2026, 0, 1)), 'UTC'), utc(2026, 1, 1));
  for (const bad of ['2026-02-30', '2026-13-01', '31.12.2026', '2026-12-31T25:00Z', 20261231, null]) {
    assert.equal(expiresAtEpochS(bad, 'UTC'), null, `expiresAtEpochS(${JSON.stringify(bad)})`);
  }
});

test('time zones are IANA names, canonicalized; offsets are refused', () => {
  assert.equal(canonicalTimeZone('Europe/Berlin'), 'Europe/Berlin');
  assert.equal(canonicalTimeZone('europe/berlin'), 'Europe/Berlin');
  assert.equal(canonicalTimeZone('UTC'), 'UTC');
  assert.equal(canonicalTimeZone('Europe/Berln'), null);
  assert.equal(canonicalTimeZone('+01:00'), null);
});

test('a compiled condition is reused across evaluations', () => {
  const compiled = compileCondition('request.duration_s <= 3600 && "deploy:prod" in request.scopes');
  assert.ok(compiled.ok);
  const { condition } = compiled;
  assert.equal(condition.evaluate({ request: { duration_s: 1800, scopes: ['deploy:prod'] }, now: {} }), true);
  assert.equal(condition.evaluate({ request: { duration_s: 7200, scopes: ['deploy:prod'] }, now: {} }), false);
  assert.equal(condition.evaluate({ request: { duration_s: 60, scopes: [] }, now: {} }), false);
  const optional = compileCondition('request.context.?branch.orValue("") == "main"');
  assert.ok(optional.ok, 'optional chaining is available for keys that may be absent');
  assert.equal(optional.condition.evaluate({ request: { context: {} }, now: {} }), false);
  const broken = compileCondition('request.scopes.exists(s, ');
  assert.equal(broken.ok, false);
  assert.ok(compileCondition('history.first_time && now.hour >= 9').ok, 'every variable the engine provides compiles');
  const unknown = compileCondition('user.name == "x"');
  assert.equal(unknown.ok, false);
  assert.match(unknown.ok ? '' : unknown.message, /Unknown variable: user/);
});
