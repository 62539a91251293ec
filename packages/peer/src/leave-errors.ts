/** Errors of `peer.leave()`. Each leaves the peer serving (status back to `up`). */
import { TesseraError } from '@tessera/core';

/** Why a leave was refused before it began. */
export type LeaveRefusal = 'replicas' | 'noMajority' | 'notRunning';

/** Thrown when a leave would leave fewer eligible owners than N, or the map's owners have no majority in view. */
export class LeaveRefusedError extends TesseraError {
  readonly reason: LeaveRefusal;
  constructor(reason: LeaveRefusal, message: string) {
    super(`leave refused: ${message}`, 'ERR_LEAVE_REFUSED');
    this.reason = reason;
  }
}

/** Thrown when no committed map without this peer arrived within `timeoutMs`, or the caller aborted; the peer keeps serving. */
export class LeaveAbortedError extends TesseraError {
  constructor(message: string, options?: ErrorOptions) {
    super(`leave aborted: ${message}`, 'ERR_LEAVE_ABORTED', options);
  }
}
