/**
 * The HTTP API's error codes (pairDB's contract, RESEARCH.md §3) and the
 * typed error that carries one. Every error answer is
 * `{ "status": "error", "error_code": "...", "message": "..." }`.
 */
import { TesseraError } from '@tessera/core';
import { httpAuthError } from '../auth/errors.ts';

/** Error code → HTTP status. */
export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  TENANT_NOT_FOUND: 404,
  TENANT_EXISTS: 409,
  KEY_NOT_FOUND: 404,
  QUORUM_NOT_REACHED: 503,
  IDEMPOTENCY_KEY_CONFLICT: 400,
  INVALID_REPLICATION_FACTOR: 400,
  INTERNAL_ERROR: 500,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMIT_EXCEEDED: 429,
  /** Tessera's own: the peer may not propose a slot-map change now (one in flight, no majority of owners). */
  REBALANCE_REFUSED: 409,
  /** Tessera's own: the peer may not leave now (fewer than N other owners up, no majority of owners in view). */
  LEAVE_REFUSED: 409,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Thrown by a handler to answer with an API error; `httpStatus` defaults to the code's. */
export class ApiError extends TesseraError {
  readonly errorCode: ErrorCode;
  readonly httpStatus: number;
  /** For 429: when the client may retry, ms (sent as `Retry-After`, whole seconds rounded up). */
  retryAfterMs: number | undefined;
  constructor(errorCode: ErrorCode, message: string, httpStatus: number = ERROR_STATUS[errorCode]) {
    super(message, `ERR_HTTP_${errorCode}`);
    this.errorCode = errorCode;
    this.httpStatus = httpStatus;
  }
}

/** Maps a thrown error to the API error it answers as (matched by name, so no package is imported for it). */
export function apiErrorOf(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const auth = httpAuthError(error);
  if (auth !== undefined) {
    const apiError = new ApiError(auth, error instanceof Error ? error.message : String(error));
    const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof retryAfterMs === 'number') apiError.retryAfterMs = retryAfterMs;
    return apiError;
  }
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  switch (name) {
    case 'QuorumNotReachedError':
      return new ApiError('QUORUM_NOT_REACHED', message);
    case 'IdempotencyKeyConflictError':
      return new ApiError('IDEMPOTENCY_KEY_CONFLICT', message);
    case 'InvalidArgumentError':
    case 'LimitExceededError':
      return new ApiError('INVALID_REQUEST', message);
    default:
      return new ApiError('INTERNAL_ERROR', 'internal error');
  }
}
