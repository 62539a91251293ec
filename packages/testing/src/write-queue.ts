/**
 * Offline writes for a client peer: `@tessera/peer` has no write queue yet
 * (ARCHITECTURE.md: a browser client "queues writes while offline"), so this
 * is the smallest honest one. A put that fails for a reason that can pass
 * (no quorum, timeout, no route) is kept and retried in order; every write
 * carries an idempotency key from the start, so a retry of a write that did
 * reach some owners is a no-op there instead of a second version. Queued
 * writes live in memory only: a reload loses them (see README, "Not done").
 */
import type { DataWriteOptions, Peer } from '@tessera/peer';
import { WriteQueueFullError } from './errors.ts';

/** Errors that no retry can fix: the write is dropped and the caller told. */
const PERMANENT_ERRORS = new Set([
  'InvalidArgumentError',
  'LimitExceededError',
  'IdempotencyKeyConflictError',
  'ReplicatorClosedError',
]);

/** Writes kept at most; a put beyond it is refused. */
export const QUEUED_WRITES_MAX = 10_000;
/** How often queued writes are retried. */
export const RETRY_PERIOD_MS_DEFAULT = 500;

interface Settle {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function settle(): Settle {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

interface QueuedWrite {
  readonly key: string;
  readonly value: unknown;
  readonly options: DataWriteOptions;
  readonly done: Settle;
}

/** What `put` tells the caller at once. */
export interface QueuedPut {
  /** True when the first attempt failed and the write waits for a retry. */
  readonly queued: boolean;
  /** Settles when an owner quorum acknowledged the write (or it failed for good). */
  readonly acknowledged: Promise<void>;
}

export class WriteQueue {
  readonly #peer: Peer;
  readonly #queue: QueuedWrite[] = [];
  readonly #timer: ReturnType<typeof setInterval>;
  #flushing: Promise<void> | undefined;

  constructor(peer: Peer, retryPeriodMs = RETRY_PERIOD_MS_DEFAULT) {
    this.#peer = peer;
    this.#timer = setInterval(() => void this.flush(), retryPeriodMs);
  }

  /** Writes waiting for a retry. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Tries the write now (behind any queued ones, to keep per-key order); queues it when that fails. */
  async put(key: string, value: unknown, options: DataWriteOptions = {}): Promise<QueuedPut> {
    if (this.#queue.length >= QUEUED_WRITES_MAX) throw new WriteQueueFullError(QUEUED_WRITES_MAX);
    const write: QueuedWrite = {
      key,
      value,
      options: { ...options, idempotencyKey: options.idempotencyKey ?? crypto.randomUUID() },
      done: settle(),
    };
    // Callers that only look at `queued` must not see an unhandled rejection.
    write.done.promise.catch(() => {});
    this.#queue.push(write);
    await this.flush();
    return { queued: this.#queue.includes(write), acknowledged: write.done.promise };
  }

  /** Retries queued writes in order until one fails again; resolves when this pass ends. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #drain(): Promise<void> {
    for (;;) {
      const write = this.#queue[0];
      if (write === undefined) return;
      try {
        await this.#peer.put(write.key, write.value, write.options);
      } catch (err) {
        if (!PERMANENT_ERRORS.has((err as Error).name)) return;
        this.#queue.shift();
        write.done.reject(err);
        continue;
      }
      this.#queue.shift();
      write.done.resolve();
    }
  }
}
