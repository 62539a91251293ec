/**
 * What a peer or front end holds to check credentials of one cluster: the
 * cluster's public key and name, a clock and the skew it allows. Verified
 * tokens and certificates are cached (bounded, least recently used dropped
 * first) and their expiry is checked again on every use.
 */
import { InvalidArgumentError } from '@tessera/core';
import { type Capability, verifyToken } from './capability.ts';
import { type MembershipCertificate, verifyCertificate } from './certificate.ts';
import { ClusterVerifier } from './cluster-key.ts';
import type { VerifyContext } from './envelope.ts';
import { AuthRequiredError, NotAMemberError, TokenExpiredError } from './errors.ts';
import { CLOCK_SKEW_MS_DEFAULT } from './limits.ts';

/** Default verified credentials kept per cache. */
export const CREDENTIAL_CACHE_ENTRIES_MAX_DEFAULT = 4096;

/** Options of `ClusterAuthority.create`. */
export interface ClusterAuthorityOptions {
  /** The cluster public key: raw bytes or base64url text. */
  readonly clusterPublicKey: Uint8Array | string;
  readonly cluster: string;
  /** Clock skew allowed, ms. Default 60 000. */
  readonly clockSkewMs?: number;
  /** Clock; `Date.now` by default. */
  readonly now?: () => number;
  /** Verified tokens and certificates kept, each. Default 4096. */
  readonly cacheEntriesMax?: number;
}

class BoundedCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, value);
  }
  delete(key: string): void {
    this.#entries.delete(key);
  }
}

/** Checks capability tokens and membership certificates of one cluster. */
export class ClusterAuthority {
  readonly verifier: ClusterVerifier;
  readonly cluster: string;
  readonly clockSkewMs: number;
  readonly #now: () => number;
  readonly #tokens: BoundedCache<Capability>;
  readonly #members: BoundedCache<{ bytes: Uint8Array; certificate: MembershipCertificate }>;

  private constructor(verifier: ClusterVerifier, options: ClusterAuthorityOptions) {
    this.verifier = verifier;
    this.cluster = options.cluster;
    this.clockSkewMs = options.clockSkewMs ?? CLOCK_SKEW_MS_DEFAULT;
    this.#now = options.now ?? (() => Date.now());
    const max = options.cacheEntriesMax ?? CREDENTIAL_CACHE_ENTRIES_MAX_DEFAULT;
    if (!Number.isSafeInteger(max) || max < 1)
      throw new InvalidArgumentError('cacheEntriesMax must be a positive integer');
    if (!(this.clockSkewMs >= 0)) throw new InvalidArgumentError('clockSkewMs must be >= 0');
    this.#tokens = new BoundedCache(max);
    this.#members = new BoundedCache(max);
  }

  static async create(options: ClusterAuthorityOptions): Promise<ClusterAuthority> {
    if (typeof options.cluster !== 'string' || options.cluster.length === 0) {
      throw new InvalidArgumentError('cluster must be a non-empty string');
    }
    return new ClusterAuthority(await ClusterVerifier.fromPublicKey(options.clusterPublicKey), options);
  }

  #context(): VerifyContext {
    return {
      verifier: this.verifier,
      cluster: this.cluster,
      nowMs: this.#now(),
      clockSkewMs: this.clockSkewMs,
    };
  }

  #live(expiresAtMs: number): boolean {
    return this.#now() <= expiresAtMs + this.clockSkewMs;
  }

  /** Verifies a capability token (cached); throws `AuthRequiredError` for an empty token and the verify errors otherwise. */
  async capability(token: string | undefined): Promise<Capability> {
    if (token === undefined || token === '') throw new AuthRequiredError();
    const cached = this.#tokens.get(token);
    if (cached !== undefined) {
      if (this.#live(cached.expiresAtMs)) return cached;
      this.#tokens.delete(token);
      throw new TokenExpiredError(cached.expiresAtMs, this.#now());
    }
    const capability = await verifyToken(token, this.#context());
    this.#tokens.set(token, capability);
    return capability;
  }

  /**
   * Verifies `bytes` as `peerId`'s certificate and remembers it, so
   * `member(peerId)` answers without the bytes. Throws `NotAMemberError`.
   */
  async admit(peerId: string, bytes: Uint8Array): Promise<MembershipCertificate> {
    const cached = this.#members.get(peerId);
    if (
      cached !== undefined &&
      sameBytes(cached.bytes, bytes) &&
      this.#live(cached.certificate.expiresAtMs)
    ) {
      return cached.certificate;
    }
    const certificate = await verifyCertificate(bytes, peerId, this.#context());
    this.#members.set(peerId, { bytes: bytes.slice(), certificate });
    return certificate;
  }

  /** The admitted, unexpired certificate of `peerId`, if any. */
  member(peerId: string): MembershipCertificate | undefined {
    const entry = this.#members.get(peerId);
    if (entry === undefined) return undefined;
    if (this.#live(entry.certificate.expiresAtMs)) return entry.certificate;
    this.#members.delete(peerId);
    return undefined;
  }

  /** Throws `NotAMemberError` unless `peerId` has an admitted, unexpired certificate. */
  requireMember(peerId: string): MembershipCertificate {
    const certificate = this.member(peerId);
    if (certificate === undefined) throw new NotAMemberError(peerId, 'no valid membership certificate seen');
    return certificate;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
