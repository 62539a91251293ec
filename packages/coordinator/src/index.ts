export { type Coordinator, type CoordinatorStats, createCoordinator } from './coordinator.ts';
export type * from './env.ts';
export { CoordinatorNotRunningError, JobFinishedError, JobNotFoundError } from './errors.ts';
export type { TypedEvents } from './events.ts';
export { type JobInput, type JobPatch, type Jobs, jobSlotRangesMax, jobsListMax } from './jobs.ts';
export { jobKey, messageKey, nodeStateKey } from './keys.ts';
export {
  type CoordinatorLimits,
  type CoordinatorOptions,
  type CoordinatorTiming,
  DEFAULT_LIMITS,
  DEFAULT_TIMING,
} from './options.ts';
export * from './types.ts';
export { DIGEST_BUCKET_CLOCKS, WIRE_VERSION } from './wire.ts';
