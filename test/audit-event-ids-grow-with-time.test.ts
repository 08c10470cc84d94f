import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newEventId } from '../src/audit/event-id.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('event ids are UUIDv7 carrying their millisecond, in the order they were made', () => {
  const ms = Date.parse('2026-11-24T09:00:00.123Z');
  const ids = Array.from({ length: 10_000 }, () => newEventId(ms + 1_000_000));
  for (const id of ids.slice(0, 50)) assert.match(id, V7);
  // More than 4,096 in one millisecond still sort in creation order, and never repeat.
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  const later = newEventId(ms + 10_000_000);
  assert.equal(Number.parseInt(later.replace(/-/g, '').slice(0, 12), 16), ms + 10_000_000);
  assert.ok(later > ids.at(-1)!);
  // A clock that steps back does not make ids go back.
  assert.ok(newEventId(ms) > later);
});
