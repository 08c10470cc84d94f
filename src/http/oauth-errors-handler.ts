import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError, InvalidRequest, ServerError } from '../oauth/errors.js';
import type { Logger } from 'pino';

/**
 * Turns anything thrown under the OAuth endpoints into RFC 6749 JSON. Input
 * problems caught by Fastify itself (oversized or unparsable bodies, wrong
 * content type) are the client's fault and never become a 500.
 */
export function oauthErrorHandler(log: Logger) {
  return (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    let oauth: OAuthError;
    if (err instanceof OAuthError) oauth = err;
    else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500) {
      const status = err.statusCode === 413 || err.statusCode === 415 ? err.statusCode : 400;
      oauth = new InvalidRequest(clientErrorText(err as FastifyError), status);
    } else {
      log.error({ err, reqId: req.id, url: req.url, method: req.method }, 'unhandled error in OAuth endpoint');
      oauth = new ServerError();
    }
    reply
      .code(oauth.status)
      .headers(oauth.headers)
      .header('cache-control', 'no-store')
      .type('application/json')
      .send(oauth.toJSON());
  };
}

function clientErrorText(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body is too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'content type must be application/x-www-form-urlencoded';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'request body is empty';
    default:
      return err.message;
  }
}
