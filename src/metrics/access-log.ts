/**
 * One JSON line per answered request (`--access-log`): off by default,
 * since at tens of thousands of requests a second the line costs more than
 * the request. The path is logged without its query string.
 */
import type { FastifyInstance } from 'fastify';

export function registerAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', (req, reply, done) => {
    const q = req.url.indexOf('?');
    req.log.info(
      {
        method: req.method,
        path: q < 0 ? req.url : req.url.slice(0, q),
        route: req.routeOptions.url ?? null,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });
}
