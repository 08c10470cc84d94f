import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONTEXT_MAX_BYTES,
  validateAccessRequest,
  type ValidateOptions,
  type ValidationResult,
} from '../src/access/validate-request.js';
import type { RequestError } from '../src/access/request-error.js';
import { MONDAY_10_BERLIN, accessPolicy } from './fixtures/access-policy.js';

const policy = accessPolicy();
const HOUR = 3600;
const REASON = 'roll out the billing hotfix';

function validate(principal: string, body: unknown, opts: Partial<ValidateOptions> = {}): ValidationResult {
  return validateAccessRequest(policy, body, { principal, nowS: MONDAY_10_BERLIN, ...opts });
}

function refusal(result: ValidationResult): RequestError {
  assert.equal(result.ok, false, `expected a refusal, got ${JSON.stringify(result)}`);
  return (result as { ok: false; error: RequestError }).error;
}

function accepted(result: ValidationResult) {
  assert.equal(result.ok, true, `expected acceptance, got ${JSON.stringify(result)}`);
  return (result as Extract<ValidationResult, { ok: true }>).value;
}

function expectCode(result: ValidationResult, code: string, status: number): RequestError {
  const error = refusal(result);
  assert.equal(error.code, code, error.message);
  assert.equal(error.status, status);
  assert.ok(error.message.length > 0);
  return error;
}

describe('a well-formed request is normalized', () => {
  test('a bundle expands, the only resource accepting all its scopes is chosen, "30m" is 1800 s', () => {
    const v = accepted(
      validate('user:alice', { bundle: 'incident-response', duration: '30m', reason: REASON, ticket: ' INC-42 ' }),
    );
    assert.deepEqual(v.scopes, ['read:logs', 'deploy:prod']);
    assert.equal(v.bundle, 'incident-response');
    assert.equal(v.resource, 'https://deploy.internal');
    assert.equal(v.durationS, 1800);
    assert.equal(v.ticket, 'INC-42');
    assert.equal(v.maxRisk, 'high');
    assert.equal(v.mfaRequired, true);
    assert.equal(v.startsAt, null);
    assert.deepEqual(v.context, {});
  });

  test('duration in seconds and "1h30m" are both read; null means "not given" for optional keys', () => {
    const a = accepted(validate('user:erin', { scopes: ['read:billing'], duration: 5400, reason: REASON, ticket: null, starts_at: null }));
    const b = accepted(validate('user:erin', { scopes: ['read:billing'], duration: '1h30m', reason: REASON, bundle: null }));
    assert.equal(a.durationS, 5400);
    assert.equal(b.durationS, 5400);
    assert.equal(a.resource, 'https://billing.internal');
    assert.equal(a.mfaRequired, false);
  });

  test('a client may ask for what its client entry makes eligible, and needs no MFA', () => {
    const v = accepted(validate('client:ci-pipeline', { scopes: ['deploy:prod'], duration: '10m', reason: REASON, ticket: 'OPS-7', context: { branch: 'main' } }));
    assert.equal(v.mfaRequired, false);
    assert.deepEqual(v.context, { branch: 'main' });
  });
});

describe('malformed bodies are refused with 400', () => {
  for (const [what, body] of [
    ['an array', []],
    ['null', null],
    ['a string', 'deploy:prod'],
  ] as const) {
    test(`a body that is ${what}`, () => {
      expectCode(validate('user:alice', body), 'body_invalid', 400);
    });
  }

  test('an unknown key is named', () => {
    const e = expectCode(validate('user:alice', { scopes: ['deploy:prod'], ttl: '30m', duration: '30m', reason: REASON }), 'body_invalid', 400);
    assert.equal(e.field, 'ttl');
    assert.match(e.message, /"ttl"/);
  });

  test('a value of the wrong type names its field', () => {
    const e = expectCode(validate('user:alice', { scopes: 'deploy:prod', duration: '30m', reason: REASON }), 'body_invalid', 400);
    assert.equal(e.field, 'scopes');
    const r = expectCode(validate('user:alice', { scopes: ['deploy:prod'], duration: '30m', reason: 42 }), 'body_invalid', 400);
    assert.equal(r.field, 'reason');
  });

  test('both scopes and bundle', () => {
    expectCode(validate('user:alice', { scopes: ['deploy:prod'], bundle: 'incident-response', duration: '30m', reason: REASON }), 'bundle_and_scopes', 400);
  });

  test('neither scopes nor bundle, or an empty list', () => {
    expectCode(validate('user:alice', { duration: '30m', reason: REASON }), 'scopes_required', 400);
    expectCode(validate('user:alice', { scopes: [], duration: '30m', reason: REASON }), 'scopes_required', 400);
  });

  for (const duration of ['abc', 0, -5, 1.5, '0m', '30 m', '1m30h', undefined]) {
    test(`duration ${JSON.stringify(duration) ?? 'missing'}`, () => {
      const e = expectCode(validate('user:alice', { scopes: ['deploy:prod'], duration, reason: REASON, ticket: 'OPS-1' }), 'duration_invalid', 400);
      assert.equal(e.field, 'duration');
    });
  }

  for (const startsAt of ['tomorrow', '2026-03-02T12:00:00', '2026-02-30T12:00:00Z', '2026-03-02T25:00:00Z']) {
    test(`starts_at ${startsAt}`, () => {
      const e = expectCode(
        validate('user:alice', { scopes: ['deploy:prod'], duration: '30m', reason: REASON, ticket: 'OPS-1', starts_at: startsAt }),
        'body_invalid',
        400,
      );
      assert.equal(e.field, 'starts_at');
    });
  }

  test('context must be an object of JSON values, bounded in size', () => {
    expectCode(validate('user:alice', { scopes: ['read:audit'], duration: '30m', reason: REASON, context: 'main' }), 'body_invalid', 400);
    const big = { blob: 'x'.repeat(CONTEXT_MAX_BYTES) };
    const e = expectCode(validate('user:alice', { scopes: ['read:audit'], duration: '30m', reason: REASON, context: big }), 'body_invalid', 400);
    assert.equal(e.field, 'context');
  });
});

describe('names the policy does not know are refused with 422', () => {
  test('an unknown scope gets a did-you-mean', () => {
    const e = expectCode(validate('user:alice', { scopes: ['deploy:prd'], duration: '30m', reason: REASON }), 'scope_unknown', 422);
    assert.deepEqual(e.scopes, ['deploy:prd']);
    assert.match(e.message, /did you mean "deploy:prod"/);
  });

  test('a bundle name sent as a scope says to send it as bundle', () => {
    const e = expectCode(validate('user:alice', { scopes: ['incident-response'], duration: '30m', reason: REASON }), 'scope_unknown', 422);
    assert.match(e.message, /is a bundle/);
  });

  test('an unknown bundle', () => {
    expectCode(validate('user:alice', { bundle: 'incident', duration: '30m', reason: REASON }), 'bundle_unknown', 422);
  });
});

describe('eligibility is refused with 403 and lists what may be requested', () => {
  test('a scope none of the groups makes eligible', () => {
    const e = expectCode(validate('user:alice', { scopes: ['read:billing'], duration: '30m', reason: REASON }), 'not_eligible', 403);
    assert.deepEqual(e.scopes, ['read:billing']);
    assert.deepEqual(e.eligible, ['deploy:prod', 'night:batch', 'read:audit', 'read:logs']);
    assert.deepEqual(e.eligibleBundles, ['incident-response']);
    assert.match(e.message, /you may request: deploy:prod, night:batch, read:audit, read:logs/);
  });

  test('one ineligible scope of a bundle refuses the bundle', () => {
    const e = expectCode(validate('user:carol', { bundle: 'incident-response', duration: '30m', reason: REASON, ticket: 'OPS-1' }), 'not_eligible', 403);
    assert.deepEqual(e.scopes, ['read:logs']);
    assert.equal(e.field, 'bundle');
  });

  test('an exception makes its scopes eligible until it expires', () => {
    const body = { scopes: ['read:billing'], duration: '1h', reason: REASON };
    accepted(validate('user:bob', body));
    const expiry = Date.UTC(2026, 2, 10) / 1000;
    accepted(validate('user:bob', body, { nowS: expiry - 1 }));
    expectCode(validate('user:bob', body, { nowS: expiry }), 'not_eligible', 403);
  });

  test('a principal the policy does not know may request nothing', () => {
    const e = expectCode(validate('user:mallory', { scopes: ['read:logs'], duration: '30m', reason: REASON }), 'not_eligible', 403);
    assert.deepEqual(e.eligible, []);
    assert.match(e.message, /may not request any scope/);
  });
});

describe('allowed hours are checked at the request time and at a scheduled start', () => {
  const body = { scopes: ['read:audit'], duration: '1h', reason: REASON };
  const at = (iso: string) => Date.parse(iso) / 1000;

  test('inside business hours (Monday 10:00 Berlin) it is accepted', () => {
    accepted(validate('user:alice', body));
  });

  test('Monday 21:00 Berlin is refused with 403', () => {
    const e = expectCode(validate('user:alice', body, { nowS: at('2026-03-02T20:00:00Z') }), 'outside_allowed_hours', 403);
    assert.deepEqual(e.scopes, ['read:audit']);
    assert.match(e.message, /mon,tue,wed,thu,fri 08:00–19:00/);
  });

  test('the time zone is the policy\'s: 07:30 UTC is 08:30 in Berlin', () => {
    accepted(validate('user:alice', body, { nowS: at('2026-03-02T07:30:00Z') }));
    expectCode(validate('user:alice', body, { nowS: at('2026-03-02T06:30:00Z') }), 'outside_allowed_hours', 403);
  });

  test('a start scheduled outside the window is refused', () => {
    expectCode(validate('user:alice', { ...body, starts_at: '2026-03-07T10:00:00+01:00' }), 'outside_allowed_hours', 403);
    accepted(validate('user:alice', { ...body, starts_at: '2026-03-03T10:00:00+01:00' }));
  });

  test('a window past midnight belongs to the day it starts on', () => {
    const night = { scopes: ['night:batch'], duration: '1h', reason: REASON };
    accepted(validate('user:alice', night, { nowS: at('2026-03-06T22:30:00Z') })); // Fri 23:30
    accepted(validate('user:alice', night, { nowS: at('2026-03-07T02:00:00Z') })); // Sat 03:00
    expectCode(validate('user:alice', night, { nowS: at('2026-03-07T06:00:00Z') }), 'outside_allowed_hours', 403); // Sat 07:00
    expectCode(validate('user:alice', night, { nowS: at('2026-03-05T22:30:00Z') }), 'outside_allowed_hours', 403); // Thu 23:30
  });
});

describe('what cannot be granted as asked is refused with 422', () => {
  test('the resource is inferred only when exactly one accepts every scope', () => {
    const e = expectCode(validate('user:erin', { scopes: ['export:billing'], duration: '1h', reason: REASON }), 'resource_ambiguous', 422);
    assert.deepEqual(e.candidates, ['https://billing.internal', 'https://reports.internal']);
    assert.match(e.message, /https:\/\/billing\.internal, https:\/\/reports\.internal/);
    const v = accepted(validate('user:erin', { scopes: ['export:billing'], duration: '1h', reason: REASON, resource: 'https://reports.internal' }));
    assert.equal(v.resource, 'https://reports.internal');
  });

  test('scopes no single resource accepts together', () => {
    const e = expectCode(
      validate('user:alice', { scopes: ['read:audit', 'deploy:prod'], duration: '30m', reason: REASON, ticket: 'OPS-1' }),
      'resource_rejects_scope',
      422,
    );
    assert.deepEqual(e.candidates, []);
  });

  test('a resource that does not accept a requested scope says which resources would', () => {
    const e = expectCode(
      validate('user:erin', { scopes: ['export:billing'], duration: '1h', reason: REASON, resource: 'https://deploy.internal' }),
      'resource_rejects_scope',
      422,
    );
    assert.deepEqual(e.scopes, ['export:billing']);
    assert.deepEqual(e.candidates, ['https://billing.internal', 'https://reports.internal']);
  });

  test('an unknown resource', () => {
    expectCode(validate('user:erin', { scopes: ['export:billing'], duration: '1h', reason: REASON, resource: 'https://nowhere' }), 'resource_unknown', 422);
  });

  test('the duration is bounded by the smallest max_ttl of the requested scopes', () => {
    const e = expectCode(validate('user:erin', { bundle: 'billing-ops', duration: '1h', reason: REASON, ticket: 'INC-1' }), 'duration_too_long', 422);
    assert.equal(e.maxS, 1800);
    assert.match(e.message, /admin:billing/);
    accepted(validate('user:erin', { bundle: 'billing-ops', duration: '30m', reason: REASON, ticket: 'INC-1' }));
  });

  test('a scope without max_ttl is bounded by the server-wide maximum, 8h unless set', () => {
    const body = (duration: string) => ({ scopes: ['export:billing'], resource: 'https://reports.internal', duration, reason: REASON });
    accepted(validate('user:erin', body('8h')));
    assert.equal(expectCode(validate('user:erin', body('8h1s')), 'duration_too_long', 422).maxS, 8 * HOUR);
    assert.equal(expectCode(validate('user:erin', body('2h'), { maxDurationS: HOUR }), 'duration_too_long', 422).maxS, HOUR);
  });

  test('a ticket is required where a scope sets a pattern, and must match every pattern', () => {
    const base = { bundle: 'billing-ops', duration: '30m', reason: REASON };
    expectCode(validate('user:erin', base), 'ticket_required', 422);
    expectCode(validate('user:erin', { ...base, ticket: '   ' }), 'ticket_required', 422);
    const e = expectCode(validate('user:erin', { ...base, ticket: 'OPS-1' }), 'ticket_invalid', 422);
    assert.match(e.message, /admin:billing needs \^INC-\[0-9\]\+\$/);
    expectCode(validate('user:alice', { scopes: ['deploy:prod'], duration: '30m', reason: REASON, ticket: 'OPS-1x' }), 'ticket_invalid', 422);
  });

  test('a ticket given where none is required is kept', () => {
    assert.equal(accepted(validate('user:alice', { scopes: ['read:audit'], duration: '30m', reason: REASON, ticket: 'CHG-1' })).ticket, 'CHG-1');
  });

  for (const reason of [undefined, '', '   ', 'fix', 'deploying-the-thing', 'a b c d e', 'hotfix!!!!!!!!!!']) {
    test(`reason ${JSON.stringify(reason) ?? 'missing'} is not a sentence`, () => {
      const e = expectCode(validate('user:alice', { scopes: ['read:audit'], duration: '30m', reason }), 'reason_required', 422);
      assert.equal(e.field, 'reason');
    });
  }

  test('three words and twelve characters make a reason, trimmed', () => {
    assert.equal(accepted(validate('user:alice', { scopes: ['read:audit'], duration: '30m', reason: '  fix prod now  ' })).reason, 'fix prod now');
  });

  test('starts_at may lie a little in the past (starting at once) but not more, nor beyond the bound ahead', () => {
    const body = (startsAt: string) => ({ scopes: ['read:audit'], duration: '30m', reason: REASON, starts_at: startsAt });
    assert.equal(accepted(validate('user:alice', body('2026-03-02T08:59:30Z'))).startsAt, null);
    expectCode(validate('user:alice', body('2026-03-02T08:58:00Z')), 'starts_at_invalid', 422);
    const v = accepted(validate('user:alice', body('2026-03-04T11:00:00+01:00')));
    assert.equal(v.startsAt, Date.UTC(2026, 2, 4, 10) / 1000);
    const e = expectCode(validate('user:alice', body('2026-03-10T10:00:00+01:00')), 'starts_at_invalid', 422);
    assert.match(e.message, /ahead/);
    expectCode(validate('user:alice', body('2026-03-04T10:00:00+01:00'), { maxScheduleAheadS: 86_400 }), 'starts_at_invalid', 422);
  });
});
