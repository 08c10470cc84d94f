import type { GrantHandler } from './grant.js';
import { UnauthorizedClient } from '../errors.js';
import { issueBaselineToken } from '../issue-baseline.js';
import { tokenResponse } from '../token-response.js';

/**
 * RFC 6749 §4.4: a confidential client gets a token for itself
 * (`sub` = `client:<id>`) with its baseline scopes only. Elevated scopes
 * come through an access request and token exchange, never from here.
 */
export const clientCredentials: GrantHandler = async (ctx, { client, method }, params) => {
  if (method === 'none') throw new UnauthorizedClient('client_credentials needs a confidential client');
  return tokenResponse(await issueBaselineToken(ctx, client, `client:${client.id}`, params));
};
