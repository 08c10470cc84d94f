/**
 * OAuth protocol errors (RFC 6749 §5.2, RFC 6750 §3, RFC 7009, RFC 8693,
 * RFC 8707). Each class knows its wire form: status, JSON body and, where
 * the RFCs ask for it, a WWW-Authenticate header.
 */
export class OAuthError extends Error {
  readonly error: string;
  readonly status: number;
  /** Extra response headers (WWW-Authenticate, Retry-After). */
  readonly headers: Record<string, string>;
  /** Extra members of the JSON body, RFC field names. */
  readonly extra: Record<string, unknown>;

  constructor(
    error: string,
    description: string,
    status = 400,
    options: { headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    super(description);
    this.name = 'OAuthError';
    this.error = error;
    this.status = status;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { error: this.error, error_description: this.message, ...this.extra };
  }
}

export class InvalidRequest extends OAuthError {
  /** `status` other than 400 only for 413/415, where HTTP has a more precise code. */
  constructor(description: string, status = 400) {
    super('invalid_request', description, status);
  }
}

/** 401 with a challenge: RFC 6749 asks for WWW-Authenticate when the client tried Basic. */
export class InvalidClient extends OAuthError {
  constructor(description = 'client authentication failed') {
    super('invalid_client', description, 401, {
      headers: { 'www-authenticate': 'Basic realm="jitgate", charset="UTF-8"' },
    });
  }
}

export class InvalidGrant extends OAuthError {
  constructor(description: string) {
    super('invalid_grant', description);
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description);
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super('unsupported_grant_type', description);
  }
}

/** `invalid_scope`; `extra` may name the scopes and how to obtain them. */
export class InvalidScope extends OAuthError {
  constructor(description: string, extra: Record<string, unknown> = {}) {
    super('invalid_scope', description, 400, { extra });
  }
}

/** RFC 8707: the resource is unknown or not allowed for this client. */
export class InvalidTarget extends OAuthError {
  constructor(description: string) {
    super('invalid_target', description);
  }
}

export class UnsupportedTokenType extends OAuthError {
  constructor(description: string) {
    super('unsupported_token_type', description);
  }
}

export class TooManyRequests extends OAuthError {
  constructor(description: string, retryAfterS: number) {
    super('temporarily_unavailable', description, 429, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterS))) },
    });
  }
}

export class ServerError extends OAuthError {
  constructor(description = 'the server could not complete the request') {
    super('server_error', description, 500);
  }
}
