/**
 * The front ends' gate (RESP and HTTP share it, so both map to the same
 * capabilities): who is calling (a capability token from RESP `AUTH` or an
 * HTTP `Authorization: Bearer` header) and whether the call fits its
 * capability and its database's rate limit. The relay is a cluster member,
 * so it is the coordinating peer that checks client capabilities; owners
 * trust members (docs/security.md).
 */
import {
  type Access,
  AuthRequiredError,
  type Capability,
  type ClusterAuthority,
  type RateLimit,
  RateLimiter,
  requireAccess,
} from '@tessera/auth';

/** Options of `RelayGuard`. */
export interface RelayGuardOptions {
  /** When set, every data command needs a capability token of this cluster. */
  readonly authority?: ClusterAuthority;
  /** When set, each database gets this token-bucket rate (all clients of it together). */
  readonly rateLimit?: RateLimit;
  /** Clock for the rate limiter; `Date.now` by default. */
  readonly now?: () => number;
}

/** Checks capabilities and per-database rate limits for the RESP and HTTP front ends. */
export class RelayGuard {
  readonly authority: ClusterAuthority | undefined;
  readonly limiter: RateLimiter | undefined;

  constructor(options: RelayGuardOptions) {
    this.authority = options.authority;
    this.limiter =
      options.rateLimit === undefined
        ? undefined
        : new RateLimiter(options.rateLimit, options.now === undefined ? {} : { now: options.now });
  }

  /** True when clients must present a token. */
  get requiresToken(): boolean {
    return this.authority !== undefined;
  }

  /** Verifies a token; throws the auth package's typed errors. */
  async authenticate(token: string): Promise<Capability> {
    if (this.authority === undefined)
      throw new AuthRequiredError('this server does not take capability tokens');
    return this.authority.capability(token);
  }

  /**
   * Checks `access` to `database` for a caller holding `capability` (undefined
   * = none presented), then takes one operation from the database's bucket.
   * Throws `AuthRequiredError`, `TokenExpiredError`, `CapabilityDeniedError` or `RateLimitedError`.
   */
  check(capability: Capability | undefined, database: string | number, access: Access): void {
    if (this.authority !== undefined) {
      if (capability === undefined) throw new AuthRequiredError();
      // A connection may outlive its token: expiry is checked on every command.
      if (Date.now() > capability.expiresAtMs + this.authority.clockSkewMs) {
        throw new AuthRequiredError('capability token expired; AUTH again with a new one');
      }
      requireAccess(capability, database, access);
    }
    this.limiter?.take(String(database));
  }

  /** The HTTP check: the `Authorization` header's capability must allow `access` to `tenant`. */
  async authorizeHttp(authorization: string | undefined, tenant: string, access: Access): Promise<void> {
    this.check(await this.fromBearer(authorization), tenant, access);
  }

  /** The capability of an HTTP request's `Authorization: Bearer <token>` (undefined without the header). */
  async fromBearer(header: string | undefined): Promise<Capability | undefined> {
    if (this.authority === undefined || header === undefined) return undefined;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) throw new AuthRequiredError('Authorization must be "Bearer <token>"');
    return this.authority.capability(match[1]);
  }
}
