/**
 * Listening for the demo: loopback only, with a clear error when a port is
 * taken instead of a stack trace.
 */
import { createServer, type Server } from 'node:http';
import { JitgateError } from '../util/errors.js';

/** The only address the demo's helpers bind: nothing of the demo is reachable from another machine. */
export const DEMO_HOST = '127.0.0.1';

/** Listens on 127.0.0.1:`port` (0: any free port); resolves with the bound URL. */
export async function listenOnLoopback(server: Server, port: number, what: string, flag?: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, port, what, flag));
    server.once('error', onError);
    server.listen(port, DEMO_HOST, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as { port: number };
  return `http://${DEMO_HOST}:${address.port}`;
}

/** A port already taken becomes `demo_port_in_use`, naming the flag that picks another. */
export function listenError(err: unknown, port: number, what: string, flag?: string): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    const hint = flag ? `; pick another with ${flag} N (0: any free port)` : '';
    return new JitgateError('demo_port_in_use', `port ${port} on ${DEMO_HOST} is taken, so the ${what} cannot start${hint}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Whether a connection comes from this machine. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Fails with `demo_port_in_use` when `port` cannot be bound now, before the
 * demo writes its policy or opens its database: a second demo started by
 * mistake must not touch the files of the one already running.
 */
export async function ensurePortFree(port: number, what: string, flag: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await listenOnLoopback(probe, port, what, flag);
  await closeServer(probe);
}
