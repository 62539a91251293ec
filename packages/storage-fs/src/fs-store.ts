/**
 * The filesystem backend: the Store contract on LMDB (lmdb-js). Why LMDB:
 * docs/decisions/0001-filesystem-engine.md.
 *
 * Group commit is the engine's own: lmdb-js queues every write issued in one
 * event turn into one transaction, commits it on its write thread and, with
 * overlapping sync, fsyncs it while the next transaction is being built. A
 * durable write settles when the fsync of its transaction is done, so 64
 * concurrent writers share one commit and one fsync instead of paying 64.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '@tessera/core';
import {
  type BatchOp,
  checkBatch,
  checkKey,
  checkValue,
  checkWriteOptions,
  copyBytes,
  type Entry,
  QuotaExceededError,
  resolveBound,
  resolveLimits,
  resolveScan,
  type ScanOptions,
  type ScanRange,
  type SizeEstimate,
  StorageIoError,
  type Store,
  StoreClosedError,
  type StoreLimits,
  type WriteOptions,
} from '@tessera/storage';
import { open as openLmdb, type RootDatabase } from 'lmdb';
import { type DirLock, lockDir } from './dir-lock.ts';

/** Options of `openFsStore`. */
export interface FsStoreOptions {
  /** Overrides of the default limits; `keyBytesMax` may not exceed `LMDB_KEY_BYTES_MAX`. */
  readonly limits?: Partial<StoreLimits>;
  /** Entries read per scan page; each page is one read snapshot. Default 256. */
  readonly scanPageEntriesMax?: number;
}

/** LMDB's own key bound with 4 KiB pages, as lmdb-js builds it. */
export const LMDB_KEY_BYTES_MAX = 1978;
/** File name of the LMDB data file inside the store directory. */
export const DATA_FILE_NAME = 'data.mdb';

const DEFAULT_SCAN_PAGE_ENTRIES_MAX = 256;
/** A scan page whose keys and values total at most this many bytes is copied into one shared buffer. */
const SHARED_PAGE_BYTES_MAX = 64 * 1024;
/**
 * Initial map size. It is address space, not disk (the file grows with the
 * data), and lmdb-js grows the map when a commit fills it; starting large
 * avoids the frequent remaps of lmdb-js's 128 KiB default.
 */
const MAP_BYTES_INITIAL = 2 ** 32;

/** A write promise from lmdb-js opened with `separateFlushed`: settles at commit, `.flushed` after the fsync. */
type CommitPromise = Promise<boolean> & { flushed?: Promise<boolean> };

/**
 * Opens (creating if needed) the store in directory `dir`. Throws
 * `StoreLockedError` if another open store holds the directory, in this
 * process or another.
 */
export async function openFsStore(dir: string, options: FsStoreOptions = {}): Promise<FsStore> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidArgumentError('dir must be a non-empty string');
  }
  const limits = resolveLimits(options.limits);
  if (limits.keyBytesMax > LMDB_KEY_BYTES_MAX) {
    throw new InvalidArgumentError(
      `keyBytesMax must be at most ${LMDB_KEY_BYTES_MAX} (LMDB), got ${limits.keyBytesMax}`,
    );
  }
  const pageEntriesMax = resolveBound(
    'scanPageEntriesMax',
    options.scanPageEntriesMax,
    DEFAULT_SCAN_PAGE_ENTRIES_MAX,
  );
  const absolute = path.resolve(dir);
  try {
    await mkdir(absolute, { recursive: true });
  } catch (error) {
    throw new StorageIoError(`cannot create ${absolute}`, { cause: error });
  }
  const lock = lockDir(absolute);
  let db: RootDatabase<Uint8Array, Uint8Array>;
  try {
    db = openLmdb<Uint8Array, Uint8Array>({
      path: path.join(absolute, DATA_FILE_NAME),
      keyEncoding: 'binary',
      encoding: 'binary',
      separateFlushed: true,
      overlappingSync: true,
      mapSize: MAP_BYTES_INITIAL,
    });
  } catch (error) {
    lock.release();
    throw new StorageIoError(`cannot open LMDB in ${absolute}`, { cause: error });
  }
  return new FsStore(absolute, db, lock, limits, pageEntriesMax);
}

/** A `Store` on disk. Only `openFsStore` makes one. */
export class FsStore implements Store {
  readonly limits: StoreLimits;
  /** The absolute directory the store lives in. */
  readonly dir: string;
  readonly #db: RootDatabase<Uint8Array, Uint8Array>;
  readonly #lock: DirLock;
  readonly #pageEntriesMax: number;
  #closing: Promise<void> | undefined;

  /** @internal Use `openFsStore`. */
  constructor(
    dir: string,
    db: RootDatabase<Uint8Array, Uint8Array>,
    lock: DirLock,
    limits: StoreLimits,
    pageEntriesMax: number,
  ) {
    this.dir = dir;
    this.#db = db;
    this.#lock = lock;
    this.limits = limits;
    this.#pageEntriesMax = pageEntriesMax;
  }

  /**
   * The id of the engine's last committed transaction. Diagnostics: it shows
   * group commit at work (N concurrent writes advance it by far less than N).
   */
  get lastCommitId(): number {
    this.#checkOpen();
    return (this.#db.getStats() as { lastTxnId: number }).lastTxnId;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#checkOpen();
    checkKey(key, this.limits);
    // getBinaryFast reads into a buffer lmdb-js reuses (its own `length` says how much
    // is this value; byteLength is the whole buffer); the copy is the caller's own.
    const value = this.#db.getBinaryFast(key);
    return value === undefined
      ? undefined
      : new Uint8Array(value.buffer, value.byteOffset, value.length).slice();
  }

  async put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#checkOpen();
    checkKey(key, this.limits);
    checkValue(value, this.limits);
    checkWriteOptions(options);
    // lmdb-js copies the key at once but reads the value on its write thread later: copy it.
    await this.#settle(this.#db.put(key, copyBytes(value)) as CommitPromise, options?.durable ?? true);
  }

  async delete(key: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#checkOpen();
    checkKey(key, this.limits);
    checkWriteOptions(options);
    await this.#settle(this.#db.remove(key) as CommitPromise, options?.durable ?? true);
  }

  async batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void> {
    this.#checkOpen();
    checkBatch(ops, this.limits);
    checkWriteOptions(options);
    // lmdb-js reads values on its write thread after this call returns, so
    // they are copied, into one buffer: a thousand small copies (and lmdb-js
    // resolving each one's memory address) measured twice the main-thread time.
    let valueBytes = 0;
    for (const op of ops) if (op.type === 'put') valueBytes += op.value.length;
    const values = new Uint8Array(valueBytes);
    let offset = 0;
    const db = this.#db;
    // One lmdb-js batch is one transaction. Every op was checked above, so none throws midway.
    const committed = db.batch(() => {
      for (const op of ops) {
        if (op.type === 'put') {
          const value = values.subarray(offset, offset + op.value.length);
          value.set(op.value);
          offset += op.value.length;
          db.put(op.key, value);
        } else {
          db.remove(op.key);
        }
      }
    }) as CommitPromise;
    await this.#settle(committed, options?.durable ?? true);
  }

  scan(options?: ScanOptions): AsyncIterable<Entry> {
    this.#checkOpen();
    const range = resolveScan(options);
    return this.#pages(range);
  }

  async estimateSize(): Promise<SizeEstimate> {
    this.#checkOpen();
    let usedBytes = 0;
    for (const name of await readdir(this.dir)) {
      try {
        usedBytes += (await stat(path.join(this.dir, name))).size;
      } catch {
        // A file that vanished between readdir and stat (SQLite's journal) holds nothing.
      }
    }
    return { usedBytes };
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        // lmdb-js finishes (commits and flushes) every queued write before it closes.
        await this.#db.close();
      } finally {
        this.#lock.release();
      }
    })();
    return this.#closing;
  }

  /**
   * Pages are read synchronously, so the iterator is hand-written rather than
   * an async generator: each step is one already-settled promise instead of
   * the generator's queue, which roughly doubles scan throughput.
   */
  #pages(range: ScanRange): AsyncIterable<Entry> {
    const store = this;
    return {
      [Symbol.asyncIterator](): AsyncIterator<Entry> {
        let remaining = range.empty ? 0 : range.limit;
        let page: Entry[] = [];
        let index = 0;
        let last = false;
        let after: Uint8Array | undefined;
        const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
        return {
          next(): Promise<IteratorResult<Entry>> {
            try {
              if (index === page.length) {
                if (last || remaining <= 0) return Promise.resolve(done);
                store.#checkOpen();
                const count = Math.min(store.#pageEntriesMax, remaining);
                page = store.#page(range, after, count);
                index = 0;
                remaining -= page.length;
                last = page.length < count;
                if (page.length === 0) return Promise.resolve(done);
                after = page[page.length - 1]!.key;
              }
              return Promise.resolve({ done: false, value: page[index++]! });
            } catch (error) {
              return Promise.reject(error);
            }
          },
          return(): Promise<IteratorResult<Entry>> {
            remaining = 0;
            page = [];
            index = 0;
            return Promise.resolve(done);
          },
        };
      },
    };
  }

  /** Reads one page synchronously: one read transaction, so a consistent snapshot. */
  #page(range: ScanRange, after: Uint8Array | undefined, count: number): Entry[] {
    // lmdb-js ranges run from `start` (inclusive unless exclusiveStart) to `end`
    // (exclusive unless inclusiveEnd) in the direction of travel.
    const start = after ?? (range.reverse ? range.upper : range.lower);
    const end = range.reverse ? range.lower : range.upper;
    const page: Entry[] = [];
    const entries = this.#db.getRange({
      ...(start === undefined ? {} : { start }),
      ...(end === undefined ? {} : { end }),
      exclusiveStart: after !== undefined || (range.reverse && start !== undefined),
      inclusiveEnd: range.reverse,
      reverse: range.reverse,
      limit: count,
    });
    // Copied out of lmdb-js's Buffers into plain Uint8Arrays. A page of small
    // entries shares one buffer (one allocation instead of two per entry); a
    // page with big values copies each entry alone, so keeping one entry
    // never keeps a large page alive.
    const read: { key: Uint8Array; value: Uint8Array }[] = [];
    let bytes = 0;
    for (const entry of entries) {
      read.push(entry);
      bytes += entry.key.length + entry.value.length;
    }
    if (bytes > SHARED_PAGE_BYTES_MAX) {
      for (const { key, value } of read) page.push({ key: copyBytes(key), value: copyBytes(value) });
      return page;
    }
    const shared = new Uint8Array(bytes);
    let offset = 0;
    for (const { key, value } of read) {
      shared.set(key, offset);
      const ownKey = shared.subarray(offset, offset + key.length);
      offset += key.length;
      shared.set(value, offset);
      page.push({ key: ownKey, value: shared.subarray(offset, offset + value.length) });
      offset += value.length;
    }
    return page;
  }

  async #settle(commit: CommitPromise, durable: boolean): Promise<void> {
    try {
      await commit;
      if (durable) await commit.flushed;
    } catch (error) {
      throw engineError(error);
    }
  }

  #checkOpen(): void {
    if (this.#closing) throw new StoreClosedError();
  }
}

/** Turns an lmdb-js failure into a typed error; a full disk or map is a quota error. */
function engineError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOSPC' || /MDB_MAP_FULL|No space left/i.test(message)) {
    return new QuotaExceededError(`disk or map full: ${message}`, { cause: error });
  }
  return new StorageIoError(`LMDB write failed: ${message}`, { cause: error });
}
