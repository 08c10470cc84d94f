import type { AuthenticatedPerson } from '../identity/person.js';
import type { LoginSettings, Policy } from '../policy/types.js';
import { MFA_ACR } from '../identity/mfa.js';

/** What a request asks of the sign-in behind it. */
export interface SignInDemands {
  prompt: 'login' | 'none' | null;
  maxAgeS: number | null;
  requireMfa: boolean;
}

/** Whether the person's sign-in included MFA: the MFA class, or an `amr` that counts as MFA. */
export function signInHasMfa(policy: Policy, person: AuthenticatedPerson): boolean {
  if (person.acr === MFA_ACR) return true;
  const accepted = new Set(['mfa', 'otp', 'hwk', 'swk', 'sc', ...mfaAmrOf(policy.login)]);
  return person.amr.some((v) => accepted.has(v));
}

function mfaAmrOf(login: LoginSettings): string[] {
  return login.upstream?.mfaAmr ?? [];
}

/**
 * Whether an existing session satisfies a request without showing the page
 * again (pure): not when `prompt=login` asks for a fresh sign-in, when it is
 * older than `max_age`, or when MFA is asked for and the sign-in had none.
 */
export function sessionFits(policy: Policy, session: AuthenticatedPerson | null, demands: SignInDemands, nowS: number): boolean {
  if (!session) return false;
  if (demands.prompt === 'login') return false;
  if (demands.maxAgeS !== null && nowS - session.authTime > demands.maxAgeS) return false;
  if (demands.requireMfa && !signInHasMfa(policy, session)) return false;
  return true;
}
