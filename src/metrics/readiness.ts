/**
 * `/readyz` answers, shared by the server and the gateway (pure). Ready:
 * 200 `{"status":"ready","checks":{…}}`. Not ready: 503 problem+json
 * `not_ready` whose `detail` names what is missing and whose `checks` holds
 * every check's state, so a load balancer takes the node out and a person
 * sees why.
 */
import { Problem } from '../http/problem.js';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  /** Why it is not ready (or a short fact when it is). */
  detail?: string;
}

export interface ReadinessAnswer {
  status: 200 | 503;
  contentType: string;
  body: Record<string, unknown>;
}

export function readinessAnswer(checks: readonly ReadinessCheck[]): ReadinessAnswer {
  const states: Record<string, string> = {};
  for (const c of checks) states[c.name] = c.ok ? 'ok' : `not ready: ${c.detail ?? 'failed'}`;
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) return { status: 200, contentType: 'application/json', body: { status: 'ready', checks: states } };
  const problem = new Problem(503, 'not_ready', `not ready: ${failed.map((c) => `${c.name} (${c.detail ?? 'failed'})`).join('; ')}`, {
    extra: { checks: states },
  });
  return { status: 503, contentType: 'application/problem+json', body: problem.toJSON() };
}

/** `promise`, or a rejection after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
