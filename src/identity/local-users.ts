/**
 * jitgate's own identity source: users with a password and, optionally, a
 * TOTP authenticator. Everything that decides a login (the failure counter,
 * the lock, the last TOTP step) lives in the database row, changed under a
 * row lock, so it holds across restarts and across nodes sharing PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import type { Selectable, Transaction } from 'kysely';
import type { AppendFn, AuditLog } from '../audit/log.js';
import type { NewAuditEvent } from '../audit/append.js';
import type { Store } from '../store/open.js';
import type { Database, UserTable } from '../store/schema.js';
import type { Kek } from '../tokens/kek.js';
import { nowS, type Clock } from '../util/clock.js';
import { JitgateError } from '../util/errors.js';
import { LoginError, type LoginErrorCode } from './login-error.js';
import { lockedFor, lockoutSeconds } from './lockout.js';
import { MFA_ACR } from './mfa.js';
import { checkPasswordStrength, hashPassword, MAX_PASSWORD_LENGTH, needsRehash, verifyPassword } from './password-hash.js';
import type { AuthenticatedPerson } from './person.js';
import { revokePrincipalIn, type PrincipalRevocation } from '../access/principal-revocation.js';
import { generateTotpSecret, matchTotpStep, totpSecretBase32, totpUri } from './totp.js';

/** Lower-case letters, digits, `.`, `_`, `-`; 1 to 64 characters. */
export const USERNAME_PATTERN = /^[a-z0-9._-]{1,64}$/;

export const USER_CREATED_EVENT = 'user.created';
export const USER_PASSWORD_CHANGED_EVENT = 'user.password_changed';
export const USER_MFA_ENROLLED_EVENT = 'user.mfa_enrolled';
export const USER_REMOVED_EVENT = 'user.removed';
export const USER_LOGIN_FAILED_EVENT = 'user.login_failed';
export const USER_LOCKED_EVENT = 'user.locked';

export interface LocalUsersDeps {
  store: Store;
  clock: Clock;
  /**
   * Seals TOTP secrets at rest, as it seals signing keys. Needed to enroll
   * TOTP and to log in users who have it; verbs that only add, list or
   * remove users may leave it out (`kek_missing` if they reach for it).
   */
  kek?: Kek | null;
  /** Where user.* events go; the server passes its own so listeners hear them. */
  audit: AuditLog;
}

export interface LoginInput {
  username: string;
  password: string;
  /** The 6-digit TOTP code, when the person gave one. */
  otp?: string;
  /** The caller's address, for the audit trail. */
  address?: string;
}

export interface LoginOptions {
  /** Step-up: refuse unless the login includes a TOTP code (`otp_required`, or `mfa_not_enrolled`). */
  requireOtp?: boolean;
}

/** A user as listed: never the hash or the secret. */
export interface LocalUserView {
  username: string;
  principal: string;
  mfa: boolean;
  failedAttempts: number;
  /** Epoch seconds, or null when not locked. */
  lockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What `enrollTotp` hands to the person, once: the secret is sealed in the database after this. */
export interface TotpEnrollment {
  /** Base32, for typing into an authenticator app. */
  secret: string;
  /** `otpauth://totp/…`, for a QR code. */
  uri: string;
}

type UserRow = Selectable<UserTable>;

/** UTF-16 units: room for MAX_PASSWORD_LENGTH characters outside the BMP. */
const MAX_PASSWORD_INPUT = MAX_PASSWORD_LENGTH * 2;

/** What the locked transaction of a login decided; thrown or returned once it has committed. */
type Verdict = { ok: true; person: AuthenticatedPerson } | { ok: false; error: LoginError };

export class LocalUsers {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #kek: Kek | null;
  readonly #audit: AuditLog;
  #dummyHash: Promise<string> | undefined;

  constructor(deps: LocalUsersDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#kek = deps.kek ?? null;
    this.#audit = deps.audit;
  }

  /** Creates a user; `user_exists`, `username_invalid`, `password_too_short`/`_long`. */
  async add(username: string, password: string): Promise<LocalUserView> {
    checkUsername(username);
    checkPasswordStrength(password);
    const hash = await hashPassword(password);
    const now = nowS(this.#clock);
    return this.#audit.transact(async (trx, append) => {
      const existing = await trx.selectFrom('users').select('username').where('username', '=', username).executeTakeFirst();
      if (existing) throw new JitgateError('user_exists', `user ${username} exists already`);
      const row: UserRow = {
        username,
        password_hash: hash,
        totp_secret_enc: null,
        totp_last_step: null,
        failed_attempts: 0,
        locked_until: null,
        created_at: now,
        updated_at: now,
      };
      await trx.insertInto('users').values(row).execute();
      await append([userEvent(USER_CREATED_EVENT, username, {})]);
      return view(row);
    });
  }

  /** Replaces a user's password; also lifts a lock and clears the failure count (an operator's recovery). */
  async setPassword(username: string, password: string): Promise<void> {
    checkUsername(username);
    checkPasswordStrength(password);
    const hash = await hashPassword(password);
    const now = nowS(this.#clock);
    await this.#audit.transact(async (trx, append) => {
      const r = await trx
        .updateTable('users')
        .set({ password_hash: hash, failed_attempts: 0, locked_until: null, updated_at: now })
        .where('username', '=', username)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw unknownUser(username);
      await append([userEvent(USER_PASSWORD_CHANGED_EVENT, username, {})]);
    });
  }

  /**
   * Gives the user a new TOTP secret (replacing any earlier one) and returns
   * it for the authenticator app. `issuerLabel` is what the app shows above
   * the account name.
   */
  async enrollTotp(username: string, issuerLabel: string): Promise<TotpEnrollment> {
    checkUsername(username);
    const issuer = issuerLabel.trim();
    if (issuer === '' || issuer.length > 64 || issuer.includes(':')) {
      throw new JitgateError('issuer_label_invalid', 'the issuer label must be 1–64 characters without ":"');
    }
    const secret = generateTotpSecret();
    const sealed = this.#needKek().seal(totpSealId(username), secret);
    const now = nowS(this.#clock);
    await this.#audit.transact(async (trx, append) => {
      const r = await trx
        .updateTable('users')
        // A new secret starts a new sequence of steps.
        .set({ totp_secret_enc: sealed, totp_last_step: null, updated_at: now })
        .where('username', '=', username)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw unknownUser(username);
      await append([userEvent(USER_MFA_ENROLLED_EVENT, username, { method: 'totp', issuer })]);
    });
    return { secret: totpSecretBase32(secret), uri: totpUri(secret, issuer, username) };
  }

  /**
   * Deletes the user (`user_unknown` when there is none) and, in the same transaction, revokes everything
   * `user:<name>` holds (tokens, grants, refresh families, login sessions):
   * a removed user's access ends with the account, not when its tokens run out.
   */
  async remove(username: string): Promise<PrincipalRevocation> {
    checkUsername(username);
    return this.#audit.transact(async (trx, append) => {
      const r = await trx.deleteFrom('users').where('username', '=', username).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw unknownUser(username);
      await append([userEvent(USER_REMOVED_EVENT, username, {})]);
      return revokePrincipalIn(trx, append, { principal: `user:${username}`, by: null, reason: 'the local user was removed', at: nowS(this.#clock) });
    });
  }

  /** One user, or undefined. */
  async get(username: string): Promise<LocalUserView | undefined> {
    if (!USERNAME_PATTERN.test(username)) return undefined;
    const row = await this.#find(username);
    return row && view(row);
  }

  /** Every user, by name. */
  async list(): Promise<LocalUserView[]> {
    const rows = await this.#store.db.selectFrom('users').selectAll().orderBy('username').execute();
    return rows.map(view);
  }

  /**
   * Checks a password (and a TOTP code where the user has one) and returns
   * who logged in, or throws {@link LoginError}. The expensive hash runs
   * before any lock is taken; the counter, the lock and the replay check are
   * decided afterwards in one transaction on the user's row, so parallel
   * guesses all count and a code is accepted once, on any node.
   */
  async login(input: LoginInput, opts: LoginOptions = {}): Promise<AuthenticatedPerson> {
    // Names are stored in lower case; "Alice " at the login form means alice. ASCII only: no Unicode case folding surprises.
    const username = input.username.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
    const { password } = input;
    const nowMs = this.#clock.nowMs();
    const now = Math.floor(nowMs / 1000);
    const address = input.address ?? null;

    const row = USERNAME_PATTERN.test(username) ? await this.#find(username) : undefined;
    if (row) {
      const wait = lockedFor(row.locked_until, now);
      if (wait > 0) {
        await this.#recordRefusal(username, true, 'locked', address);
        throw new LoginError('locked', wait);
      }
    }

    // Unknown users cost one scrypt too, so timing does not tell who exists.
    const stored = row?.password_hash ?? (await this.#dummy());
    // A password no account can have is wrong without hashing megabytes of it.
    const passwordOk = password.length <= MAX_PASSWORD_INPUT && (await verifyPassword(password, stored));
    if (!row) {
      await this.#recordRefusal(username, false, 'invalid_credentials', address);
      throw new LoginError('invalid_credentials');
    }
    if (!passwordOk) return this.#fail(username, 'invalid_credentials', now, address);

    const enrolled = row.totp_secret_enc !== null;
    // Apps show "123 456"; people type it so.
    const otp = input.otp?.replace(/\s+/g, '') || undefined;
    if (!enrolled && opts.requireOtp) {
      await this.#recordRefusal(username, true, 'mfa_not_enrolled', address);
      throw new LoginError('mfa_not_enrolled');
    }
    // The first half of a two-step login: neither a failure nor a success.
    if (enrolled && otp === undefined) throw new LoginError('otp_required');

    let step: number | null = null;
    if (enrolled) {
      step = matchTotpStep(this.#openSecret(username, row.totp_secret_enc!), otp!, nowMs);
      if (step === null) return this.#fail(username, 'otp_invalid', now, address);
    }

    const verdict = await this.#audit.transact(async (trx, append): Promise<Verdict> => {
      const current = await this.#lockRow(trx, username);
      // Removed, or re-enrolled with another secret, while the hash ran.
      if (!current || current.totp_secret_enc !== row.totp_secret_enc) {
        return { ok: false, error: new LoginError('invalid_credentials') };
      }
      const wait = lockedFor(current.locked_until, now);
      if (wait > 0) {
        // A parallel guess locked the account while this one was hashed: refused like any other attempt now.
        await append([failedEvent(username, true, 'locked', address)]);
        return { ok: false, error: new LoginError('locked', wait) };
      }
      if (step !== null && current.totp_last_step !== null && step <= Number(current.totp_last_step)) {
        return { ok: false, error: await this.#countFailure(trx, append, current, 'otp_replayed', now, address) };
      }
      await trx
        .updateTable('users')
        .set({
          failed_attempts: 0,
          locked_until: null,
          ...(step !== null ? { totp_last_step: step } : {}),
        })
        .where('username', '=', username)
        .execute();
      return { ok: true, person: person(username, step !== null, now) };
    });
    if (!verdict.ok) throw verdict.error;
    if (needsRehash(row.password_hash)) await this.#rehash(username, password, row.password_hash);
    return verdict.person;
  }

  async #find(username: string): Promise<UserRow | undefined> {
    return this.#store.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  /** The user's row, locked for the rest of the transaction (SQLite: the transaction holds the write lock already). */
  async #lockRow(trx: Transaction<Database>, username: string): Promise<UserRow | undefined> {
    let q = trx.selectFrom('users').selectAll().where('username', '=', username);
    if (this.#store.dialect === 'postgres') q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r && { ...r, failed_attempts: Number(r.failed_attempts), locked_until: r.locked_until === null ? null : Number(r.locked_until) };
  }

  /** Counts a failure under the row lock, locks the account at the threshold, and throws once committed. */
  async #fail(username: string, code: LoginErrorCode, now: number, address: string | null): Promise<never> {
    const error = await this.#audit.transact(async (trx, append) => {
      const current = await this.#lockRow(trx, username);
      if (!current) {
        await append([failedEvent(username, false, code, address)]);
        return new LoginError(code);
      }
      return this.#countFailure(trx, append, current, code, now, address);
    });
    throw error;
  }

  async #countFailure(
    trx: Transaction<Database>,
    append: AppendFn,
    current: UserRow,
    code: LoginErrorCode,
    now: number,
    address: string | null,
  ): Promise<LoginError> {
    const failures = current.failed_attempts + 1;
    const lockS = lockoutSeconds(failures);
    // A guess that raced past the lock check still counts, and never shortens a lock already running.
    const lockedUntil = lockS > 0 ? Math.max(now + lockS, current.locked_until ?? 0) : current.locked_until;
    await trx
      .updateTable('users')
      .set({ failed_attempts: failures, locked_until: lockedUntil })
      .where('username', '=', current.username)
      .execute();
    const events = [failedEvent(current.username, true, code, address, failures)];
    if (lockS > 0) {
      events.push(userEvent(USER_LOCKED_EVENT, current.username, { failures, locked_until: lockedUntil, lock_s: lockS }));
    }
    await append(events);
    return new LoginError(code);
  }

  /** Records a refusal that does not count towards the lock (the account is locked already, or MFA is missing). */
  async #recordRefusal(username: string, known: boolean, code: LoginErrorCode, address: string | null): Promise<void> {
    await this.#audit.transact((_trx, append) => append([failedEvent(username, known, code, address)]));
  }

  /** Stores a hash with today's parameters once the old one has proven the password. */
  async #rehash(username: string, password: string, old: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.#store.db
      .updateTable('users')
      .set({ password_hash: hash })
      .where('username', '=', username)
      .where('password_hash', '=', old)
      .execute();
  }

  #needKek(): Kek {
    if (this.#kek === null) throw new JitgateError('kek_missing', 'TOTP secrets are sealed with the key-encryption key, and none was given');
    return this.#kek;
  }

  #openSecret(username: string, sealed: string): Buffer {
    const kek = this.#needKek();
    try {
      return kek.open(totpSealId(username), sealed);
    } catch (err) {
      throw new JitgateError(
        'totp_secret_unreadable',
        `the TOTP secret of user ${username} does not open with this key-encryption key; ` +
          'start with the KEK it was enrolled under, or enroll the user again',
        { cause: err },
      );
    }
  }

  /** A hash of a random password with today's parameters: what unknown users are checked against. */
  #dummy(): Promise<string> {
    return (this.#dummyHash ??= hashPassword(randomBytes(18).toString('base64url')));
  }
}

/** Refuses a name outside {@link USERNAME_PATTERN} with `username_invalid`. */
export function checkUsername(username: string): void {
  if (!USERNAME_PATTERN.test(username)) {
    throw new JitgateError(
      'username_invalid',
      'a username is 1–64 characters of lower-case letters, digits, ".", "_" and "-"',
    );
  }
}

/**
 * The id a TOTP secret is sealed under: the KEK binds it as additional data,
 * so a sealed secret copied onto another user's row does not open. Signing
 * key ids are JWK thumbprints (no ":"), so the two never meet.
 */
function totpSealId(username: string): string {
  return `totp:${username}`;
}

function unknownUser(username: string): JitgateError {
  return new JitgateError('user_unknown', `there is no user ${username}`);
}

function person(username: string, mfa: boolean, now: number): AuthenticatedPerson {
  return {
    principal: `user:${username}`,
    amr: mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'],
    acr: mfa ? MFA_ACR : null,
    authTime: now,
  };
}

function view(row: UserRow): LocalUserView {
  return {
    username: row.username,
    principal: `user:${row.username}`,
    mfa: row.totp_secret_enc !== null,
    failedAttempts: Number(row.failed_attempts),
    lockedUntil: row.locked_until === null ? null : Number(row.locked_until),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function userEvent(type: string, username: string, data: Record<string, unknown>): NewAuditEvent {
  return { type, actor: null, subject: `user:${username}`, data: { username, ...data } };
}

/**
 * `user.login_failed`: the code and the address, never the password or the
 * code typed. Names that are not valid usernames are attacker text: left out.
 */
function failedEvent(
  username: string,
  known: boolean,
  code: LoginErrorCode,
  address: string | null,
  failures?: number,
): NewAuditEvent {
  const valid = USERNAME_PATTERN.test(username);
  return {
    type: USER_LOGIN_FAILED_EVENT,
    actor: null,
    subject: valid ? `user:${username}` : null,
    data: {
      username: valid ? username : null,
      known_user: known,
      code,
      address,
      ...(failures !== undefined ? { failures } : {}),
    },
  };
}
