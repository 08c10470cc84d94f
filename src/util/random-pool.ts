import { randomFillSync } from 'node:crypto';

/**
 * Random bytes drawn from a pooled buffer refilled 4 KiB at a time: one call
 * into the CSPRNG per ~250 token ids instead of one per id, on the paths
 * that make an id for every token and every audit event.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** Copies `length` fresh random bytes into `target` at `at`. */
export function fillRandom(target: Buffer, at: number, length: number): void {
  if (offset + length > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  pool.copy(target, at, offset, offset + length);
  // Bytes handed out are never handed out again.
  pool.fill(0, offset, offset + length);
  offset += length;
}

/** `length` fresh random bytes as base64url. */
export function randomBase64url(length: number): string {
  const out = Buffer.allocUnsafe(length);
  fillRandom(out, 0, length);
  return out.toString('base64url');
}
