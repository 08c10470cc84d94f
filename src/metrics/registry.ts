/**
 * One prom-client Registry per server or gateway: several can run in one
 * process (tests, the demo), and the global default registry would mix them.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A registry with the Node process metrics (CPU, memory, event loop lag, GC)
 * under their usual names (`process_*`, `nodejs_*`), which dashboards expect.
 */
export function newRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
