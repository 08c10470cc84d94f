import type { Logger } from 'pino';
import type { Store } from '../store/open.js';
import type { WriteBatcher } from '../store/write-batcher.js';
import type { TokenRecorder } from '../oauth/token-recorder.js';
import type { Keyring } from '../tokens/keyring.js';
import type { AuditLog } from '../audit/log.js';
import type { PolicyHolder } from '../policy/holder.js';
import type { Clock } from '../util/clock.js';
import type { FailureLimiter } from './failure-limiter.js';
import type { FederationVerifier } from '../identity/federation.js';
import type { LocalUsers } from '../identity/local-users.js';
import type { ServerConfig } from './config.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';

/** Everything a request handler needs, built once by the server and passed down. */
export interface ServerContext {
  config: ServerConfig;
  store: Store;
  /** Group commit for hot-path writes (issued tokens). */
  writer: WriteBatcher<unknown>;
  /** Issued-token records, one INSERT per turn of the event loop. */
  tokens: TokenRecorder;
  keyring: Keyring;
  /** The hash-chained audit log: append within a change's transaction, announced after commit. */
  audit: AuditLog;
  policy: PolicyHolder;
  clock: Clock;
  /** Failed client authentications, per client id and per address. */
  authFailures: { client: FailureLimiter; address: FailureLimiter };
  federation: FederationVerifier;
  /** jitgate's own users (password and TOTP); the login page signs them in. */
  users: LocalUsers;
  log: Logger;
  /** Prometheus series of this server (docs/operations.md). */
  metrics: ServerMetrics;
}
