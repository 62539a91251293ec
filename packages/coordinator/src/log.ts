/**
 * The replayable message log: every accepted message under its M key, plus
 * an in-memory digest (count and XOR hash per bucket of clocks) that the
 * catch-up protocol compares to find which clock ranges differ.
 */
import { compareBytes, type Store } from '@tessera/storage';
import type { PeerIdString } from './env.ts';
import { keySuccessor, messageClockStart, messageEnd, messageKey, messagePrefix } from './keys.ts';
import type { CoordinatorLimits } from './options.ts';
import type { CoordinatorLogger, LogSummary } from './types.ts';
import {
  DIGEST_BUCKET_CLOCKS,
  type DigestBucket,
  decodeMessage,
  type MessageId,
  messageIdHash,
} from './wire.ts';

interface Bucket {
  count: number;
  hash: number;
}

export class MessageLog {
  readonly #store: Store;
  readonly #limits: CoordinatorLimits;
  readonly #buckets = new Map<number, Bucket>();
  #sortedBuckets: number[] | null = null;
  #count = 0;
  #hash = 0;
  #clock = 0;

  constructor(store: Store, limits: CoordinatorLimits) {
    this.#store = store;
    this.#limits = limits;
  }

  /** Rebuilds the digest from the stored log. */
  async load(logger: CoordinatorLogger): Promise<void> {
    for await (const entry of this.#store.scan({ prefix: messagePrefix() })) {
      const checked = decodeMessage(entry.value, this.#limits);
      if (!checked.ok) {
        logger.warn('coordinator: unreadable stored message skipped', { detail: checked.detail });
        continue;
      }
      this.#index(checked.value.clock, checked.value.from);
    }
  }

  summary(): LogSummary {
    return { clock: this.#clock, count: this.#count, hash: this.#hash };
  }

  /** The stored bytes of message (`clock`, `origin`), if held. */
  async get(clock: number, origin: PeerIdString): Promise<Uint8Array | undefined> {
    return await this.#store.get(messageKey(clock, origin));
  }

  /** Stores `bytes` under its id unless already there; true when newly stored. */
  async append(clock: number, origin: PeerIdString, bytes: Uint8Array): Promise<boolean> {
    const key = messageKey(clock, origin);
    if ((await this.#store.get(key)) !== undefined) return false;
    await this.#store.put(key, bytes);
    this.#index(clock, origin);
    return true;
  }

  #index(clock: number, origin: PeerIdString): void {
    const h = messageIdHash(clock, origin);
    const i = Math.floor(clock / DIGEST_BUCKET_CLOCKS);
    let b = this.#buckets.get(i);
    if (!b) {
      b = { count: 0, hash: 0 };
      this.#buckets.set(i, b);
      this.#sortedBuckets = null;
    }
    b.count += 1;
    b.hash = (b.hash ^ h) >>> 0;
    this.#count += 1;
    this.#hash = (this.#hash ^ h) >>> 0;
    if (clock > this.#clock) this.#clock = clock;
  }

  /** The local bucket `index`, or undefined when empty. */
  bucket(index: number): Readonly<Bucket> | undefined {
    return this.#buckets.get(index);
  }

  /** Non-empty buckets from `fromBucket` on, at most `max`, and where the next page starts. */
  digest(fromBucket: number, max: number): { buckets: DigestBucket[]; nextBucket: number | null } {
    if (!this.#sortedBuckets) this.#sortedBuckets = [...this.#buckets.keys()].sort((a, b) => a - b);
    const all = this.#sortedBuckets;
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid]! < fromBucket) lo = mid + 1;
      else hi = mid;
    }
    const buckets: DigestBucket[] = [];
    for (let i = lo; i < all.length && buckets.length < max; i++) {
      const b = this.#buckets.get(all[i]!)!;
      buckets.push([all[i]!, b.count, b.hash]);
    }
    const next = lo + buckets.length;
    return { buckets, nextBucket: next < all.length ? all[next]! : null };
  }

  /**
   * Stored message frames with `fromClock <= clock < toClock`, after `after`,
   * in log order, bounded by `messagesMax` and `bytesMax` (at least one).
   */
  async page(
    fromClock: number,
    toClock: number | null,
    after: MessageId | null,
    messagesMax: number,
    bytesMax: number,
  ): Promise<{ messages: Uint8Array[]; more: boolean }> {
    let start = messageClockStart(fromClock);
    if (after) {
      const afterNext = keySuccessor(messageKey(after[0], after[1]));
      if (compareBytes(afterNext, start) > 0) start = afterNext;
    }
    const end = toClock === null ? messageEnd() : messageClockStart(toClock);
    if (compareBytes(start, end) >= 0) return { messages: [], more: false };
    const messages: Uint8Array[] = [];
    let bytes = 0;
    for await (const entry of this.#store.scan({ start, end, limit: messagesMax + 1 })) {
      if (
        messages.length >= messagesMax ||
        (messages.length > 0 && bytes + entry.value.byteLength > bytesMax)
      ) {
        return { messages, more: true };
      }
      messages.push(entry.value);
      bytes += entry.value.byteLength;
    }
    return { messages, more: false };
  }
}
