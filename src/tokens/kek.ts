/**
 * The key-encryption key (KEK): a 32-byte AES-256-GCM key that seals the
 * signing keys' private parts before they reach the database, so a copy of
 * the database alone cannot mint tokens.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseDbUrl } from '../store/db-url.js';
import { JitgateError } from '../util/errors.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** First byte of every sealed value; a future format (e.g. a KEK rotation) gets a new one. */
const FORMAT_V1 = 0x01;
/** Name of the generated KEK file, beside an SQLite database file. */
export const KEK_FILE_NAME = 'kek';

const HOW_TO_MAKE =
  'make one with `openssl rand -base64 32` and pass it as JITGATE_KEK, or write it to a file named by JITGATE_KEK_FILE';

/** Where the KEK came from, for start-up messages (never the key itself). */
export type KekSource =
  | { kind: 'env' }
  | { kind: 'file'; path: string }
  | { kind: 'generated'; path: string; created: boolean }
  | { kind: 'ephemeral' }
  | { kind: 'provided' };

/**
 * Seals and opens signing-key material. The kid is bound as additional
 * authenticated data, so a sealed private key copied onto another row fails
 * to open instead of being used under a different kid.
 */
export class Kek {
  readonly #key: KeyObject;
  readonly source: KekSource;

  private constructor(key: KeyObject, source: KekSource) {
    this.#key = key;
    this.source = source;
  }

  /** A KEK from raw bytes (exactly 32). */
  static fromBytes(bytes: Uint8Array, source: KekSource = { kind: 'provided' }): Kek {
    if (bytes.length !== KEY_BYTES) {
      throw new JitgateError('kek_invalid', `the key-encryption key must be ${KEY_BYTES} bytes; ${HOW_TO_MAKE}`);
    }
    return new Kek(createSecretKey(Buffer.from(bytes)), source);
  }

  /** A fresh random KEK, e.g. for a throw-away in-memory database. */
  static generate(source: KekSource = { kind: 'ephemeral' }): Kek {
    return Kek.fromBytes(randomBytes(KEY_BYTES), source);
  }

  /** Encrypts `plaintext` for the row `kid`; returns base64url(version ‖ iv ‖ ciphertext ‖ tag). */
  seal(kid: string, plaintext: Uint8Array): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(kid));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(FORMAT_V1), iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * Decrypts what `seal(kid, …)` produced. A value that does not
   * authenticate (another KEK, another kid, altered bytes) is `kek_mismatch`.
   */
  open(kid: string, sealed: string): Buffer {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 1 + IV_BYTES + TAG_BYTES || raw[0] !== FORMAT_V1) {
      throw new JitgateError('signing_key_corrupt', `the sealed private part of signing key ${kid} is not in a known format`);
    }
    const iv = raw.subarray(1, 1 + IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(kid));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch (err) {
      throw new JitgateError(
        'kek_mismatch',
        `the key-encryption key does not open the signing keys in this database (signing key ${kid}); ` +
          'start with the KEK the keys were sealed with',
        { cause: err },
      );
    }
  }

  /** Keeps the key out of logs and JSON. */
  toJSON(): { source: KekSource } {
    return { source: this.source };
  }
}

function aad(kid: string): Buffer {
  return Buffer.from(`jitgate signing key ${kid}`, 'utf8');
}

/**
 * Parses a KEK written as base64 or base64url (padding optional, surrounding
 * whitespace ignored). `where` names the source in the error message; the
 * value itself is never echoed.
 */
export function parseKek(text: string, where: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new JitgateError('kek_invalid', `${where} is not base64 of ${KEY_BYTES} random bytes; ${HOW_TO_MAKE}`);
  }
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== KEY_BYTES) {
    throw new JitgateError(
      'kek_invalid',
      `${where} decodes to ${bytes.length} bytes, not ${KEY_BYTES}; ${HOW_TO_MAKE}`,
    );
  }
  return bytes;
}

export interface ResolveKekOptions {
  env: NodeJS.ProcessEnv;
  /** The database URL (`sqlite:PATH`, `sqlite::memory:` or `postgres://…`). */
  dbUrl: string;
}

/**
 * Finds the KEK: `JITGATE_KEK` (base64 of 32 bytes), else the file named by
 * `JITGATE_KEK_FILE`, else — for SQLite only — a file `kek` beside the
 * database, generated with mode 0600 on first use. PostgreSQL deployments
 * run several nodes and must share the KEK explicitly, so nothing is
 * generated for them (`kek_missing`).
 */
export async function resolveKek(opts: ResolveKekOptions): Promise<Kek> {
  const fromEnv = nonEmpty(opts.env.JITGATE_KEK);
  const fromFile = nonEmpty(opts.env.JITGATE_KEK_FILE);
  if (fromEnv !== undefined && fromFile !== undefined) {
    throw new JitgateError('kek_invalid', 'both JITGATE_KEK and JITGATE_KEK_FILE are set; set only one');
  }
  if (fromEnv !== undefined) return Kek.fromBytes(parseKek(fromEnv, 'JITGATE_KEK'), { kind: 'env' });
  if (fromFile !== undefined) {
    const text = await readKekFile(fromFile, 'JITGATE_KEK_FILE');
    return Kek.fromBytes(parseKek(text, `JITGATE_KEK_FILE (${fromFile})`), { kind: 'file', path: fromFile });
  }

  const target = parseDbUrl(opts.dbUrl);
  if (target.dialect === 'postgres') {
    throw new JitgateError(
      'kek_missing',
      'no key-encryption key: a PostgreSQL database needs JITGATE_KEK or JITGATE_KEK_FILE, the same on every node ' +
        `(${HOW_TO_MAKE}); keep it apart from database backups`,
    );
  }
  // An in-memory database dies with the process, and its keys with it.
  if (target.path === ':memory:') return Kek.generate({ kind: 'ephemeral' });
  return generatedKek(join(dirname(target.path), KEK_FILE_NAME));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

async function readKekFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new JitgateError('kek_missing', `${what} names ${path}, which cannot be read (${code})`, { cause: err });
  }
}

async function generatedKek(path: string): Promise<Kek> {
  const existing = await readGeneratedKek(path);
  if (existing !== null) return Kek.fromBytes(existing, { kind: 'generated', path, created: false });

  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const bytes = randomBytes(KEY_BYTES);
  const created = await createExclusive(path, `${bytes.toString('base64')}\n`);
  if (created) return Kek.fromBytes(bytes, { kind: 'generated', path, created: true });
  // Another process created it between our read and our create: use theirs.
  const theirs = await readGeneratedKek(path);
  if (theirs === null) throw new JitgateError('kek_missing', `${path} vanished while it was being created`);
  return Kek.fromBytes(theirs, { kind: 'generated', path, created: false });
}

/** The bytes of an existing generated KEK file, or null when there is none. */
async function readGeneratedKek(path: string): Promise<Buffer | null> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new JitgateError(
      'kek_insecure_permissions',
      `${path} is accessible to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); ` +
        `it holds the key-encryption key: run \`chmod 600 ${path}\` and check who could have read it`,
    );
  }
  return parseKek(await readFile(path, 'utf8'), path);
}

/**
 * Writes `content` to `path` only if nothing is there, never exposing a
 * half-written file: the content goes to a private temporary file that is
 * then hard-linked into place (link fails if the name exists).
 */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') return createWithoutLink(path, content);
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** For file systems without hard links: exclusive create, then write. */
async function createWithoutLink(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}
