import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import { approveDeviceAuthorization, denyDeviceAuthorization } from '../oauth/device-codes.js';
import { messagePage, sendPage } from './html.js';

/** Approves the device whose user code the person entered, and says so. */
export async function approveDevice(
  ctx: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  userCode: string,
  person: AuthenticatedPerson,
): Promise<FastifyReply> {
  const ok = await approveDeviceAuthorization(ctx, userCode, person, { from: req.ip });
  if (!ok) {
    return sendPage(reply, 400, messagePage('Device not approved', 'The code is unknown, expired, or was answered already. Start again on the device.'));
  }
  return sendPage(reply, 200, messagePage('Device approved', `You are signed in on the device as ${person.principal}. You can close this page.`, 'info'));
}

/** Refuses the device whose user code the person entered. */
export async function denyDevice(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, userCode: string): Promise<FastifyReply> {
  const ok = await denyDeviceAuthorization(ctx, userCode, { from: req.ip });
  if (!ok) {
    return sendPage(reply, 400, messagePage('Nothing to deny', 'The code is unknown, expired, or was answered already.'));
  }
  return sendPage(reply, 200, messagePage('Device denied', 'The device was refused and gets no access. You can close this page.', 'info'));
}
