import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import { consumePendingLogin, type PendingLogin } from './login-requests.js';
import { startSession } from './signed-in.js';
import { finishAuthorize } from './finish-authorize.js';
import { messagePage, sendPage } from './html.js';
import { approveDevice } from './device-approval.js';

/**
 * The end of a sign-in on the page: the request in progress is used up (a
 * second post of the same form does nothing), the session starts, and the
 * browser goes back to the client with a code, or the device is approved.
 */
export async function completeSignIn(
  ctx: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  pending: PendingLogin,
  person: AuthenticatedPerson,
  method: { kind: 'password' } | { kind: 'upstream'; issuer: string },
): Promise<FastifyReply> {
  if (!(await consumePendingLogin(ctx, pending.id))) {
    return sendPage(reply, 400, messagePage('Sign-in already finished', 'This sign-in was completed already. Go back to the application.'));
  }
  await startSession(ctx, req, reply, pending, person, method);
  if (pending.kind === 'authorize') {
    return reply.header('cache-control', 'no-store').redirect(await finishAuthorize(ctx, pending.request, person), 303);
  }
  return approveDevice(ctx, req, reply, pending.request.userCode ?? '', person);
}
