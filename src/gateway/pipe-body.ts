/**
 * Streams an upstream answer into the caller's response with backpressure.
 * Not `stream.pipeline`: on Node 20 every pipeline allocates an
 * AbortController and aborts it when done, which builds a DOMException with
 * its stack each time — several percent of the gateway's CPU per request,
 * for cleanup this path does by hand.
 */
import type { Readable } from 'node:stream';
import type { ServerResponse } from 'node:http';

/**
 * Pipes `body` into `res`. Resolves once `res` has finished; rejects when
 * `body` fails or `res` closes before finishing (the caller went away).
 * The caller destroys both sides on a rejection.
 */
export function pipeBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err: Error | null) => {
      body.off('error', onError);
      res.off('error', onError);
      res.off('finish', onFinish);
      res.off('close', onClose);
      if (err) {
        body.unpipe(res);
        reject(err);
      } else {
        resolve();
      }
    };
    const onError = (err: Error) => settle(err);
    const onFinish = () => settle(null);
    const onClose = () => settle(res.writableFinished ? null : new Error('the response closed before the body was sent'));
    body.on('error', onError);
    res.on('error', onError);
    res.on('finish', onFinish);
    res.on('close', onClose);
    body.pipe(res);
  });
}
