import type { GrantHandler } from './grant.js';
import { required } from '../../http/form-body.js';
import { InvalidGrant, OAuthError } from '../errors.js';
import { baselineScopes, principalKnown } from '../../access/entitlements.js';
import { shapeToken } from '../token-scopes.js';
import { issueBaselineToken } from '../issue-baseline.js';
import { tokenResponse } from '../token-response.js';
import { pollDeviceAuthorization } from '../device-codes.js';
import { issueRefreshToken } from '../refresh-tokens.js';
import { formatScope } from '../../util/scope-string.js';

export const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 §3.5: the answers a polling device waits through, or stops at. */
class DevicePollError extends OAuthError {}

/**
 * RFC 8628 §3.4: the device polls with its device_code until the person has
 * approved on the verification page; then it gets a baseline token for that
 * person (with their `amr`/`acr`/`auth_time`) and a refresh token, once.
 */
export const deviceCode: GrantHandler = async (ctx, { client }, params) => {
  const code = required(params, 'device_code');
  const poll = await pollDeviceAuthorization(ctx, client.id, code);
  switch (poll.state) {
    case 'unknown':
      throw new InvalidGrant('the device_code is invalid');
    case 'consumed':
      throw new InvalidGrant('the device_code was already used');
    case 'expired':
      throw new DevicePollError('expired_token', 'the device_code has expired; start again');
    case 'denied':
      throw new DevicePollError('access_denied', 'the person refused the device');
    case 'slow_down':
      throw new DevicePollError('slow_down', 'polled sooner than the interval; the interval grew by 5 seconds');
    case 'pending':
      throw new DevicePollError('authorization_pending', 'waiting for the person to approve');
  }

  const policy = ctx.policy.current;
  const { principal } = poll.person;
  if (!principalKnown(policy, principal)) throw new InvalidGrant(`${principal} is not a member of any group in the policy`);
  const tokenParams = new URLSearchParams();
  if (poll.scope.length) tokenParams.set('scope', formatScope(poll.scope));
  if (poll.resource) tokenParams.set('resource', poll.resource);
  // Refusals (a scope the person does not hold) come before the code is spent, and again after: nothing is half-issued.
  shapeToken({
    policy,
    issuer: ctx.config.issuer,
    client,
    scopeParam: tokenParams.get('scope') ?? undefined,
    resourceParams: tokenParams.getAll('resource'),
    allowed: baselineScopes(policy, principal),
    defaultLifetimeS: ctx.config.tokenLifetimeS,
  });
  if (!(await poll.consume())) throw new InvalidGrant('the device_code was already used');

  const issued = await issueBaselineToken(ctx, client, principal, tokenParams, {
    acr: poll.person.acr,
    amr: poll.person.amr,
    authTime: poll.person.authTime,
  });
  const refresh = await issueRefreshToken(ctx, {
    clientId: client.id,
    principal,
    scope: issued.claims.scope === '' ? [] : issued.claims.scope.split(' '),
    person: poll.person,
    resource: poll.resource,
    accessJti: issued.claims.jti,
  });
  return { ...tokenResponse(issued), refresh_token: refresh };
};
