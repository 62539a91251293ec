/** Errors of the slot map: bad maps from peers, assignments that cannot be made, proposals refused. */
import { TesseraError } from '@tessera/core';

/** Why a slot map was refused. */
export type InvalidSlotMapReason =
  | 'malformed'
  | 'coverage'
  | 'ownerCount'
  | 'duplicateOwner'
  | 'unknownOwner'
  | 'epoch'
  | 'tooLarge';

/** Thrown when a slot map (usually from another peer) is not well formed; nothing is installed. */
export class InvalidSlotMapError extends TesseraError {
  readonly reason: InvalidSlotMapReason;
  constructor(reason: InvalidSlotMapReason, message: string) {
    super(`invalid slot map (${reason}): ${message}`, 'ERR_INVALID_SLOT_MAP');
    this.reason = reason;
  }
}

/** Thrown when no assignment can satisfy the members: no eligible owner, or quotas too small for N copies of every slot. */
export class SlotMapCapacityError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_SLOT_MAP_CAPACITY');
  }
}

/** Thrown (as a rejection of `propose`/`rebalance`) when this peer may not propose now: not running, a change in flight, or no majority of owners in view. */
export class SlotMapProposalError extends TesseraError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message, 'ERR_SLOT_MAP_PROPOSAL');
    this.reason = reason;
  }
}
