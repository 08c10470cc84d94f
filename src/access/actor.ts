import type { TokenRow } from '../oauth/issued-token.js';

/** Who calls the REST API, from their active jitgate token. */
export interface Actor {
  principal: string;
  clientId: string;
  /** Scopes of the presented token: `jitgate:admin`/`jitgate:audit` powers come from here. */
  scopes: ReadonlySet<string>;
  amr: string[] | null;
  authTime: number | null;
}

export function actorOf(row: TokenRow): Actor {
  return {
    principal: row.sub,
    clientId: row.client_id,
    scopes: new Set(row.scope === '' ? [] : row.scope.split(' ')),
    amr: row.amr ? (JSON.parse(row.amr) as string[]) : null,
    authTime: row.auth_time,
  };
}

export const ADMIN_SCOPE = 'jitgate:admin';
export const AUDIT_SCOPE = 'jitgate:audit';
