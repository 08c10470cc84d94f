/**
 * A `CycleHttp` on plain fetch, for the few scripted steps a case takes
 * outside a measured load (readying a server, checking it afterwards). It
 * fails the same way as the pooled one: on any status but the expected one,
 * naming the refusal's code but never quoting a body.
 */
import type { CycleHttp, StepRequest, StepResponse } from './types.js';

/** Sends steps to `origin` (`http://127.0.0.1:PORT`). */
export function fetchHttp(origin: string): CycleHttp {
  return {
    async send(req: StepRequest): Promise<StepResponse> {
      const res = await fetch(new URL(req.path, origin), { method: req.method, headers: req.headers, body: req.body });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        // Judged below: a refusal is named by status alone, a success must be JSON.
      }
      const body = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
      if (res.status !== req.expectStatus) {
        const code = [body?.code, body?.error].find((v) => typeof v === 'string');
        throw new Error(`${req.step}: ${res.status}${code ? ` (${String(code)})` : ''}, expected ${req.expectStatus}`);
      }
      if (!body) throw new Error(`${req.step}: the body is not a JSON object`);
      return { status: res.status, json: body };
    },
    reject(step: string, why: string): never {
      throw new Error(`${step}: ${why}`);
    },
  };
}
