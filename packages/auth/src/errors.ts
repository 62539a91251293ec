/**
 * Errors of the auth layer. Each extends `TesseraError` from `@tessera/core`
 * (name set by the base class, a stable `code`), so front ends map them to
 * protocol errors by `code`: 401-like for a missing or bad credential,
 * 403-like for a valid credential that does not allow the operation.
 */
import { TesseraError } from '@tessera/core';

/** Thrown when a token or certificate is not one well-formed signed envelope (bad base64url, CBOR or fields). */
export class CredentialMalformedError extends TesseraError {
  constructor(detail: string) {
    super(`malformed credential: ${detail}`, 'ERR_CREDENTIAL_MALFORMED');
  }
}

/** Thrown when a credential's signature does not verify under the cluster key (forged or tampered). */
export class TokenSignatureError extends TesseraError {
  constructor() {
    super('credential signature does not verify under the cluster key', 'ERR_TOKEN_SIGNATURE');
  }
}

/** Thrown when a credential was signed for another cluster (other cluster name or other cluster key). */
export class WrongClusterError extends TesseraError {
  constructor(detail: string) {
    super(`credential is for another cluster: ${detail}`, 'ERR_WRONG_CLUSTER');
  }
}

/** Thrown when a credential's expiry (plus the allowed clock skew) has passed, or it is not valid yet. */
export class TokenExpiredError extends TesseraError {
  readonly expiresAtMs: number;
  constructor(expiresAtMs: number, nowMs: number, notYet = false) {
    super(
      notYet
        ? `credential not valid until ${new Date(expiresAtMs).toISOString()} (now ${new Date(nowMs).toISOString()})`
        : `credential expired at ${new Date(expiresAtMs).toISOString()} (now ${new Date(nowMs).toISOString()})`,
      'ERR_TOKEN_EXPIRED',
    );
    this.expiresAtMs = expiresAtMs;
  }
}

/** Thrown when an operation needs a credential and none was presented (RESP NOAUTH, HTTP 401). */
export class AuthRequiredError extends TesseraError {
  constructor(detail = 'authentication required') {
    super(detail, 'ERR_AUTH_REQUIRED');
  }
}

/** Thrown when a valid capability does not allow the operation on the database (RESP NOPERM, HTTP 403). */
export class CapabilityDeniedError extends TesseraError {
  readonly database: string;
  readonly access: 'read' | 'write';
  constructor(database: string, access: 'read' | 'write', subject: string) {
    super(
      `capability of ${JSON.stringify(subject)} does not allow ${access} on database ${JSON.stringify(database)}`,
      'ERR_CAPABILITY_DENIED',
    );
    this.database = database;
    this.access = access;
  }
}

/** Thrown when a peer without a valid membership certificate tries something only members may do. */
export class NotAMemberError extends TesseraError {
  readonly peer: string;
  constructor(peer: string, detail: string, options?: ErrorOptions) {
    super(`peer ${peer} is not a cluster member: ${detail}`, 'ERR_NOT_A_MEMBER', options);
    this.peer = peer;
  }
}

/** Thrown when a caller exceeded its rate limit; retry after `retryAfterMs` (HTTP 429). */
export class RateLimitedError extends TesseraError {
  readonly retryAfterMs: number;
  readonly scope: string;
  constructor(scope: string, retryAfterMs: number) {
    super(`rate limit exceeded for ${scope}; retry in ${Math.ceil(retryAfterMs)} ms`, 'ERR_RATE_LIMITED');
    this.scope = scope;
    this.retryAfterMs = retryAfterMs;
  }
}
