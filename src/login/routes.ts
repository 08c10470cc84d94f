import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import { registerAuthorize } from './authorize-route.js';
import { registerLoginRoutes } from './login-routes.js';
import { registerUpstreamCallback } from './upstream-login.js';
import { registerDeviceRoutes } from './device-routes.js';
import { messagePage, sendPage } from './html.js';

const FORM = 'application/x-www-form-urlencoded';

/**
 * The browser-facing pages: `/authorize`, `/login`, `/login/callback` and
 * `/device`. They answer in HTML, errors included: a person is reading.
 */
export async function loginPlugin(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.setErrorHandler((err, _req, reply) => {
    const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500;
    if (status >= 500) ctx.log.error({ err }, 'login page failed');
    const message = status >= 500 ? 'Something went wrong on our side. Try again in a moment.' : 'The request could not be understood.';
    return sendPage(reply, status >= 400 && status < 600 ? status : 500, messagePage('Sign-in failed', message));
  });
  app.addHook('preValidation', async (req, reply) => {
    if (req.method !== 'POST') return;
    if (!(req.body instanceof URLSearchParams)) {
      return sendPage(reply, 415, messagePage('Sign-in failed', `The form must be sent as ${FORM}.`));
    }
  });
  registerAuthorize(app, ctx);
  registerLoginRoutes(app, ctx);
  registerUpstreamCallback(app, ctx);
  registerDeviceRoutes(app, ctx);
}
