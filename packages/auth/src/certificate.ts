/**
 * Membership certificates: the cluster key signs a libp2p peer id, its role
 * and an expiry. A certificate is public (it travels in node state); what
 * makes it useful only to its peer is that the verifier checks it against
 * the peer id the transport authenticated (the gossipsub message signer or
 * the libp2p connection's remote peer), never against a claimed id.
 */
import { InvalidArgumentError } from '@tessera/core';
import { fromBase64url, toBase64url } from './base64url.ts';
import type { ClusterSigner } from './cluster-key.ts';
import { isName, openEnvelope, sealEnvelope, type VerifyContext } from './envelope.ts';
import { CredentialMalformedError, NotAMemberError } from './errors.ts';

/** What a member may be: `owner` may hold slots; `client` may publish coordinator messages but holds none. */
export type MemberRole = 'owner' | 'client';

/** A verified certificate. */
export interface MembershipCertificate {
  readonly peerId: string;
  readonly role: MemberRole;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

/** What `issueCertificate` signs. */
export interface CertificateRequest {
  readonly cluster: string;
  readonly peerId: string;
  readonly role: MemberRole;
  readonly ttlMs: number;
  readonly nowMs?: number;
}

/** Signs a membership certificate; returns its bytes (`certificateToText` for config files). */
export async function issueCertificate(
  signer: ClusterSigner,
  request: CertificateRequest,
): Promise<Uint8Array> {
  if (!isName(request.cluster)) throw new InvalidArgumentError('cluster must be a non-empty name');
  if (!isName(request.peerId)) throw new InvalidArgumentError('peerId must be a non-empty name');
  if (request.role !== 'owner' && request.role !== 'client')
    throw new InvalidArgumentError(`unknown role ${String(request.role)}`);
  if (!Number.isSafeInteger(request.ttlMs) || request.ttlMs <= 0)
    throw new InvalidArgumentError('ttlMs must be a positive integer');
  const nowMs = request.nowMs ?? Date.now();
  return sealEnvelope(signer, 'tessera-cert-1', {
    cl: request.cluster,
    kid: signer.verifier.keyId,
    iat: nowMs,
    exp: nowMs + request.ttlMs,
    peer: request.peerId,
    role: request.role,
  });
}

/**
 * Verifies that `bytes` certify `peerId` (the transport-authenticated id).
 * Throws `NotAMemberError` (with the underlying error as `cause`) on any failure.
 */
export async function verifyCertificate(
  bytes: Uint8Array,
  peerId: string,
  context: VerifyContext,
): Promise<MembershipCertificate> {
  try {
    const claims = await openEnvelope(bytes, 'tessera-cert-1', context);
    if (!isName(claims.peer)) throw new CredentialMalformedError('bad peer');
    if (claims.role !== 'owner' && claims.role !== 'client') throw new CredentialMalformedError('bad role');
    if (claims.peer !== peerId) throw new NotAMemberError(peerId, `certificate is for ${claims.peer}`);
    return { peerId, role: claims.role, issuedAtMs: claims.iat, expiresAtMs: claims.exp };
  } catch (error) {
    if (error instanceof NotAMemberError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new NotAMemberError(peerId, detail, { cause: error });
  }
}

/** A certificate as base64url text. */
export function certificateToText(bytes: Uint8Array): string {
  return toBase64url(bytes);
}

/** A certificate from base64url text. */
export function certificateFromText(text: string): Uint8Array {
  return fromBase64url(text);
}
