/**
 * `jitgate login --device` (RFC 8628): for a machine without a browser. The
 * person opens the printed address on any device, signs in and types the
 * code; meanwhile the CLI polls the token endpoint at the server's pace.
 */
import type { CliIo } from './cli-io.js';
import { CliFailure, EXIT } from './failure.js';
import { DEVICE_CODE, requestToken, startDeviceAuthorization, TokenEndpointFailure } from './oauth-client.js';
import { StatusLine } from './spinner.js';
import { printable } from './terminal-text.js';
import type { TokenResponse } from './types.js';

/** RFC 8628 §3.5: the interval grows by this much on every slow_down. */
const SLOW_DOWN_S = 5;
/** Timers fire late and clocks tick unevenly; polling a little after the interval avoids needless slow_downs. */
const POLL_MARGIN_MS = 250;

export async function deviceLogin(io: CliIo, server: string, clientId: string): Promise<TokenResponse> {
  const da = await startDeviceAuthorization(io.fetch, server, clientId);
  let intervalS = typeof da.interval === 'number' && da.interval > 0 ? da.interval : 5;
  const deadline = io.nowMs() + da.expires_in * 1000;
  io.err(
    `To log in, open ${printable(da.verification_uri)} in a browser and enter the code\n\n    ${printable(da.user_code)}\n\n` +
      (da.verification_uri_complete ? `  (or open ${printable(da.verification_uri_complete)})\n` : '') +
      `  the code is valid for ${Math.round(da.expires_in / 60)} minutes\n`,
  );

  const abort = new AbortController();
  const stopListening = io.onSignal('SIGINT', () => abort.abort());
  const status = new StatusLine(io);
  try {
    for (;;) {
      status.set(`waiting for you to enter ${printable(da.user_code)} at ${printable(da.verification_uri)}`);
      await io.sleep(intervalS * 1000 + POLL_MARGIN_MS, abort.signal);
      try {
        return await requestToken(io.fetch, server, { grant_type: DEVICE_CODE, client_id: clientId, device_code: da.device_code });
      } catch (err) {
        if (!(err instanceof TokenEndpointFailure)) {
          // A server briefly unreachable: keep polling while the code lives.
          if (err instanceof CliFailure && err.code === 'server_unreachable' && io.nowMs() < deadline) continue;
          throw err;
        }
        switch (err.error.error) {
          case 'authorization_pending':
            continue;
          case 'slow_down':
            intervalS += SLOW_DOWN_S;
            continue;
          case 'access_denied':
            throw new CliFailure('login_denied', 'the login was refused on the verification page');
          case 'expired_token':
            throw new CliFailure('login_expired', ['the code expired before it was entered', '  start again: jitgate login --device']);
          default:
            throw err;
        }
      }
    }
  } catch (err) {
    if (abort.signal.aborted) throw new CliFailure('interrupted', 'login interrupted; nothing was saved', EXIT.interrupted);
    throw err;
  } finally {
    status.stop();
    stopListening();
  }
}
