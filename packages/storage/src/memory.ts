/**
 * The in-memory backend: two parallel arrays kept sorted by key, found by
 * binary search. Nothing is durable; `durable` is accepted and ignored.
 */
import { compareBytes, copyBytes } from './bytes.ts';
import { StoreClosedError } from './errors.ts';
import { resolveBound, resolveLimits } from './limits.ts';
import { pagedScan } from './pager.ts';
import type { BatchOp, Entry, ScanOptions, SizeEstimate, Store, StoreLimits, WriteOptions } from './store.ts';
import { checkBatch, checkKey, checkValue, checkWriteOptions, resolveScan } from './validate.ts';

/** Options of `openMemoryStore`. */
export interface MemoryStoreOptions {
  /** Overrides of the default limits. */
  readonly limits?: Partial<StoreLimits>;
  /** Entries copied out per scan page; a page is a snapshot. Default 128. */
  readonly scanPageEntriesMax?: number;
}

const DEFAULT_SCAN_PAGE_ENTRIES_MAX = 128;
/** Pages of large values hold fewer entries, so one page copies about this much. */
const PAGE_BYTES_TARGET = 4 * 1024 * 1024;

/** Opens an empty, ordered, in-memory store (for tests and browser clients). */
export async function openMemoryStore(options: MemoryStoreOptions = {}): Promise<Store> {
  return new MemoryStore(
    resolveLimits(options.limits),
    resolveBound('scanPageEntriesMax', options.scanPageEntriesMax, DEFAULT_SCAN_PAGE_ENTRIES_MAX),
  );
}

class MemoryStore implements Store {
  readonly limits: StoreLimits;
  readonly #pageEntriesMax: number;
  #keys: Uint8Array[] = [];
  #values: Uint8Array[] = [];
  #bytes = 0;
  #closed = false;

  constructor(limits: StoreLimits, pageEntriesMax: number) {
    this.limits = limits;
    this.#pageEntriesMax = Math.max(1, pageEntriesMax);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#checkOpen();
    checkKey(key, this.limits);
    const i = this.#lowerBound(key);
    if (i < this.#keys.length && compareBytes(this.#keys[i]!, key) === 0) return copyBytes(this.#values[i]!);
    return undefined;
  }

  async put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#checkOpen();
    checkKey(key, this.limits);
    checkValue(value, this.limits);
    checkWriteOptions(options);
    this.#set(key, value);
  }

  async delete(key: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#checkOpen();
    checkKey(key, this.limits);
    checkWriteOptions(options);
    this.#remove(key);
  }

  async batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void> {
    this.#checkOpen();
    checkBatch(ops, this.limits);
    checkWriteOptions(options);
    // Every op was checked above and applying cannot fail, so this is all or nothing.
    for (const op of ops) {
      if (op.type === 'put') this.#set(op.key, op.value);
      else this.#remove(op.key);
    }
  }

  scan(options?: ScanOptions): AsyncIterable<Entry> {
    this.#checkOpen();
    const range = resolveScan(options);
    const sizes = {
      firstPageEntries: this.#pageEntriesMax,
      pageEntriesMax: this.#pageEntriesMax,
      pageBytesTarget: PAGE_BYTES_TARGET,
    };
    return pagedScan(
      range,
      (r, after, count) => this.#page(r.lower, r.upper, r.reverse, after, count),
      sizes,
      () => (this.#closed ? 'store is closed' : undefined),
    );
  }

  async estimateSize(): Promise<SizeEstimate> {
    this.#checkOpen();
    return { usedBytes: this.#bytes };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#keys = [];
    this.#values = [];
    this.#bytes = 0;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  /** Copies one page synchronously, so it is a snapshot whatever the consumer awaits between entries. */
  #page(
    lower: Uint8Array | undefined,
    upper: Uint8Array | undefined,
    reverse: boolean,
    after: Uint8Array | undefined,
    count: number,
  ): Entry[] {
    const page: Entry[] = [];
    if (!reverse) {
      let i =
        after === undefined ? (lower === undefined ? 0 : this.#lowerBound(lower)) : this.#upperBound(after);
      const end = upper === undefined ? this.#keys.length : this.#lowerBound(upper);
      for (; i < end && page.length < count; i++) page.push(this.#entry(i));
    } else {
      let i =
        (after === undefined
          ? upper === undefined
            ? this.#keys.length
            : this.#lowerBound(upper)
          : this.#lowerBound(after)) - 1;
      const first = lower === undefined ? 0 : this.#lowerBound(lower);
      for (; i >= first && page.length < count; i--) page.push(this.#entry(i));
    }
    return page;
  }

  #entry(i: number): Entry {
    return { key: copyBytes(this.#keys[i]!), value: copyBytes(this.#values[i]!) };
  }

  #set(key: Uint8Array, value: Uint8Array): void {
    const i = this.#lowerBound(key);
    const stored = copyBytes(value);
    if (i < this.#keys.length && compareBytes(this.#keys[i]!, key) === 0) {
      this.#bytes += stored.length - this.#values[i]!.length;
      this.#values[i] = stored;
      return;
    }
    this.#bytes += key.length + stored.length;
    if (i === this.#keys.length) {
      this.#keys.push(copyBytes(key));
      this.#values.push(stored);
    } else {
      this.#keys.splice(i, 0, copyBytes(key));
      this.#values.splice(i, 0, stored);
    }
  }

  #remove(key: Uint8Array): void {
    const i = this.#lowerBound(key);
    if (i < this.#keys.length && compareBytes(this.#keys[i]!, key) === 0) {
      this.#bytes -= key.length + this.#values[i]!.length;
      this.#keys.splice(i, 1);
      this.#values.splice(i, 1);
    }
  }

  /** The first index whose key is >= `key`. */
  #lowerBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.#keys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index whose key is > `key`. */
  #upperBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.#keys[mid]!, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
