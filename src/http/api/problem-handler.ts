import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Problem } from '../problem.js';

/** Everything thrown under /api/v1 leaves as application/problem+json; input faults are never a 500. */
export function problemHandler(log: Logger) {
  return (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    let p: Problem;
    if (err instanceof Problem) p = err;
    else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500) {
      p = new Problem(err.statusCode, fastifyCode(err as FastifyError), fastifyDetail(err as FastifyError));
    } else {
      log.error({ err, reqId: req.id, url: req.url, method: req.method }, 'unhandled error in the REST API');
      p = new Problem(500, 'server_error', 'the server could not complete the request');
    }
    reply.code(p.status).headers(p.headers).type('application/problem+json').send(p.toJSON());
  };
}

function fastifyCode(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'body_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    default:
      return 'body_invalid';
  }
}

function fastifyDetail(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'the request body is too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'send JSON with Content-Type: application/json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the JSON body is empty';
    default:
      return err.message.startsWith('Unexpected') || err.message.includes('JSON') ? `malformed JSON: ${err.message}` : err.message;
  }
}
