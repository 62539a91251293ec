export { type Coordinator, type CoordinatorStats, createCoordinator } from './coordinator.ts';
export type * from './env.ts';
export { CoordinatorNotRunningError, JobFinishedError, JobNotFoundError } from './errors.ts';
export type { TypedEvents } from './events.ts';
export { type JobInput, type JobPatch, type Jobs, jobSlotRangesMax, jobsListMax } from './jobs.ts';
export { jobKey, messageKey, nodeStateKey } from './keys.ts';
export {
  type JobSummary,
  jobSummariesMax,
  jobSummaryFinishedKeepMs,
  type NodeReport,
  type OpStats,
} from './node-report.ts';
export {
  type CoordinatorLimits,
  type CoordinatorOptions,
  type CoordinatorTiming,
  DEFAULT_LIMITS,
  DEFAULT_TIMING,
} from './options.ts';
export * from './slot-map.ts';
export {
  type AssignInput,
  type AssignMember,
  type AssignStats,
  assignSlots,
  capacityFromQuota,
  capacityStepSlots,
  DEFAULT_QUOTA_RULE,
  type QuotaRule,
} from './slot-map-assign.ts';
export * from './slot-map-errors.ts';
export {
  type AckPayload,
  compareProposals,
  type EndPayload,
  type PreparePayload,
  type Proposal,
  type ProposalId,
  SLOT_MAP_MESSAGE_TYPE,
  type SlotMapHead,
  SlotMapLedger,
} from './slot-map-protocol.ts';
export * from './slot-map-service.ts';
export * from './types.ts';
export { DIGEST_BUCKET_CLOCKS, WIRE_VERSION } from './wire.ts';
