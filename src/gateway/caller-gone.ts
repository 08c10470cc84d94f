/**
 * The signal that aborts an upstream request when the caller goes away
 * before its answer has been sent. An EventEmitter, which undici accepts
 * in place of an AbortSignal: on Node 20 an AbortController per request
 * (an EventTarget, its listener bookkeeping) was the largest single cost
 * the forwarding path added per request, for an event that almost never
 * fires. The close listener is one module-level function that finds its
 * watch on the response, not a closure per request (see pipe-body.ts).
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';

export interface CallerGone {
  /** Pass as undici's `signal`: it emits `abort` when the caller leaves early. */
  readonly signal: EventEmitter;
  /** Whether the caller left before the answer was finished. */
  readonly left: boolean;
  /** Stops watching `res`; call once the exchange is over. */
  done(): void;
}

const kWatch = Symbol('jitgate.callerGone');

type Carrier = ServerResponse & { [kWatch]?: CallerWatch | undefined };

function onClose(this: Carrier): void {
  const watch = this[kWatch];
  if (watch === undefined || this.writableFinished) return;
  watch.left = true;
  watch.signal.emit('abort');
}

class CallerWatch implements CallerGone {
  readonly signal = new EventEmitter();
  left = false;

  constructor(private readonly res: Carrier) {
    res[kWatch] = this;
    res.on('close', onClose);
  }

  done(): void {
    this.res.off('close', onClose);
    if (this.res[kWatch] === this) this.res[kWatch] = undefined;
  }
}

/** Watches `res` for a close before it finished. */
export function watchCallerGone(res: ServerResponse): CallerGone {
  return new CallerWatch(res as Carrier);
}
