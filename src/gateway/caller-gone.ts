/**
 * The signal that aborts an upstream request when the caller goes away
 * before its answer has been sent. An EventEmitter, which undici accepts
 * in place of an AbortSignal: on Node 20 an AbortController per request
 * (an EventTarget, its listener bookkeeping) was the largest single cost
 * the forwarding path added per request, for an event that almost never
 * fires.
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

/** Watches `res` for a close before it finished. */
export function watchCallerGone(res: ServerResponse): CallerGone {
  const signal = new EventEmitter();
  let left = false;
  const onClose = () => {
    if (res.writableFinished) return;
    left = true;
    signal.emit('abort');
  };
  res.on('close', onClose);
  return {
    signal,
    get left() {
      return left;
    },
    done() {
      res.off('close', onClose);
    },
  };
}
