import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planRotation } from '../src/tokens/rotation-plan.js';
import { chooseSigner, keyState, type SigningKeyTimes } from '../src/tokens/key-state.js';

const T = 1_800_000_000;

function key(kid: string, signsFrom: number, supersededAt: number | null = null, publishUntil: number | null = null): SigningKeyTimes {
  return { kid, createdAt: signsFrom, signsFrom, supersededAt, publishUntil };
}

describe('rotation plan (pure)', () => {
  test('the new key signs after the delay; the current signer is superseded then and published one token lifetime more', () => {
    const plan = planRotation({ existing: [key('a', T - 1000)], newKid: 'b', now: T, publishDelayS: 300, maxTokenLifetimeS: 3600 });
    assert.deepEqual(plan.insert, { kid: 'b', createdAt: T, signsFrom: T + 300, supersededAt: null, publishUntil: null });
    assert.deepEqual(plan.supersede, [{ kid: 'a', supersededAt: T + 300, publishUntil: T + 3900 }]);
    assert.deepEqual(plan.previous, { kid: 'a', publishUntil: T + 3900 });
  });

  test('with no key signing, the new key signs at once', () => {
    const plan = planRotation({ existing: [], newKid: 'a', now: T, publishDelayS: 300, maxTokenLifetimeS: 3600 });
    assert.equal(plan.insert.signsFrom, T);
    assert.deepEqual(plan.supersede, []);
    assert.equal(plan.previous, null);
  });

  test('retired keys are left alone; keys two racing processes created are both superseded', () => {
    const existing = [key('old', T - 9000, T - 5000, T - 1400), key('x', T - 100), key('y', T - 100)];
    const plan = planRotation({ existing, newKid: 'z', now: T, publishDelayS: 60, maxTokenLifetimeS: 600 });
    assert.deepEqual(
      plan.supersede.map((s) => s.kid).sort(),
      ['x', 'y'],
    );
    assert.equal(plan.previous?.kid, 'y', 'the tie goes to the greater kid, as chooseSigner decides');
  });

  test('a later rotation never shortens an earlier promise to keep a key published', () => {
    const existing = [key('a', T - 1000, T + 300, T + 300 + 86_400), key('b', T + 300)];
    const plan = planRotation({ existing, newKid: 'c', now: T + 10, publishDelayS: 0, maxTokenLifetimeS: 600 });
    const a = plan.supersede.find((s) => s.kid === 'a');
    assert.deepEqual(a, { kid: 'a', supersededAt: T + 10, publishUntil: T + 300 + 86_400 });
    assert.deepEqual(plan.supersede.find((s) => s.kid === 'b'), { kid: 'b', supersededAt: T + 10, publishUntil: T + 610 });
  });

  test('bad numbers and a duplicate kid are rotation_invalid', () => {
    const existing = [key('a', T - 1000)];
    for (const bad of [
      { publishDelayS: -1, maxTokenLifetimeS: 600 },
      { publishDelayS: 1.5, maxTokenLifetimeS: 600 },
      { publishDelayS: 300, maxTokenLifetimeS: 0 },
      { publishDelayS: Number.NaN, maxTokenLifetimeS: 600 },
    ]) {
      assert.throws(() => planRotation({ existing, newKid: 'b', now: T, ...bad }), { code: 'rotation_invalid' });
    }
    assert.throws(() => planRotation({ existing, newKid: 'a', now: T, publishDelayS: 0, maxTokenLifetimeS: 600 }), {
      code: 'rotation_invalid',
    });
  });
});

describe('key states over time (pure)', () => {
  test('pending → signing → retiring → retired', () => {
    const a = key('a', T - 1000, T + 300, T + 3900);
    const b = key('b', T + 300);
    const keys = [a, b];
    assert.equal(keyState(keys, b, T), 'pending');
    assert.equal(keyState(keys, a, T), 'signing');
    assert.equal(keyState(keys, a, T + 300), 'retiring');
    assert.equal(keyState(keys, b, T + 300), 'signing');
    assert.equal(keyState(keys, a, T + 3900), 'retired');
    assert.equal(chooseSigner(keys, T + 299)?.kid, 'a');
    assert.equal(chooseSigner(keys, T + 300)?.kid, 'b');
    assert.equal(chooseSigner([b], T), undefined, 'nothing signs before signs_from');
  });
});
