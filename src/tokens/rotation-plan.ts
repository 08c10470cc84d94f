/**
 * Signing-key rotation as pure planning: the keys as they are, in; the rows
 * to insert and update, out. The I/O lives in rotate.ts.
 */
import { JitgateError } from '../util/errors.js';
import { chooseSigner, isPublished, type SigningKeyTimes } from './key-state.js';

export interface RotationInput {
  /** Every stored key's instants. */
  existing: readonly SigningKeyTimes[];
  /** The kid of the freshly generated key. */
  newKid: string;
  /** Epoch seconds. */
  now: number;
  /** How long the new key is published before it signs (≥ 0 s). */
  publishDelayS: number;
  /** The longest lifetime of any access token the server issues (> 0 s). */
  maxTokenLifetimeS: number;
}

export interface SupersedeRow {
  kid: string;
  supersededAt: number;
  publishUntil: number;
}

export interface RotationPlan {
  insert: { kid: string; createdAt: number; signsFrom: number; supersededAt: null; publishUntil: null };
  /** Keys whose signing the new key ends. */
  supersede: SupersedeRow[];
  /** The key that signs until the new one takes over, and when it leaves the JWKS. */
  previous: { kid: string; publishUntil: number } | null;
}

/**
 * The new key is published at once and signs from `now + publishDelayS`, so
 * every cache of the JWKS learns it before any token carries it. Each key
 * still able to sign is superseded at that instant and stays published for
 * `maxTokenLifetimeS` more, when the last token it signed has expired. With
 * no key signing yet, the new key signs at once (there is nothing to hand over).
 */
export function planRotation(input: RotationInput): RotationPlan {
  const { now, publishDelayS, maxTokenLifetimeS } = input;
  if (!Number.isInteger(now)) throw new JitgateError('rotation_invalid', 'now must be whole epoch seconds');
  if (!Number.isInteger(publishDelayS) || publishDelayS < 0) {
    throw new JitgateError('rotation_invalid', 'the publish delay must be a whole number of seconds, 0 or more');
  }
  if (!Number.isInteger(maxTokenLifetimeS) || maxTokenLifetimeS <= 0) {
    throw new JitgateError('rotation_invalid', 'the maximum token lifetime must be a whole number of seconds, more than 0');
  }
  if (input.existing.some((k) => k.kid === input.newKid)) {
    throw new JitgateError('rotation_invalid', `a signing key with kid ${input.newKid} already exists`);
  }

  const signsFrom = chooseSigner(input.existing, now) === undefined ? now : now + publishDelayS;
  const handsOver = chooseSigner(input.existing, signsFrom > now ? signsFrom - 1 : now);

  const supersede: SupersedeRow[] = [];
  for (const key of input.existing) {
    if (!isPublished(key, now)) continue;
    if (key.supersededAt !== null && key.supersededAt <= signsFrom) continue;
    supersede.push({
      kid: key.kid,
      supersededAt: signsFrom,
      // Never shorten: an earlier rotation may have promised a longer window.
      publishUntil: Math.max(key.publishUntil ?? Number.NEGATIVE_INFINITY, signsFrom + maxTokenLifetimeS),
    });
  }

  let previous: RotationPlan['previous'] = null;
  if (handsOver !== undefined) {
    const updated = supersede.find((s) => s.kid === handsOver.kid);
    const publishUntil = updated?.publishUntil ?? handsOver.publishUntil;
    if (publishUntil !== null) previous = { kid: handsOver.kid, publishUntil };
  }

  return {
    insert: { kid: input.newKid, createdAt: now, signsFrom, supersededAt: null, publishUntil: null },
    supersede,
    previous,
  };
}
