import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseGrant, reviewGrant, revokeGrant, type ReviewableGrant } from '../src/access/grant-commands.js';
import { grantCovers, grantEventsBetween, grantStatus, grantWindow, type GrantRecord } from '../src/access/grant-status.js';

const T = 1_772_442_000; // 2026-03-02T09:00:00Z

function grant(over: Partial<GrantRecord> = {}): GrantRecord {
  return { id: 'g-1', requestId: 'r-1', principal: 'user:alice', startsAt: T, endsAt: T + 1800, revokedAt: null, releasedAt: null, ...over };
}

describe('status follows from time and events at the moment of the check', () => {
  test('scheduled before the start, active in [start, end), expired from the end', () => {
    const g = grant();
    assert.equal(grantStatus(g, T - 1), 'scheduled');
    assert.equal(grantStatus(g, T), 'active');
    assert.equal(grantStatus(g, T + 1799), 'active');
    assert.equal(grantStatus(g, T + 1800), 'expired');
    assert.equal(grantCovers(g, T + 1799), true);
    assert.equal(grantCovers(g, T + 1800), false);
    assert.equal(grantCovers(g, T - 1), false);
  });

  test('a revocation or release counts from its instant on', () => {
    const revoked = grant({ revokedAt: T + 600 });
    assert.equal(grantStatus(revoked, T + 599), 'active');
    assert.equal(grantStatus(revoked, T + 600), 'revoked');
    assert.equal(grantStatus(revoked, T + 5000), 'revoked');
    const released = grant({ releasedAt: T + 60 });
    assert.equal(grantStatus(released, T + 59), 'active');
    assert.equal(grantStatus(released, T + 60), 'released');
  });

  test('the earliest ending decides: revoked while scheduled, expired before a late revocation, ties go to revoked', () => {
    assert.equal(grantStatus(grant({ revokedAt: T - 100 }), T - 50), 'revoked');
    assert.equal(grantStatus(grant({ revokedAt: T + 4000 }), T + 5000), 'expired');
    assert.equal(grantStatus(grant({ revokedAt: T + 100, releasedAt: T + 50 }), T + 200), 'released');
    assert.equal(grantStatus(grant({ revokedAt: T + 100, releasedAt: T + 100 }), T + 200), 'revoked');
    assert.equal(grantStatus(grant({ revokedAt: T + 1800 }), T + 1800), 'revoked');
  });
});

describe('the grant window', () => {
  test('starts at approval when no start was asked for, and lasts the requested duration from there', () => {
    assert.deepEqual(grantWindow(null, T + 900, 1800), { startsAt: T + 900, endsAt: T + 2700 });
  });

  test('starts at starts_at when that is later than the approval', () => {
    assert.deepEqual(grantWindow(T + 7200, T, 1800), { startsAt: T + 7200, endsAt: T + 9000 });
  });

  test('an approval after the requested start starts it at the approval, with the full duration', () => {
    assert.deepEqual(grantWindow(T, T + 600, 1800), { startsAt: T + 600, endsAt: T + 2400 });
  });
});

describe('lifecycle events for a sweeper', () => {
  test('started and expired are reported once, at their own instants', () => {
    const g = grant({ startsAt: T + 100 });
    assert.deepEqual(grantEventsBetween(g, T, T + 99), []);
    assert.deepEqual(grantEventsBetween(g, T, T + 100), [
      { type: 'grant.started', grantId: 'g-1', requestId: 'r-1', principal: 'user:alice', at: T + 100, endsAt: T + 1800 },
    ]);
    assert.deepEqual(grantEventsBetween(g, T + 100, T + 1799), []);
    assert.deepEqual(grantEventsBetween(g, T + 100, T + 9999).map((e) => [e.type, e.at]), [['grant.expired', T + 1800]]);
    assert.deepEqual(grantEventsBetween(g, -Infinity, T + 9999).map((e) => e.type), ['grant.started', 'grant.expired']);
  });

  test('a grant revoked or released before its end does not expire, one revoked while scheduled never starts', () => {
    assert.deepEqual(grantEventsBetween(grant({ revokedAt: T + 60 }), -Infinity, T + 9999).map((e) => e.type), ['grant.started']);
    assert.deepEqual(grantEventsBetween(grant({ startsAt: T + 100, releasedAt: T + 50 }), -Infinity, T + 9999), []);
  });
});

describe('revoke, release, review', () => {
  test('revoke ends a scheduled or active grant and needs a reason; an ended grant is a conflict', () => {
    const r = revokeGrant(grant(), { by: 'user:dave', at: T + 60, reason: ' leaked laptop ' });
    assert.ok(r.ok);
    assert.equal(r.grant.revokedAt, T + 60);
    assert.equal(grantStatus(r.grant, T + 60), 'revoked');
    assert.deepEqual(r.effects, [{ type: 'grant.revoked', grantId: 'g-1', requestId: 'r-1', principal: 'user:alice', at: T + 60, by: 'user:dave', reason: 'leaked laptop' }]);
    assert.ok(revokeGrant(grant(), { by: 'user:dave', at: T - 60, reason: 'not needed' }).ok, 'a scheduled grant can be revoked');

    const expired = revokeGrant(grant(), { by: 'user:dave', at: T + 1800, reason: 'late' });
    assert.ok(!expired.ok);
    assert.deepEqual([expired.code, expired.status], ['grant_not_live', 409]);
    const twice = revokeGrant(r.grant, { by: 'user:dave', at: T + 61, reason: 'again' });
    assert.ok(!twice.ok && twice.code === 'grant_not_live');
    const noReason = revokeGrant(grant(), { by: 'user:dave', at: T + 60, reason: '' });
    assert.ok(!noReason.ok && noReason.code === 'reason_required' && noReason.status === 422);
  });

  test('only the holder releases, and only a live grant', () => {
    const other = releaseGrant(grant(), { by: 'user:bob', at: T + 60 });
    assert.ok(!other.ok && other.code === 'not_holder' && other.status === 403);
    const mine = releaseGrant(grant(), { by: 'user:alice', at: T + 60 });
    assert.ok(mine.ok);
    assert.equal(grantStatus(mine.grant, T + 60), 'released');
    const again = releaseGrant(mine.grant, { by: 'user:alice', at: T + 61 });
    assert.ok(!again.ok && again.code === 'grant_not_live');
  });

  test('a break-glass grant stays review: pending until someone other than the holder reviews it', () => {
    const g: ReviewableGrant = { ...grant(), review: 'pending', reviewedBy: null, reviewedAt: null };
    const self = reviewGrant(g, { by: 'user:alice', at: T + 60 });
    assert.ok(!self.ok && self.code === 'self_review' && self.status === 403);
    // Review looks back: it is allowed after the grant ended.
    const done = reviewGrant(g, { by: 'user:dave', at: T + 9999, note: 'justified: INC-7' });
    assert.ok(done.ok);
    assert.deepEqual([done.grant.review, done.grant.reviewedBy, done.grant.reviewedAt], ['done', 'user:dave', T + 9999]);
    assert.equal(done.effects[0]!.type, 'grant.reviewed');
    const again = reviewGrant(done.grant, { by: 'user:grace', at: T + 10_000 });
    assert.ok(!again.ok && again.code === 'not_pending_review' && again.status === 409);
    const ordinary = reviewGrant({ ...g, review: 'none' }, { by: 'user:dave', at: T });
    assert.ok(!ordinary.ok && ordinary.code === 'not_pending_review');
  });
});
