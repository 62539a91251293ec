/**
 * The signed envelope both credentials share: CBOR `[kind, body, signature]`
 * where `body` is the CBOR map of claims as bytes and the signature is the
 * cluster key's Ed25519 signature of `utf8(kind) || 0x00 || body`. The kind
 * in the signed bytes keeps a certificate from being replayed as a token.
 */
import { decodeValue, encodeValue } from '@tessera/core';
import { type ClusterSigner, type ClusterVerifier, KEY_ID_BYTES } from './cluster-key.ts';
import {
  CredentialMalformedError,
  TokenExpiredError,
  TokenSignatureError,
  WrongClusterError,
} from './errors.ts';
import { CREDENTIAL_BYTES_MAX, CREDENTIAL_NAME_CHARS_MAX } from './limits.ts';

/** Envelope kinds. */
export type EnvelopeKind = 'tessera-cap-1' | 'tessera-cert-1';

/** Claims every credential carries. */
export interface BaseClaims {
  /** Cluster name. */
  readonly cl: string;
  /** Key id of the cluster key that signed it. */
  readonly kid: Uint8Array;
  /** Issued at, unix ms. */
  readonly iat: number;
  /** Expires at, unix ms. */
  readonly exp: number;
}

/** How a verifier checks a credential. */
export interface VerifyContext {
  readonly verifier: ClusterVerifier;
  readonly cluster: string;
  readonly nowMs: number;
  /** Clock skew allowed on both expiry and issue time, ms. */
  readonly clockSkewMs: number;
}

type Rec = Record<string, unknown>;
const isRecord = (x: unknown): x is Rec =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
const isTime = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** True when `x` is a non-empty string within the credential name bound. */
export const isName = (x: unknown): x is string =>
  typeof x === 'string' && x.length > 0 && x.length <= CREDENTIAL_NAME_CHARS_MAX;

function prefix(kind: EnvelopeKind): Uint8Array {
  return new TextEncoder().encode(`${kind}\u0000`);
}

function signedBytes(kind: EnvelopeKind, body: Uint8Array): Uint8Array {
  const head = prefix(kind);
  const out = new Uint8Array(head.byteLength + body.byteLength);
  out.set(head);
  out.set(body, head.byteLength);
  return out;
}

/** Signs `claims` as an envelope of `kind`. */
export async function sealEnvelope(
  signer: ClusterSigner,
  kind: EnvelopeKind,
  claims: BaseClaims & Rec,
): Promise<Uint8Array> {
  const body = encodeValue(claims);
  const signature = await signer.sign(signedBytes(kind, body));
  return encodeValue([kind, body, signature]);
}

/**
 * Decodes and verifies an envelope of `kind`; returns its claims.
 * Order of checks: shape, key id (other cluster key), signature, cluster name, time.
 */
export async function openEnvelope(
  bytes: Uint8Array,
  kind: EnvelopeKind,
  context: VerifyContext,
): Promise<BaseClaims & Rec> {
  if (bytes.byteLength > CREDENTIAL_BYTES_MAX) {
    throw new CredentialMalformedError(`${bytes.byteLength} bytes > ${CREDENTIAL_BYTES_MAX}`);
  }
  let outer: unknown;
  try {
    outer = decodeValue(bytes);
  } catch {
    throw new CredentialMalformedError('not CBOR');
  }
  if (!Array.isArray(outer) || outer.length !== 3) throw new CredentialMalformedError('not an envelope');
  const [gotKind, body, signature] = outer as unknown[];
  if (gotKind !== kind)
    throw new CredentialMalformedError(`expected ${kind}, got ${String(gotKind).slice(0, 40)}`);
  if (!(body instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new CredentialMalformedError('body and signature must be byte strings');
  }
  let claims: unknown;
  try {
    claims = decodeValue(body);
  } catch {
    throw new CredentialMalformedError('body is not CBOR');
  }
  if (!isRecord(claims)) throw new CredentialMalformedError('body is not a map');
  const kid = claims.kid;
  if (!(kid instanceof Uint8Array) || kid.byteLength !== KEY_ID_BYTES)
    throw new CredentialMalformedError('bad kid');
  if (!sameBytes(kid, context.verifier.keyId)) throw new WrongClusterError('signed by another cluster key');
  if (!(await context.verifier.verify(signature, signedBytes(kind, body)))) throw new TokenSignatureError();
  if (!isName(claims.cl)) throw new CredentialMalformedError('bad cluster name');
  if (claims.cl !== context.cluster)
    throw new WrongClusterError(
      `cluster ${JSON.stringify(claims.cl)}, expected ${JSON.stringify(context.cluster)}`,
    );
  if (!isTime(claims.iat) || !isTime(claims.exp) || claims.exp < claims.iat) {
    throw new CredentialMalformedError('bad iat or exp');
  }
  if (context.nowMs > claims.exp + context.clockSkewMs)
    throw new TokenExpiredError(claims.exp, context.nowMs);
  if (claims.iat > context.nowMs + context.clockSkewMs)
    throw new TokenExpiredError(claims.iat, context.nowMs, true);
  return claims as BaseClaims & Rec;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
