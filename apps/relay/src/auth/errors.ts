/**
 * How the auth errors read on each front end. RESP: NOAUTH (no or expired
 * credential), WRONGPASS (a token that does not verify, at AUTH), NOPERM
 * (valid token, operation not allowed), RATELIMITED. HTTP: 401
 * UNAUTHORIZED, 403 FORBIDDEN, 429 RATE_LIMIT_EXCEEDED. Matched by `name`.
 */

const UNAUTHENTICATED = new Set([
  'AuthRequiredError',
  'TokenExpiredError',
  'TokenSignatureError',
  'WrongClusterError',
  'CredentialMalformedError',
]);

/** The RESP error line of an auth error, or undefined for any other error. */
export function respAuthError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (UNAUTHENTICATED.has(error.name)) return `NOAUTH ${error.message}`;
  if (error.name === 'CapabilityDeniedError') return `NOPERM ${error.message}`;
  if (error.name === 'RateLimitedError') return `RATELIMITED ${error.message}`;
  return undefined;
}

/** The HTTP error code of an auth error, or undefined for any other error. */
export function httpAuthError(
  error: unknown,
): 'UNAUTHORIZED' | 'FORBIDDEN' | 'RATE_LIMIT_EXCEEDED' | undefined {
  if (!(error instanceof Error)) return undefined;
  if (UNAUTHENTICATED.has(error.name)) return 'UNAUTHORIZED';
  if (error.name === 'CapabilityDeniedError') return 'FORBIDDEN';
  if (error.name === 'RateLimitedError') return 'RATE_LIMIT_EXCEEDED';
  return undefined;
}

/** The `WRONGPASS` line Redis answers a rejected AUTH with, naming why. */
export function wrongPass(error: unknown): string {
  const why = error instanceof Error ? error.message : String(error);
  return `WRONGPASS invalid token (${why})`;
}
