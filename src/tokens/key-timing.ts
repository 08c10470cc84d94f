/**
 * The timing that makes a rotation invisible to resource servers. A new key
 * is published `publish delay` before it signs; in that window every server
 * must have re-read the keys (refresh interval) and every JWKS cache must
 * have expired (JWKS max-age), so:
 *
 *   KEYRING_REFRESH_INTERVAL_S + JWKS_MAX_AGE_S < DEFAULT_PUBLISH_DELAY_S
 */

/** How long a new key is published before it signs, by default. */
export const DEFAULT_PUBLISH_DELAY_S = 5 * 60;

/** Default for how long a superseded key stays published: the longest access-token lifetime. */
export const DEFAULT_MAX_TOKEN_LIFETIME_S = 60 * 60;

/** How often a running server re-reads the signing keys (so a CLI rotation reaches it). */
export const KEYRING_REFRESH_INTERVAL_S = 60;

/** The `Cache-Control: max-age` of the JWKS response; must stay below the publish delay. */
export const JWKS_MAX_AGE_S = 60;

/** The least time between two refreshes triggered by tokens naming an unknown kid. */
export const UNKNOWN_KID_REFRESH_MIN_INTERVAL_S = 10;
