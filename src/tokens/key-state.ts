/**
 * The life of a signing key as a function of time, computed from its stored
 * instants (epoch seconds). Pure: the keyring, rotation and `keys list` all
 * read keys through these rules, so they cannot disagree.
 *
 *   created ──► signs_from ──► superseded_at ──► publish_until
 *   [pending: published]  [signing]  [retiring: published, verifies only]  [retired: gone]
 */
export interface SigningKeyTimes {
  kid: string;
  createdAt: number;
  signsFrom: number;
  supersededAt: number | null;
  publishUntil: number | null;
}

export type SigningKeyState = 'pending' | 'signing' | 'standby' | 'retiring' | 'retired';

/** In the JWKS (and accepted for verification) until `publish_until`, exclusive. */
export function isPublished(key: SigningKeyTimes, now: number): boolean {
  return key.publishUntil === null || now < key.publishUntil;
}

function mayStillSign(key: SigningKeyTimes, now: number): boolean {
  return key.signsFrom <= now && (key.supersededAt === null || now < key.supersededAt) && isPublished(key, now);
}

/**
 * The key that signs at `now`: the newest published key whose `signs_from`
 * has come and that has not been superseded. Ties (two keys created at once
 * by racing processes) go to the later `signs_from`, then the later (or no)
 * `superseded_at`, then `created_at`, then the greater kid, so every node
 * picks the same one.
 */
export function chooseSigner<T extends SigningKeyTimes>(keys: readonly T[], now: number): T | undefined {
  let best: T | undefined;
  for (const key of keys) {
    if (!mayStillSign(key, now)) continue;
    if (best === undefined || newer(key, best)) best = key;
  }
  return best;
}

function newer(a: SigningKeyTimes, b: SigningKeyTimes): boolean {
  if (a.signsFrom !== b.signsFrom) return a.signsFrom > b.signsFrom;
  // Same start (a rotation with no delay in the second the old key began):
  // the one not superseded is the newer.
  const aEnd = a.supersededAt ?? Number.POSITIVE_INFINITY;
  const bEnd = b.supersededAt ?? Number.POSITIVE_INFINITY;
  if (aEnd !== bEnd) return aEnd > bEnd;
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt;
  return a.kid > b.kid;
}

/**
 * What a key is doing at `now`. `standby` is a published key that could sign
 * but another one was chosen (only after two processes created keys at the
 * same moment; the next rotation supersedes it).
 */
export function keyState(keys: readonly SigningKeyTimes[], key: SigningKeyTimes, now: number): SigningKeyState {
  if (!isPublished(key, now)) return 'retired';
  if (now < key.signsFrom) return 'pending';
  if (key.supersededAt !== null && now >= key.supersededAt) return 'retiring';
  return chooseSigner(keys, now)?.kid === key.kid ? 'signing' : 'standby';
}

/** Newest first: the order of the JWKS and of `keys list`. */
export function byNewest<T extends SigningKeyTimes>(keys: readonly T[]): T[] {
  return [...keys].sort((a, b) => (newer(a, b) ? -1 : newer(b, a) ? 1 : 0));
}
