/**
 * What the audit log needs from a running server: `policy.loaded` at start
 * and on every reload that changes the policy, and the checkpoint task.
 */
import type { ServerContext } from '../http/context.js';
import type { Policy } from '../policy/types.js';
import { JitgateError } from '../util/errors.js';
import { Checkpointer, DEFAULT_CHECKPOINT_SCHEDULE, type CheckpointSchedule } from './checkpointer.js';

export const POLICY_LOADED_EVENT = 'policy.loaded';

export interface AuditTaskOptions {
  /** The policy file, recorded as the source of each load. */
  policyPath: string | null;
  /** Overrides of the checkpoint schedule; the environment is read for what is not given here. */
  checkpoint?: Partial<CheckpointSchedule>;
  env?: NodeJS.ProcessEnv;
}

/** Environment overrides of the checkpoint schedule. */
export const CHECKPOINT_EVENTS_ENV = 'JITGATE_AUDIT_CHECKPOINT_EVENTS';
export const CHECKPOINT_SECONDS_ENV = 'JITGATE_AUDIT_CHECKPOINT_SECONDS';

function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new JitgateError('config_invalid', `${name} must be a whole number of 1 or more (got "${raw}")`);
  return n;
}

/** The schedule in force: explicit options, then the environment, then the defaults. */
export function checkpointSchedule(opts: Partial<CheckpointSchedule> = {}, env: NodeJS.ProcessEnv = {}): CheckpointSchedule {
  const seconds = positiveInt(env, CHECKPOINT_SECONDS_ENV);
  return {
    everyEvents: opts.everyEvents ?? positiveInt(env, CHECKPOINT_EVENTS_ENV) ?? DEFAULT_CHECKPOINT_SCHEDULE.everyEvents,
    everyMs: opts.everyMs ?? (seconds !== undefined ? seconds * 1000 : DEFAULT_CHECKPOINT_SCHEDULE.everyMs),
  };
}

/**
 * Starts the audit tasks of a server that is listening (its issuer known);
 * resolves once the start's `policy.loaded` is durable, with the cleanup.
 */
export async function startAuditTasks(ctx: ServerContext, opts: AuditTaskOptions): Promise<() => Promise<void>> {
  const schedule = checkpointSchedule(opts.checkpoint, opts.env);
  const record = (policy: Policy, previous: Policy | null) =>
    ctx.audit.transact(async (_trx, append) => {
      await append([
        {
          type: POLICY_LOADED_EVENT,
          actor: null,
          subject: null,
          data: { hash: policy.hash, source: opts.policyPath, ...(previous ? { previous_hash: previous.hash } : {}) },
        },
      ]);
    });
  await record(ctx.policy.current, null);
  const onReloaded = (next: Policy, prev: Policy) => {
    record(next, prev).catch((err: unknown) => ctx.log.error({ err, policy: next.hash }, 'recording the policy reload in the audit log failed'));
  };
  ctx.policy.on('reloaded', onReloaded);

  const checkpointer = new Checkpointer({
    db: ctx.store.db,
    signer: (at) => ctx.keyring.signer(at),
    issuer: () => ctx.config.issuer,
    clock: ctx.clock,
    log: ctx.log,
    schedule,
  });
  checkpointer.start(ctx.audit);
  return async () => {
    ctx.policy.off('reloaded', onReloaded);
    await checkpointer.stop();
  };
}
