/**
 * The fixed-rate load generator of the half-load rounds, run as its own
 * process (forked by bench/lib/http-loads.ts, driven over IPC).
 *
 * Why its own process, and why raw sockets: the latencies judged are a
 * fraction of a millisecond apart, and the generator's own pauses land in
 * every latency it times. In the bench's main process, on undici, each
 * request cost a promise chain, timers and a body stream, and the loop
 * stalled for 6–12 ms at a time under the load (measured with a gap
 * detector beside the pacing loop), which showed up as p99 of whichever
 * side was measured then. Here a request is one pre-encoded buffer written
 * to an idle keep-alive connection, an answer is parsed in place, and a
 * latency is one slot of a preallocated Float64Array: next to nothing for
 * the collector.
 *
 * A request is timed from the write of its first byte to the last byte of
 * its answer. Requests due while every connection is busy wait in a queue
 * and are timed from their own write, as before.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { LoadRequest } from './http-loads.js';

/** One window of load, as the parent asks for it. */
export interface WindowOrder {
  type: 'window';
  id: number;
  origin: string;
  requests: LoadRequest[];
  expectBody: string;
  rate: number;
  seconds: number;
  connections: number;
}

/** What one window saw; `latenciesMs` holds good answers only. */
export interface WindowReport {
  type: 'done';
  id: number;
  latenciesMs: number[];
  statusCodes: Record<string, number>;
  bad: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  wallS: number;
}

export type DriverMessage = { type: 'started'; id: number } | WindowReport | { type: 'failed'; id: number; message: string };

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');
/** An answer slower than this counts as a timeout and its connection is dropped. */
const TIMEOUT_MS = 10_000;

/** The window a connection currently serves. */
interface Owner {
  readonly expect: string;
  answered(ms: number, status: number, good: boolean, conn: Connection): void;
  lost(conn: Connection, wasBusy: boolean, timeout: boolean): void;
}

/** `GET /path HTTP/1.1` with Host and the request's headers, encoded once. */
export function encodeRequest(origin: string, r: LoadRequest): Buffer {
  const host = new URL(origin).host;
  let head = `${r.method} ${r.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [k, v] of Object.entries(r.headers)) head += `${k}: ${v}\r\n`;
  if (r.body !== undefined) head += `content-length: ${Buffer.byteLength(r.body)}\r\n`;
  head += '\r\n';
  return Buffer.from(r.body !== undefined ? head + r.body : head, 'latin1');
}

/** Where an answer in `buf` ends, or -1 while it is incomplete. Content-Length and chunked bodies. */
export function answerEnd(buf: Buffer): number {
  const headEnd = buf.indexOf(HEADER_END);
  if (headEnd < 0) return -1;
  const head = buf.toString('latin1', 0, headEnd).toLowerCase();
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (cl) {
    const end = headEnd + 4 + Number(cl[1]);
    return buf.length >= end ? end : -1;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    const end = buf.indexOf(CHUNKED_END, headEnd + 4);
    return end < 0 ? -1 : end + CHUNKED_END.length;
  }
  // No length and not chunked: only an answer without a body (204, 304) is complete at its head.
  return headEnd + 4;
}

class Connection {
  private readonly socket: Socket;
  private buf: Buffer | null = null;
  private sentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  busy = false;
  dead = false;

  constructor(
    host: string,
    port: number,
    /** Moves to the next window of the same origin with the connection. */
    public owner: Owner,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => this.fail(false));
    this.socket.on('close', () => this.fail(false));
  }

  send(request: Buffer): void {
    this.busy = true;
    this.buf = null;
    this.sentAt = performance.now();
    this.timer = setTimeout(() => this.fail(true), TIMEOUT_MS);
    this.socket.write(request);
  }

  private onData(chunk: Buffer): void {
    if (!this.busy) return;
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    const end = answerEnd(this.buf);
    if (end < 0) return;
    const ms = performance.now() - this.sentAt;
    const status = Number(this.buf.toString('latin1', 9, 12));
    const good = status >= 200 && status < 300 && this.buf.indexOf(this.owner.expect, 0, 'latin1') >= 0;
    clearTimeout(this.timer!);
    this.busy = false;
    this.buf = null;
    this.owner.answered(ms, status, good, this);
  }

  private fail(timeout: boolean): void {
    if (this.dead) return;
    this.dead = true;
    if (this.timer) clearTimeout(this.timer);
    const wasBusy = this.busy;
    this.busy = false;
    this.socket.destroy();
    this.owner.lost(this, wasBusy, timeout);
  }

  close(): void {
    this.dead = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket.destroy();
  }
}

/** One window: paces requests at the order's rate over keep-alive connections and collects what came back. */
class Window implements Owner {
  readonly expect: string;
  private readonly encoded: Buffer[];
  private readonly latencies: Float64Array;
  private count = 0;
  private readonly report: Omit<WindowReport, 'latenciesMs' | 'wallS' | 'type' | 'id'> = { statusCodes: {}, bad: 0, non2xx: 0, errors: 0, timeouts: 0 };
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Buffer[] = [];
  private sent = 0;
  private outstanding = 0;
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly order: WindowOrder) {
    const url = new URL(order.origin);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.expect = order.expectBody;
    this.encoded = order.requests.map((r) => encodeRequest(order.origin, r));
    this.latencies = new Float64Array(Math.ceil(order.rate * order.seconds * 1.1) + 16);
  }

  answered(ms: number, status: number, good: boolean, conn: Connection): void {
    this.outstanding--;
    const key = String(status);
    this.report.statusCodes[key] = (this.report.statusCodes[key] ?? 0) + 1;
    if (status < 200 || status >= 300) this.report.non2xx++;
    if (good && this.count < this.latencies.length) this.latencies[this.count++] = ms;
    else if (!good) this.report.bad++;
    const next = this.queue.shift();
    if (next) {
      this.outstanding++;
      conn.send(next);
    } else this.idle.push(conn);
  }

  lost(conn: Connection, wasBusy: boolean, timeout: boolean): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (!wasBusy) return;
    this.outstanding--;
    if (timeout) this.report.timeouts++;
    else this.report.errors++;
    // Requests queued behind a connection that died would otherwise wait for an answer that never comes:
    // the next one goes out on a new connection, so a target that refuses or drops them still drains the window.
    const next = this.queue.shift();
    if (next) this.dispatch(next);
  }

  private dispatch(request: Buffer): void {
    let conn = this.idle.pop();
    while (conn && conn.dead) conn = this.idle.pop();
    if (!conn && this.all.size < this.order.connections) {
      conn = new Connection(this.host, this.port, this);
      this.all.add(conn);
    }
    if (!conn) {
      this.queue.push(request);
      return;
    }
    this.outstanding++;
    conn.send(request);
  }

  /** Runs the window; resolves once every request sent has its answer (or failed). */
  async run(onStart: () => void): Promise<WindowReport> {
    onStart();
    const start = performance.now();
    const end = start + this.order.seconds * 1000;
    const { rate } = this.order;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        // The epsilon keeps a whole window at exactly rate × seconds requests despite float rounding of the end.
        const due = Math.floor(((Math.min(now, end) - start) * rate) / 1000 + 1e-9);
        for (; this.sent < due; this.sent++) this.dispatch(this.encoded[this.sent % this.encoded.length]!);
        if (now < end) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    await new Promise<void>((resolve) => {
      const drained = () => (this.outstanding <= 0 && this.queue.length === 0 ? resolve() : setTimeout(drained, 1));
      drained();
    });
    const wallS = (performance.now() - start) / 1000;
    return { type: 'done', id: this.order.id, latenciesMs: Array.from(this.latencies.subarray(0, this.count)), wallS, ...this.report };
  }

  /** Hands the open connections to the next window of the same origin, so keep-alive carries over like a pool. */
  connections(): Connection[] {
    return [...this.idle];
  }

  adopt(conns: Connection[]): void {
    for (const c of conns) {
      if (c.dead) continue;
      this.all.add(c);
      this.idle.push(c);
      c.owner = this;
    }
  }

}

/** Idle connections per origin, kept between windows. */
const kept = new Map<string, Connection[]>();

/** Runs one window on the connections kept for its origin; `send` gets `started`, then the report. */
export async function runWindow(order: WindowOrder, send: (m: DriverMessage) => void): Promise<void> {
  const w = new Window(order);
  w.adopt(kept.get(order.origin) ?? []);
  const report = await w.run(() => send({ type: 'started', id: order.id }));
  kept.set(order.origin, w.connections());
  send(report);
}

if (process.send) {
  const send = (m: DriverMessage): void => void process.send!(m);
  let chain = Promise.resolve();
  process.on('message', (m: WindowOrder | { type: 'exit' }) => {
    if (m.type === 'exit') {
      for (const conns of kept.values()) for (const c of conns) c.close();
      process.disconnect();
      return;
    }
    chain = chain.then(() => runWindow(m, send)).catch((err: Error) => send({ type: 'failed', id: m.id, message: err.message }));
  });
}
