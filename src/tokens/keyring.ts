/**
 * The signing keys of one server process, loaded from the store: which key
 * signs now, which keys are published, and the public key for a kid.
 * Reads are synchronous (the token endpoint and JWKS are hot paths); the
 * store is consulted only by open() and refresh().
 */
import type { KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import type { Store } from '../store/open.js';
import type { Database, SigningKeyTable } from '../store/schema.js';
import { JitgateError } from '../util/errors.js';
import type { Kek } from './kek.js';
import { KEYRING_REFRESH_INTERVAL_S } from './key-timing.js';
import { byNewest, chooseSigner, isPublished, type SigningKeyTimes } from './key-state.js';
import {
  SIGNING_ALG,
  generateSigningKey,
  openSigningKey,
  rowTimes,
  sealSigningKey,
  type EcPublicJwk,
} from './signing-key-material.js';
import type { Signer } from './signer.js';
import { withSigningKeysLock } from './signing-keys-lock.js';

/** A key as it appears in the JWKS. */
export interface PublishedJwk extends EcPublicJwk {
  kid: string;
  alg: typeof SIGNING_ALG;
  use: 'sig';
}

export interface KeyringOptions {
  /** Epoch seconds; defaults to the system clock. */
  now?: () => number;
}

interface LoadedKey extends SigningKeyTimes {
  /** The stored sealed/public text, to skip re-opening unchanged rows on refresh. */
  stored: string;
  signer: Signer;
  publicKey: KeyObject;
  jwk: PublishedJwk;
}

const systemNow = (): number => Math.floor(Date.now() / 1000);

export class Keyring {
  readonly #store: Store;
  readonly #kek: Kek;
  readonly #now: () => number;
  #keys: readonly LoadedKey[] = [];
  #refreshing: Promise<void> | null = null;
  #lastRefreshMs = Number.NEGATIVE_INFINITY;

  private constructor(store: Store, kek: Kek, now: () => number) {
    this.#store = store;
    this.#kek = kek;
    this.#now = now;
  }

  /**
   * Loads every published key, opening each with `kek` (`kek_mismatch` if
   * it does not fit). When no key can sign — a new database — it creates
   * one that signs at once; processes starting together on one database
   * create only one between them.
   */
  static async open(store: Store, kek: Kek, opts: KeyringOptions = {}): Promise<Keyring> {
    const keyring = new Keyring(store, kek, opts.now ?? systemNow);
    await keyring.refresh();
    if (chooseSigner(keyring.#keys, keyring.#now()) === undefined) {
      await keyring.#createFirstKey();
      await keyring.refresh();
    }
    return keyring;
  }

  /** The key that signs at `now` (epoch seconds). */
  signer(now: number = this.#now()): Signer {
    const key = chooseSigner(this.#keys, now);
    if (key === undefined) {
      throw new JitgateError(
        'signing_key_missing',
        `no signing key signs at ${new Date(now * 1000).toISOString()}; the keys may need a refresh or a rotation`,
      );
    }
    return key.signer;
  }

  /** The JSON Web Key Set to publish at `now`: every key not past `publish_until`, newest first, public parts only. */
  jwks(now: number = this.#now()): { keys: PublishedJwk[] } {
    return { keys: byNewest(this.#keys.filter((k) => isPublished(k, now))).map((k) => k.jwk) };
  }

  /** The public key for `kid` if that key is published at `now`; otherwise undefined. */
  verificationKey(kid: string, now: number = this.#now()): KeyObject | undefined {
    for (const key of this.#keys) {
      if (key.kid === kid) return isPublished(key, now) ? key.publicKey : undefined;
    }
    return undefined;
  }

  /**
   * Re-reads the keys from the store, so a rotation made elsewhere (the CLI,
   * another node) reaches this process. Concurrent calls share one read.
   * With `minIntervalS`, returns at once if the last read is more recent
   * than that (for refreshes triggered by untrusted input, such as a token
   * naming an unknown kid).
   */
  refresh(opts: { minIntervalS?: number } = {}): Promise<void> {
    if (this.#refreshing !== null) return this.#refreshing;
    if (opts.minIntervalS !== undefined && performance.now() - this.#lastRefreshMs < opts.minIntervalS * 1000) {
      return Promise.resolve();
    }
    this.#refreshing = this.#load().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /**
   * Calls refresh() every `intervalS` seconds until the returned function is
   * called. The timer does not keep the process alive. A failed refresh
   * keeps the keys already loaded and is reported to `onError`.
   */
  startRefreshing(opts: { intervalS?: number; onError: (err: unknown) => void }): () => void {
    const timer = setInterval(
      () => {
        this.refresh().catch(opts.onError);
      },
      (opts.intervalS ?? KEYRING_REFRESH_INTERVAL_S) * 1000,
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  async #load(): Promise<void> {
    const started = performance.now();
    const rows = await readRows(this.#store.db);
    const now = this.#now();
    const previous = new Map(this.#keys.map((k) => [k.kid, k]));
    const loaded: LoadedKey[] = [];
    for (const row of rows) {
      const times = rowTimes(row);
      if (!isPublished(times, now)) continue;
      const stored = `${row.public_jwk}\n${row.private_enc}`;
      const known = previous.get(row.kid);
      if (known !== undefined && known.stored === stored) {
        loaded.push({ ...known, ...times });
        continue;
      }
      const material = await openSigningKey(row, this.#kek);
      loaded.push({
        ...times,
        stored,
        signer: Object.freeze({ kid: material.kid, key: material.privateKey }),
        publicKey: material.publicKey,
        jwk: Object.freeze({ ...material.publicJwk, kid: material.kid, alg: SIGNING_ALG, use: 'sig' as const }),
      });
    }
    // Swap only once every key opened: a failed refresh leaves the last good set.
    this.#keys = loaded;
    this.#lastRefreshMs = started;
  }

  async #createFirstKey(): Promise<void> {
    const material = await generateSigningKey();
    await withSigningKeysLock(this.#store, async (db) => {
      const now = this.#now();
      const rows = await readRows(db);
      if (chooseSigner(rows.map(rowTimes), now) !== undefined) return; // another process was first
      await db
        .insertInto('signing_keys')
        .values(sealSigningKey(material, this.#kek, { createdAt: now, signsFrom: now, supersededAt: null, publishUntil: null }))
        .execute();
    });
  }
}

async function readRows(db: Kysely<Database>): Promise<SigningKeyTable[]> {
  return db.selectFrom('signing_keys').selectAll().execute();
}
