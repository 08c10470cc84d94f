/** What the server's `/readyz` checks: the database answers, a signing key signs, a policy is in force. */
import { sql } from 'kysely';
import type { ServerContext } from '../http/context.js';
import { nowS } from '../util/clock.js';
import { withTimeout, type ReadinessCheck } from './readiness.js';

/** How long the database gets to answer `SELECT 1`. */
export const DB_CHECK_TIMEOUT_MS = 2000;

export async function serverReadiness(ctx: ServerContext): Promise<ReadinessCheck[]> {
  const database = await withTimeout(sql`select 1`.execute(ctx.store.db), DB_CHECK_TIMEOUT_MS, 'the database').then(
    (): ReadinessCheck => ({ name: 'database', ok: true }),
    (err: Error): ReadinessCheck => {
      // The driver's message may name hosts and users: it goes to the log, not to whoever asks /readyz.
      ctx.log.warn({ err: { message: firstLine(err.message) } }, 'readiness: the database check failed');
      return { name: 'database', ok: false, detail: 'the database did not answer a query' };
    },
  );
  let keys: ReadinessCheck;
  try {
    ctx.keyring.signer(nowS(ctx.clock));
    keys = { name: 'signing_keys', ok: true };
  } catch (err) {
    keys = { name: 'signing_keys', ok: false, detail: firstLine((err as Error).message) };
  }
  const policy: ReadinessCheck = ctx.policy.current ? { name: 'policy', ok: true } : { name: 'policy', ok: false, detail: 'no policy loaded' };
  return [database, keys, policy];
}

/** Driver messages can be long or multi-line; a check's detail is one short line. */
function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}
