/**
 * What a peer says about its own work in the node state it gossips: operation
 * counters and latencies, and its recent jobs with their progress. Dashboards
 * and CLIs read them from membership, so they see every peer's numbers over
 * the same channel as its liveness (no side channel, no extra traffic).
 */
import type { Job, JobStatus } from './types.ts';

/** Operations a peer coordinated (it took the request and asked the owners). */
export interface OpStats {
  /** Operations finished since the peer started (cumulative: rates come from two states' difference). */
  readonly ops: number;
  /** Of those, how many failed for want of a quorum (cumulative). */
  readonly quorumFailures: number;
  /** Of those, how many failed for any other reason (cumulative). */
  readonly errors: number;
  /** Latency percentiles (ms) of the operations finished in the last `windowMs`; null when there were none. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly windowMs: number;
}

/** A job as a node state carries it: no slot list (up to 1024 ranges), only how many slots. */
export interface JobSummary {
  readonly id: string;
  readonly kind: string;
  readonly status: JobStatus;
  readonly done: number;
  /** 0 = unknown. */
  readonly total: number;
  /** Slots the job covers. */
  readonly slots: number;
  readonly updatedMs: number;
}

/** The optional report fields of a node state. */
export interface NodeReport {
  readonly ops?: OpStats;
  readonly jobs?: readonly JobSummary[];
}

/** Most jobs one node state carries (the most recently updated). */
export const jobSummariesMax = 8;
/** A finished job stays in the node state this long after its last update. */
export const jobSummaryFinishedKeepMs = 60_000;
const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'paused', 'done', 'failed', 'cancelled'];
const FINAL: readonly JobStatus[] = ['done', 'failed', 'cancelled'];
/** Longest job id or kind a node state may carry. */
const jobNameCharsMax = 256;

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isMs = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
const isName = (x: unknown): x is string =>
  typeof x === 'string' && x.length > 0 && x.length <= jobNameCharsMax;

function isOpStats(x: unknown): x is OpStats {
  return (
    isRecord(x) &&
    isNat(x.ops) &&
    isNat(x.quorumFailures) &&
    isNat(x.errors) &&
    x.quorumFailures + x.errors <= x.ops &&
    (x.p50Ms === null || isMs(x.p50Ms)) &&
    (x.p99Ms === null || isMs(x.p99Ms)) &&
    isMs(x.windowMs)
  );
}

function isJobSummary(x: unknown): x is JobSummary {
  return (
    isRecord(x) &&
    isName(x.id) &&
    isName(x.kind) &&
    JOB_STATUSES.includes(x.status as JobStatus) &&
    isNat(x.done) &&
    isNat(x.total) &&
    (x.total === 0 || x.done <= x.total) &&
    isNat(x.slots) &&
    x.slots <= 16384 &&
    isMs(x.updatedMs)
  );
}

/** Why a received state's report fields are malformed, or null when they are fine (absent fields are fine). */
export function nodeReportProblem(state: Record<string, unknown>): string | null {
  if (state.ops !== undefined && !isOpStats(state.ops)) return 'bad ops';
  const jobs = state.jobs;
  if (
    jobs !== undefined &&
    !(Array.isArray(jobs) && jobs.length <= jobSummariesMax && jobs.every((job) => isJobSummary(job)))
  ) {
    return 'bad jobs';
  }
  return null;
}

/** This peer's recent jobs, fed by job changes, read at each state publish. */
export class RecentJobs {
  readonly #jobs = new Map<string, JobSummary>();

  /** Takes a job's latest record. */
  add(job: Job): void {
    const slots = job.slots.reduce((sum, [first, last]) => sum + (last - first + 1), 0);
    this.#jobs.delete(job.id);
    this.#jobs.set(job.id, {
      id: job.id,
      kind: job.kind,
      status: job.status,
      done: job.progress.done,
      total: job.progress.total,
      slots: Math.min(slots, 16384),
      updatedMs: job.updatedMs,
    });
    // Map order is update order: the oldest update is first.
    while (this.#jobs.size > jobSummariesMax) this.#jobs.delete(this.#jobs.keys().next().value as string);
  }

  /** The jobs to publish: unfinished ones, and finished ones for `jobSummaryFinishedKeepMs`, newest first. */
  list(nowMs: number): JobSummary[] {
    for (const [id, job] of this.#jobs) {
      if (FINAL.includes(job.status) && nowMs - job.updatedMs > jobSummaryFinishedKeepMs)
        this.#jobs.delete(id);
    }
    return [...this.#jobs.values()].reverse();
  }
}
