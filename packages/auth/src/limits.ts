/** Bounds of credentials, so a peer's or client's bytes can never make a verifier do unbounded work. */

/** Largest encoded credential (token text or certificate bytes) accepted, in bytes. */
export const CREDENTIAL_BYTES_MAX = 4096;
/** Most databases one capability token may name. */
export const TOKEN_DATABASES_MAX = 64;
/** Longest subject, database name, cluster name or peer id in a credential, in characters. */
export const CREDENTIAL_NAME_CHARS_MAX = 256;
/** Default clock skew allowed between the issuer's and the verifier's clocks, in ms. */
export const CLOCK_SKEW_MS_DEFAULT = 60_000;
/** Length of a token's random nonce, in bytes. */
export const TOKEN_NONCE_BYTES = 16;
