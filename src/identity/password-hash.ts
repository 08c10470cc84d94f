/**
 * Password hashes for local users: scrypt (RFC 7914) from node:crypto, in a
 * self-describing string `scrypt$N=16384,r=8,p=1$<salt>$<hash>` (salt and
 * hash base64url). Verification reads the parameters from the string, so
 * they can be raised later without invalidating stored hashes; `needsRehash`
 * tells when a stored hash was made with weaker ones than today's.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { JitgateError } from '../util/errors.js';

/** Shortest password accepted, in characters (NIST SP 800-63B asks for at least 8; we ask more). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted, in characters: enough for any passphrase, bounded so hashing stays cheap. */
export const MAX_PASSWORD_LENGTH = 1024;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/**
 * Today's parameters: N=2^14, r=8, p=1 is 16 MiB and about 40 ms per hash on
 * a 2-core server (docs/users.md has the measurement). Raise N here when
 * machines get faster; old hashes keep verifying and `needsRehash` flags them.
 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = { N: 2 ** 14, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on parameters read from a stored string, so a corrupt row cannot make one verification eat the machine. */
const MAX_LOG2_N = 20;
const MAX_R = 32;
const MAX_P = 16;

const FORMAT = /^scrypt\$N=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9_-]{16,128})\$([A-Za-z0-9_-]{32,256})$/;

/** A stored hash taken apart. */
export interface ParsedPasswordHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

/** Refuses a password outside the length bounds with `password_too_short` / `password_too_long`. */
export function checkPasswordStrength(password: string): void {
  const length = [...password.normalize('NFKC')].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new JitgateError('password_too_short', `the password must be at least ${MIN_PASSWORD_LENGTH} characters long`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new JitgateError('password_too_long', `the password must be at most ${MAX_PASSWORD_LENGTH} characters long`);
  }
}

/** Hashes `password` with a fresh random salt. The caller checks strength first. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, KEY_BYTES);
  return formatPasswordHash({ params, salt, hash });
}

/**
 * Whether `password` is the one `stored` was made from, compared in
 * constant time. A stored string that does not parse is `password_hash_invalid`
 * (a broken row is an operator's problem, not a wrong password).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}

/** Whether `stored` was made with parameters other than `params` (today's by default). */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  const p = parsePasswordHash(stored).params;
  return p.N !== params.N || p.r !== params.r || p.p !== params.p;
}

export function formatPasswordHash(h: ParsedPasswordHash): string {
  return `scrypt$N=${h.params.N},r=${h.params.r},p=${h.params.p}$${h.salt.toString('base64url')}$${h.hash.toString('base64url')}`;
}

/** Takes a stored hash apart; `password_hash_invalid` when it is not one this version reads. */
export function parsePasswordHash(stored: string): ParsedPasswordHash {
  const m = FORMAT.exec(stored);
  if (!m) throw new JitgateError('password_hash_invalid', 'the stored password hash is not in the scrypt$N=…,r=…,p=…$salt$hash format');
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  checkParams(params);
  return { params, salt: Buffer.from(m[4]!, 'base64url'), hash: Buffer.from(m[5]!, 'base64url') };
}

function checkParams({ N, r, p }: ScryptParams): void {
  const log2N = Math.log2(N);
  if (!Number.isInteger(log2N) || log2N < 1 || log2N > MAX_LOG2_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) {
    throw new JitgateError('password_hash_invalid', `scrypt parameters N=${N}, r=${r}, p=${p} are out of bounds`);
  }
}

/** The async scrypt: it runs on libuv's thread pool, never on the event loop. */
function derive(password: string, salt: Buffer, params: ScryptParams, keyLength: number): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    // scrypt needs 128·N·r·p bytes; node's default cap (32 MiB) would refuse raised parameters.
    maxmem: 128 * params.N * params.r * params.p + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
