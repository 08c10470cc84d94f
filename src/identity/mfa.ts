import type { Policy } from '../policy/types.js';
import { Problem } from '../http/problem.js';

/** How recent a person's MFA must be for an MFA scope, seconds. Default 15 minutes. */
export const DEFAULT_MFA_MAX_AGE_S = 900;
/** The ACR a step-up asks for (RFC 9470 `acr_values`). */
export const MFA_ACR = 'urn:jitgate:acr:mfa';
/** `amr` values that count as MFA when no trusted issuer lists its own (RFC 8176). */
const DEFAULT_MFA_AMR = ['mfa', 'otp', 'hwk', 'swk', 'sc'];

export interface AuthFacts {
  sub: string;
  amr: readonly string[] | null;
  authTime: number | null;
}

/**
 * Whether a person's sign-in is strong and recent enough for an MFA scope.
 * Clients (`client:`) prove themselves by their authentication method, so
 * the requirement binds `user:` principals only.
 */
export function mfaSatisfied(policy: Policy, auth: AuthFacts, nowS: number, maxAgeS = DEFAULT_MFA_MAX_AGE_S): boolean {
  if (!auth.sub.startsWith('user:')) return true;
  if (!auth.amr || auth.authTime === null) return false;
  const accepted = new Set(DEFAULT_MFA_AMR);
  for (const t of policy.trustedIssuers) for (const v of t.mfaAmr) accepted.add(v);
  return auth.amr.some((v) => accepted.has(v)) && nowS - auth.authTime <= maxAgeS;
}

/** The RFC 9470 challenge: 401 with what the client must obtain to retry. */
export function stepUpRequired(detail: string, maxAgeS = DEFAULT_MFA_MAX_AGE_S): Problem {
  return new Problem(401, 'insufficient_user_authentication', detail, {
    title: 'Insufficient user authentication',
    extra: { acr_values: MFA_ACR, max_age: maxAgeS },
    headers: {
      'www-authenticate': `Bearer error="insufficient_user_authentication", error_description="${detail.replace(/["\\]/g, '')}", acr_values="${MFA_ACR}", max_age="${maxAgeS}"`,
    },
  });
}
