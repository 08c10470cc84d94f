import type { ServerContext } from '../../http/context.js';
import type { FormParams } from '../../http/form-body.js';
import type { AuthenticatedClient } from '../client-auth.js';
import type { TokenResponse } from '../token-response.js';

/** One grant type of the token endpoint: the client is already authenticated. */
export type GrantHandler = (ctx: ServerContext, client: AuthenticatedClient, params: FormParams) => Promise<TokenResponse>;
