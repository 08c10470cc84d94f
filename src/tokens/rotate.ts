/**
 * Signing-key rotation against the store: generate a key, plan (pure, in
 * rotation-plan.ts), write the plan in one locked transaction. Running
 * servers pick it up on their next keyring refresh.
 */
import type { Store } from '../store/open.js';
import type { Kek } from './kek.js';
import { isPublished } from './key-state.js';
import { planRotation } from './rotation-plan.js';
import { generateSigningKey, openSigningKey, rowTimes, sealSigningKey } from './signing-key-material.js';
import { withSigningKeysLock } from './signing-keys-lock.js';
import { appendAuditEvents } from '../audit/append.js';
import { keyRotatedEvent } from '../audit/key-events.js';

export interface RotateOptions {
  /** Epoch seconds. */
  now: number;
  /** How long the new key is published before it signs (see key-timing.ts for the default and its bound). */
  publishDelayS: number;
  /** The longest lifetime of any access token the server issues: how long the old key stays published once superseded. */
  maxTokenLifetimeS: number;
}

export interface RotationResult {
  kid: string;
  /** When the new key starts signing (epoch seconds). */
  signsFrom: number;
  /** The key it takes over from, and when that one leaves the JWKS. */
  previous: { kid: string; publishUntil: number } | null;
}

/**
 * Adds a new signing key, published at once and signing from
 * `now + publishDelayS`, and schedules the old one out of the JWKS. Refuses
 * (`kek_mismatch`) when `kek` does not open the keys already stored, so a
 * database never holds keys sealed under two KEKs.
 */
export async function rotateSigningKey(store: Store, kek: Kek, opts: RotateOptions): Promise<RotationResult> {
  const material = await generateSigningKey();
  return withSigningKeysLock(store, async (db) => {
    const rows = await db.selectFrom('signing_keys').selectAll().execute();
    for (const row of rows) {
      if (isPublished(rowTimes(row), opts.now)) await openSigningKey(row, kek);
    }
    const plan = planRotation({
      existing: rows.map(rowTimes),
      newKid: material.kid,
      now: opts.now,
      publishDelayS: opts.publishDelayS,
      maxTokenLifetimeS: opts.maxTokenLifetimeS,
    });
    await db.insertInto('signing_keys').values(sealSigningKey(material, kek, plan.insert)).execute();
    for (const s of plan.supersede) {
      await db
        .updateTable('signing_keys')
        .set({ superseded_at: s.supersededAt, publish_until: s.publishUntil })
        .where('kid', '=', s.kid)
        .execute();
    }
    // In the rotation's own transaction: the key exists exactly when its event does.
    await appendAuditEvents(db, store.dialect, [keyRotatedEvent(plan.insert.kid, plan.insert.signsFrom, plan.previous)], opts.now * 1000);
    return { kid: plan.insert.kid, signsFrom: plan.insert.signsFrom, previous: plan.previous };
  });
}
