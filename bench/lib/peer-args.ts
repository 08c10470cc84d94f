import { parseArgs } from 'node:util';

/** Peers run as `node --import tsx bench/peers/NAME.ts --port N`; they listen on 127.0.0.1 only. */
export function peerPort(argv: string[] = process.argv.slice(2)): number {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } }, strict: true });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error('a peer needs --port N');
  }
  return port;
}

/** Peers stop cleanly on SIGTERM so the runner can read their final /proc figures first. */
export function stopOnSignal(close: () => void): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      close();
      setTimeout(() => process.exit(0), 500).unref();
    });
  }
}
