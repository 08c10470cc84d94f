import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import { cookieNames, readCookie, setCookie } from './cookies.js';
import { createSession, endSession, SESSION_MAX_S } from './sessions.js';
import { sha256 } from './secrets.js';
import { nowS } from '../util/clock.js';
import type { PendingLogin } from './login-requests.js';

/**
 * Starts the person's session after a sign-in: any session the browser had is
 * ended (a new sign-in never inherits an old session id) and `user.login` is
 * recorded with how they signed in, never a secret.
 */
export async function startSession(
  ctx: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  pending: PendingLogin,
  person: AuthenticatedPerson,
  method: { kind: 'password' } | { kind: 'upstream'; issuer: string },
): Promise<void> {
  const names = cookieNames(ctx.config.issuer);
  const old = readCookie(req.headers.cookie, names.session);
  const clientId = pending.kind === 'authorize' ? pending.request.clientId : null;
  const value = await ctx.audit.transact(async (trx, append) => {
    if (old) await endSession(trx, sha256(old));
    const made = await createSession(trx, person, nowS(ctx.clock));
    await append([
      {
        type: 'user.login',
        actor: person.principal,
        subject: person.principal,
        data: {
          method: method.kind,
          ...(method.kind === 'upstream' ? { issuer: method.issuer } : {}),
          via: pending.kind,
          ...(clientId ? { client_id: clientId } : {}),
          amr: person.amr,
          acr: person.acr,
          address: req.ip,
        },
      },
    ]);
    return made;
  });
  reply.header('set-cookie', setCookie(names.session, value, { secure: names.secure, maxAgeS: SESSION_MAX_S }));
}
