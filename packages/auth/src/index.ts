export {
  ClusterAuthority,
  type ClusterAuthorityOptions,
  CREDENTIAL_CACHE_ENTRIES_MAX_DEFAULT,
} from './authority.ts';
export { fromBase64url, toBase64url } from './base64url.ts';
export {
  type Access,
  allows,
  type Capability,
  issueToken,
  requireAccess,
  type TokenRequest,
  verifyToken,
} from './capability.ts';
export {
  type CertificateRequest,
  certificateFromText,
  certificateToText,
  issueCertificate,
  type MemberRole,
  type MembershipCertificate,
  verifyCertificate,
} from './certificate.ts';
export { CLUSTER_PUBLIC_KEY_BYTES, ClusterSigner, ClusterVerifier, KEY_ID_BYTES } from './cluster-key.ts';
export type { VerifyContext } from './envelope.ts';
export * from './errors.ts';
export * from './limits.ts';
export { RATE_LIMIT_KEYS_MAX_DEFAULT, type RateLimit, RateLimiter, TokenBucket } from './rate-limit.ts';
