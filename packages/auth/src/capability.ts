/**
 * Client capability tokens: the cluster key signs who (subject), which
 * databases (names, or `*` for all), read and/or write, and until when. A
 * token is the signed envelope in base64url, small enough for a header or
 * a RESP AUTH argument. The random nonce makes every issued token distinct,
 * so one can be told apart (and denied by an operator's list) from another
 * with the same claims.
 */
import { InvalidArgumentError } from '@tessera/core';
import { fromBase64url, toBase64url } from './base64url.ts';
import type { ClusterSigner } from './cluster-key.ts';
import { isName, openEnvelope, sealEnvelope, type VerifyContext } from './envelope.ts';
import { CapabilityDeniedError, CredentialMalformedError } from './errors.ts';
import { CREDENTIAL_BYTES_MAX, TOKEN_DATABASES_MAX, TOKEN_NONCE_BYTES } from './limits.ts';

/** What a capability is checked for. */
export type Access = 'read' | 'write';

/** A verified capability token's claims. */
export interface Capability {
  readonly subject: string;
  /** Database names, or `'*'` for every database. */
  readonly databases: readonly string[] | '*';
  readonly read: boolean;
  readonly write: boolean;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  readonly nonce: Uint8Array;
}

/** What `issueToken` signs. */
export interface TokenRequest {
  readonly cluster: string;
  readonly subject: string;
  readonly databases: readonly string[] | '*';
  readonly read: boolean;
  readonly write: boolean;
  /** Lifetime from `nowMs`, ms. */
  readonly ttlMs: number;
  /** Issue time; `Date.now()` by default. */
  readonly nowMs?: number;
}

/** Signs a capability token with the cluster key; returns its base64url text. */
export async function issueToken(signer: ClusterSigner, request: TokenRequest): Promise<string> {
  if (!isName(request.cluster)) throw new InvalidArgumentError('cluster must be a non-empty name');
  if (!isName(request.subject)) throw new InvalidArgumentError('subject must be a non-empty name');
  checkDatabases(request.databases, (detail) => new InvalidArgumentError(detail));
  if (!request.read && !request.write)
    throw new InvalidArgumentError('a token must allow read, write or both');
  if (!Number.isSafeInteger(request.ttlMs) || request.ttlMs <= 0)
    throw new InvalidArgumentError('ttlMs must be a positive integer');
  const nowMs = request.nowMs ?? Date.now();
  const nonce = crypto.getRandomValues(new Uint8Array(TOKEN_NONCE_BYTES));
  const bytes = await sealEnvelope(signer, 'tessera-cap-1', {
    cl: request.cluster,
    kid: signer.verifier.keyId,
    iat: nowMs,
    exp: nowMs + request.ttlMs,
    sub: request.subject,
    dbs: request.databases === '*' ? '*' : [...request.databases],
    rd: request.read,
    wr: request.write,
    n: nonce,
  });
  return toBase64url(bytes);
}

/**
 * Decodes and verifies a token; throws `CredentialMalformedError`,
 * `WrongClusterError`, `TokenSignatureError` or `TokenExpiredError`.
 */
export async function verifyToken(token: string, context: VerifyContext): Promise<Capability> {
  if (typeof token !== 'string') throw new CredentialMalformedError('token must be text');
  // base64url grows 4/3; checked before decoding so a huge string costs nothing.
  if (token.length > Math.ceil((CREDENTIAL_BYTES_MAX * 4) / 3))
    throw new CredentialMalformedError('token too long');
  const claims = await openEnvelope(fromBase64url(token), 'tessera-cap-1', context);
  if (!isName(claims.sub)) throw new CredentialMalformedError('bad subject');
  const databases = claims.dbs;
  checkDatabases(databases, (detail) => new CredentialMalformedError(detail));
  if (typeof claims.rd !== 'boolean' || typeof claims.wr !== 'boolean')
    throw new CredentialMalformedError('bad rd or wr');
  if (!(claims.n instanceof Uint8Array) || claims.n.byteLength !== TOKEN_NONCE_BYTES)
    throw new CredentialMalformedError('bad nonce');
  return {
    subject: claims.sub,
    databases: databases as readonly string[] | '*',
    read: claims.rd,
    write: claims.wr,
    issuedAtMs: claims.iat,
    expiresAtMs: claims.exp,
    nonce: claims.n,
  };
}

/** True when `capability` allows `access` on `database` (a number is its decimal name, as Redis' `SELECT 0`). */
export function allows(capability: Capability, database: string | number, access: Access): boolean {
  if (access === 'read' ? !capability.read : !capability.write) return false;
  return capability.databases === '*' || capability.databases.includes(String(database));
}

/** Throws `CapabilityDeniedError` unless `capability` allows `access` on `database`. */
export function requireAccess(capability: Capability, database: string | number, access: Access): void {
  if (!allows(capability, database, access))
    throw new CapabilityDeniedError(String(database), access, capability.subject);
}

function checkDatabases(databases: unknown, error: (detail: string) => Error): void {
  if (databases === '*') return;
  if (!Array.isArray(databases) || databases.length === 0 || databases.length > TOKEN_DATABASES_MAX) {
    throw error(`databases must be '*' or 1..${TOKEN_DATABASES_MAX} names`);
  }
  if (!databases.every(isName)) throw error('every database must be a non-empty name');
}
