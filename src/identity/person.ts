/**
 * A person who has just proven who they are: to the login page (local user),
 * to an upstream identity provider, or on the device verification page.
 * Every way a person signs in produces one of these; tokens carry its facts.
 */
export interface AuthenticatedPerson {
  /** The principal the person acts as, e.g. `user:alice`. */
  principal: string;
  /** RFC 8176 authentication methods, e.g. `["pwd"]` or `["pwd", "otp", "mfa"]`. */
  amr: string[];
  /** Authentication context class; `urn:jitgate:acr:mfa` when MFA was done. */
  acr: string | null;
  /** When the person authenticated, epoch seconds. */
  authTime: number;
}
