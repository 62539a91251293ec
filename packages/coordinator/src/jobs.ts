/**
 * Job records (`J, id`): long work such as slot migration with progress the
 * dashboard and CLI show. This module only keeps the records; the packages
 * that do the work create and update them.
 */
import { decodeValue, encodeValue, InvalidArgumentError } from '@tessera/core';
import type { Store } from '@tessera/storage';
import { JobFinishedError, JobNotFoundError } from './errors.ts';
import { jobKey, jobPrefix } from './keys.ts';
import type { Job, JobStatus } from './types.ts';

/** What `jobs.create` takes. */
export interface JobInput {
  readonly kind: string;
  /** Inclusive slot ranges. */
  readonly slots?: readonly (readonly [number, number])[];
  /** Units of work, 0 when unknown. */
  readonly total?: number;
  readonly status?: JobStatus;
}

/** What `jobs.update` takes; omitted fields keep their value. */
export interface JobPatch {
  readonly status?: JobStatus;
  readonly done?: number;
  readonly total?: number;
  readonly error?: string | null;
}

/** The job API a coordinator exposes. */
export interface Jobs {
  create(input: JobInput): Promise<Job>;
  update(id: string, patch: JobPatch): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
  /** Jobs in id order, at most `limit` (default `jobsListMax`). */
  list(options?: { limit?: number }): Promise<Job[]>;
}

const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'paused', 'done', 'failed', 'cancelled'];
const FINAL: readonly JobStatus[] = ['done', 'failed', 'cancelled'];
const SLOT_LAST = 16383;
/** Most slot ranges in one job. */
export const jobSlotRangesMax = 1024;
/** Most jobs one `list` returns. */
export const jobsListMax = 1000;
const jobKindCharsMax = 64;

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function checkStatus(status: unknown): asserts status is JobStatus {
  if (!JOB_STATUSES.includes(status as JobStatus))
    throw new InvalidArgumentError(`unknown job status ${String(status)}`);
}

function checkProgress(done: number, total: number): void {
  if (!isNat(done) || !isNat(total))
    throw new InvalidArgumentError('job progress must be non-negative integers');
  if (total > 0 && done > total)
    throw new InvalidArgumentError(`job progress ${done} exceeds total ${total}`);
}

export interface JobsContext {
  readonly store: Store;
  readonly nodeId: string;
  readonly nowMs: () => number;
  /** A prefix unique to this run of this node (node id and incarnation). */
  readonly idPrefix: () => string;
  readonly onChange: (job: Job) => void;
}

export function createJobs(ctx: JobsContext): Jobs {
  let counter = 0;
  const save = async (job: Job) => {
    await ctx.store.put(jobKey(job.id), encodeValue(job));
    ctx.onChange(job);
    return job;
  };
  const get = async (id: string): Promise<Job | undefined> => {
    const bytes = await ctx.store.get(jobKey(id));
    return bytes === undefined ? undefined : decodeValue<Job>(bytes);
  };
  return {
    async create(input) {
      if (typeof input.kind !== 'string' || input.kind.length === 0 || input.kind.length > jobKindCharsMax) {
        throw new InvalidArgumentError(`job kind must be 1..${jobKindCharsMax} characters`);
      }
      const slots = input.slots ?? [];
      if (slots.length > jobSlotRangesMax)
        throw new InvalidArgumentError(`more than ${jobSlotRangesMax} slot ranges`);
      for (const [first, last] of slots) {
        if (!isNat(first) || !isNat(last) || first > last || last > SLOT_LAST) {
          throw new InvalidArgumentError(`bad slot range [${first}, ${last}]`);
        }
      }
      const status = input.status ?? 'pending';
      checkStatus(status);
      const total = input.total ?? 0;
      checkProgress(0, total);
      counter += 1;
      const now = ctx.nowMs();
      return save({
        id: `${ctx.idPrefix()}/${counter}`,
        kind: input.kind,
        status,
        progress: { done: 0, total },
        slots: slots.map(([a, b]) => [a, b] as const),
        node: ctx.nodeId,
        createdMs: now,
        updatedMs: now,
        error: null,
      });
    },
    async update(id, patch) {
      const job = await get(id);
      if (!job) throw new JobNotFoundError(id);
      if (FINAL.includes(job.status)) throw new JobFinishedError(id, job.status);
      if (patch.status !== undefined) checkStatus(patch.status);
      const done = patch.done ?? job.progress.done;
      const total = patch.total ?? job.progress.total;
      checkProgress(done, total);
      if (patch.error !== undefined && patch.error !== null && typeof patch.error !== 'string') {
        throw new InvalidArgumentError('job error must be a string or null');
      }
      return save({
        ...job,
        status: patch.status ?? job.status,
        progress: { done, total },
        error: patch.error === undefined ? job.error : patch.error,
        updatedMs: ctx.nowMs(),
      });
    },
    get,
    async list(options = {}) {
      const limit = Math.min(options.limit ?? jobsListMax, jobsListMax);
      const jobs: Job[] = [];
      for await (const entry of ctx.store.scan({ prefix: jobPrefix(), limit }))
        jobs.push(decodeValue<Job>(entry.value));
      return jobs;
    },
  };
}
