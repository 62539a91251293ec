/** base64url (RFC 4648 §5, no padding) over `btoa`/`atob`, which both Node and browsers have. */
import { CredentialMalformedError } from './errors.ts';

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Encodes bytes as unpadded base64url. */
export function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  // Chunked so a large input never overflows the argument list of fromCharCode.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Decodes unpadded base64url; throws `CredentialMalformedError` on any other character or a bad length. */
export function fromBase64url(text: string): Uint8Array {
  if (!ALPHABET.test(text) || text.length % 4 === 1) throw new CredentialMalformedError('not base64url');
  const padded = text.replaceAll('-', '+').replaceAll('_', '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
