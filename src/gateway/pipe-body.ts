/**
 * Streams an upstream answer into the caller's response with backpressure.
 * Not `stream.pipeline`: on Node 20 every pipeline allocates an
 * AbortController and aborts it when done, which builds a DOMException with
 * its stack each time — several percent of the gateway's CPU per request,
 * for cleanup this path does by hand.
 *
 * The listeners are module-level functions that find their exchange on the
 * emitter (`this`), not closures made per call: the sources run through a
 * transpiler that keeps function names, which costs an
 * `Object.defineProperty` for every named closure created — several
 * microseconds per forwarded request here.
 */
import type { Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';

const kPipe = Symbol('jitgate.pipeBody');

interface Pipe {
  body: Readable;
  res: ServerResponse;
  resolve: () => void;
  reject: (err: Error) => void;
}

type Carrier = { [kPipe]?: Pipe | undefined };

function settle(p: Pipe, err: Error | null): void {
  p.body.off('error', onError);
  p.res.off('error', onError);
  p.res.off('finish', onFinish);
  p.res.off('close', onClose);
  (p.body as Carrier)[kPipe] = undefined;
  (p.res as Carrier)[kPipe] = undefined;
  if (err) {
    p.body.unpipe(p.res);
    p.reject(err);
  } else {
    p.resolve();
  }
}

function onError(this: Carrier, err: Error): void {
  const p = this[kPipe];
  if (p) settle(p, err);
}

function onFinish(this: Carrier): void {
  const p = this[kPipe];
  if (p) settle(p, null);
}

function onClose(this: Carrier): void {
  const p = this[kPipe];
  if (p) settle(p, p.res.writableFinished ? null : new Error('the response closed before the body was sent'));
}

/**
 * Pipes `body` into `res`. Resolves once `res` has finished; rejects when
 * `body` fails or `res` closes before finishing (the caller went away).
 * The caller destroys both sides on a rejection.
 */
export function pipeBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const p: Pipe = { body, res, resolve, reject };
    (body as Carrier)[kPipe] = p;
    (res as Carrier)[kPipe] = p;
    body.on('error', onError);
    res.on('error', onError);
    res.on('finish', onFinish);
    res.on('close', onClose);
    body.pipe(res);
  });
}
