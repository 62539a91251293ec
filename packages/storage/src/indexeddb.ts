/**
 * The IndexedDB backend (browsers). One database per store, one object store
 * of binary keys (IndexedDB orders ArrayBuffer keys as unsigned bytes).
 *
 * Writes issued in the same task share one readwrite transaction (group
 * commit): the transaction commits once, so 64 concurrent puts cost one
 * commit, not 64. Reads issued together share one readonly transaction the
 * same way. Only the most recent transaction is ever joined, which keeps
 * every operation in call order. Nothing here touches a browser global until
 * a store is opened.
 */
import { type IDBPDatabase, unwrap, wrap } from 'idb';
import { compareBytes, copyBytes } from './bytes.ts';
import { QuotaExceededError, StorageIoError, StoreClosedError } from './errors.ts';
import { resolveBound, resolveLimits } from './limits.ts';
import { type PageSizes, pagedScan } from './pager.ts';
import type { BatchOp, Entry, ScanOptions, SizeEstimate, Store, StoreLimits, WriteOptions } from './store.ts';
import {
  checkBatch,
  checkKey,
  checkValue,
  checkWriteOptions,
  resolveScan,
  type ScanRange,
} from './validate.ts';

/** The one object store inside each store's database. */
export const IDB_OBJECT_STORE = 'entries';
/** Bumped only when the object store layout changes. */
const IDB_SCHEMA_VERSION = 1;

/** Options of `openIndexedDbStore`. */
export interface IndexedDbStoreOptions {
  /** Overrides of the default limits. */
  readonly limits?: Partial<StoreLimits>;
  /** The most entries one scan page (one readonly transaction) reads. Default 4096. */
  readonly scanPageEntriesMax?: number;
  /** The most write ops one group-commit transaction takes before a new one starts. Default 10000. */
  readonly groupOpsMax?: number;
  /**
   * How scan pages are read: `getAllRecords` (one call per page, where the
   * browser has it) or a cursor (everywhere). Default: records when available.
   */
  readonly scanWith?: 'records' | 'cursor';
  /**
   * The IndexedDB to use, e.g. a Storage Bucket's (`(await
   * navigator.storageBuckets.open(name, { quota })).indexedDB`), which gives
   * the store its own quota. Default `globalThis.indexedDB`.
   */
  readonly indexedDB?: IDBFactory;
}

/** The factory to open with; read only when a store is opened, never at module load. */
function factoryOf(options: { readonly indexedDB?: IDBFactory }): IDBFactory {
  const factory = options.indexedDB ?? globalThis.indexedDB;
  if (factory === undefined) throw new StorageIoError('IndexedDB is not available in this environment');
  return factory;
}

const DEFAULT_SCAN_PAGE_ENTRIES_MAX = 4096;
/** Pages of large values hold fewer entries, so one page holds about this much. */
const PAGE_BYTES_TARGET = 4 * 1024 * 1024;
/** The first page of a scan is small so `limit: 1` style lookups read little; pages then double. */
const FIRST_SCAN_PAGE_ENTRIES = 64;
const DEFAULT_GROUP_OPS_MAX = 10_000;

/** Opens (creating if needed) the store kept in the IndexedDB database `name`. */
export async function openIndexedDbStore(name: string, options: IndexedDbStoreOptions = {}): Promise<Store> {
  const limits = resolveLimits(options.limits);
  const pageEntriesMax = resolveBound(
    'scanPageEntriesMax',
    options.scanPageEntriesMax,
    DEFAULT_SCAN_PAGE_ENTRIES_MAX,
  );
  const groupOpsMax = resolveBound('groupOpsMax', options.groupOpsMax, DEFAULT_GROUP_OPS_MAX);
  let store: IndexedDbStore | undefined;
  let db: IDBDatabase;
  try {
    // idb's openDB always uses the global factory; this is the same plumbing over `factory`.
    const request = factoryOf(options).open(name, IDB_SCHEMA_VERSION);
    request.addEventListener('upgradeneeded', () => {
      request.result.createObjectStore(IDB_OBJECT_STORE);
    });
    db = unwrap((await wrap(request)) as IDBPDatabase);
    // Another connection wants to upgrade or delete this database: step aside rather than block it.
    db.addEventListener('versionchange', () => {
      store?.closeBecause('the database was deleted or upgraded by another connection');
    });
    db.addEventListener('close', () => {
      store?.closeBecause('the browser closed the database connection');
    });
  } catch (error) {
    throw error instanceof StorageIoError ? error : mapIdbError(error, `open ${name}`);
  }
  if (!db.objectStoreNames.contains(IDB_OBJECT_STORE)) {
    db.close();
    throw new StorageIoError(`IndexedDB database ${name} exists but is not a Tessera store`);
  }
  const hasRecords = typeof (IDBObjectStore.prototype as Partial<RecordsStore>).getAllRecords === 'function';
  store = new IndexedDbStore(db, limits, {
    pageSizes: {
      firstPageEntries: FIRST_SCAN_PAGE_ENTRIES,
      pageEntriesMax,
      pageBytesTarget: PAGE_BYTES_TARGET,
    },
    groupOpsMax,
    useRecords: hasRecords && options.scanWith !== 'cursor',
  });
  return store;
}

/** Options of `deleteIndexedDbStore`. */
export interface DeleteIndexedDbStoreOptions {
  /**
   * How long to wait once the browser reports the delete blocked by an open
   * connection before rejecting. Our own connections, closing, report blocked
   * briefly while their last transactions finish. Default 5000.
   */
  readonly blockedTimeoutMs?: number;
  /** The factory the store was opened with (default `globalThis.indexedDB`). */
  readonly indexedDB?: IDBFactory;
}

const DEFAULT_DELETE_BLOCKED_TIMEOUT_MS = 5000;

/**
 * Deletes the database of store `name`. Open Tessera handles on it step aside
 * (and then throw `StoreClosedError`). If another connection keeps it open
 * past `blockedTimeoutMs`, this rejects with `StorageIoError` rather than wait
 * forever; the browser still deletes the database once that connection closes.
 */
export async function deleteIndexedDbStore(
  name: string,
  options: DeleteIndexedDbStoreOptions = {},
): Promise<void> {
  const blockedTimeoutMs = options.blockedTimeoutMs ?? DEFAULT_DELETE_BLOCKED_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onBlocked: (() => void) | undefined;
  const blockedTooLong = new Promise<never>((_, reject) => {
    onBlocked = () => {
      timer ??= setTimeout(
        () =>
          reject(new StorageIoError(`IndexedDB delete ${name} is blocked by a connection that stays open`)),
        blockedTimeoutMs,
      );
    };
  });
  // Only raced against the delete below; when the delete wins, its rejection must not go unhandled.
  blockedTooLong.catch(() => {});
  try {
    const request = factoryOf(options).deleteDatabase(name);
    request.addEventListener('blocked', () => onBlocked?.());
    await Promise.race([wrap(request), blockedTooLong]);
  } catch (error) {
    throw error instanceof StorageIoError ? error : mapIdbError(error, `delete ${name}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Maps an IndexedDB failure to a typed error; the original stays as `cause`. */
export function mapIdbError(error: unknown, what: string): Error {
  const name = (error as { name?: unknown } | null)?.name;
  const message = (error as { message?: unknown } | null)?.message;
  if (name === 'QuotaExceededError') {
    return new QuotaExceededError(`IndexedDB ${what}: storage quota exceeded`, { cause: error });
  }
  return new StorageIoError(
    `IndexedDB ${what} failed: ${String(name ?? 'Error')}: ${String(message ?? error)}`,
    {
      cause: error,
    },
  );
}

/** `getAllRecords` (Chrome 141+), not yet in TypeScript's DOM types. */
interface RecordsStore {
  getAllRecords(options: {
    query?: IDBKeyRange | null;
    count?: number;
    direction?: IDBCursorDirection;
  }): IDBRequest<{ key: IDBValidKey; value: unknown }[]>;
}

interface Tuning {
  readonly pageSizes: PageSizes;
  readonly groupOpsMax: number;
  readonly useRecords: boolean;
}

/** One transaction that several callers' operations share. */
interface Group {
  readonly tx: IDBTransaction;
  readonly objectStore: IDBObjectStore;
  readonly mode: 'readonly' | 'readwrite';
  readonly durable: boolean;
  readonly done: Promise<void>;
  ops: number;
}

/**
 * Structured clone copies a view's whole buffer and cannot store shared
 * memory; store a tight plain copy unless the view already is one.
 */
function tight(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.constructor === Uint8Array &&
    bytes.buffer instanceof ArrayBuffer
    ? bytes
    : copyBytes(bytes);
}

/** Aborts so a half-applied batch is never committed; a transaction that already finished needs nothing. */
function abortQuietly(tx: IDBTransaction): void {
  try {
    tx.abort();
  } catch {
    // Already committed or aborted.
  }
}

/** IndexedDB takes keys over ArrayBuffer only; a view over shared memory is copied. */
function idbKey(key: Uint8Array): Uint8Array<ArrayBuffer> {
  return key.buffer instanceof ArrayBuffer ? (key as Uint8Array<ArrayBuffer>) : copyBytes(key);
}

function readKey(key: IDBValidKey): Uint8Array {
  if (key instanceof ArrayBuffer) return new Uint8Array(key);
  throw new StorageIoError(`IndexedDB store holds a key that is not binary (${typeof key})`);
}

function readValue(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new StorageIoError('IndexedDB store holds a value that is not a Uint8Array');
}

class IndexedDbStore implements Store {
  readonly limits: StoreLimits;
  readonly #db: IDBDatabase;
  readonly #tuning: Tuning;
  /** The newest transaction; only it may be joined, so operations stay in call order. */
  #latest: Group | undefined;
  /** Write transactions not yet settled; `close` waits for them. */
  readonly #writes = new Set<Promise<void>>();
  #closedReason: string | undefined;

  constructor(db: IDBDatabase, limits: StoreLimits, tuning: Tuning) {
    this.#db = db;
    this.limits = limits;
    this.#tuning = tuning;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#checkOpen();
    checkKey(key, this.limits);
    return new Promise((resolve, reject) => {
      let request!: IDBRequest;
      try {
        this.#join('readonly', false, 1, (objectStore) => {
          request = objectStore.get(idbKey(key));
        });
      } catch (error) {
        reject(this.#failure(error, 'get'));
        return;
      }
      request.onsuccess = () => {
        const value: unknown = request.result;
        try {
          resolve(value === undefined ? undefined : readValue(value));
        } catch (error) {
          reject(error);
        }
      };
      request.onerror = (event) => {
        // Keep one failed get from aborting the other reads sharing its transaction.
        event.preventDefault();
        event.stopPropagation();
        reject(mapIdbError(request.error, 'get'));
      };
    });
  }

  async put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#checkOpen();
    checkKey(key, this.limits);
    checkValue(value, this.limits);
    checkWriteOptions(options);
    const stored = tight(value);
    return this.#write(options?.durable ?? true, 1, (objectStore) => {
      objectStore.put(stored, idbKey(key));
    });
  }

  async delete(key: Uint8Array, options?: WriteOptions): Promise<void> {
    this.#checkOpen();
    checkKey(key, this.limits);
    checkWriteOptions(options);
    return this.#write(options?.durable ?? true, 1, (objectStore) => {
      objectStore.delete(idbKey(key));
    });
  }

  async batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void> {
    this.#checkOpen();
    checkBatch(ops, this.limits);
    checkWriteOptions(options);
    if (ops.length === 0) return;
    const values = ops.map((op) => (op.type === 'put' ? tight(op.value) : undefined));
    return this.#write(options?.durable ?? true, ops.length, (objectStore) => {
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        if (op.type === 'put') objectStore.put(values[i], idbKey(op.key));
        else objectStore.delete(idbKey(op.key));
      }
    });
  }

  scan(options?: ScanOptions): AsyncIterable<Entry> {
    this.#checkOpen();
    const range = resolveScan(options);
    return pagedScan(
      range,
      (r, after, count) => this.#page(r, after, count),
      this.#tuning.pageSizes,
      () => this.#closedReason,
    );
  }

  async estimateSize(): Promise<SizeEstimate> {
    this.#checkOpen();
    const storage = globalThis.navigator?.storage;
    if (storage?.estimate) {
      // The platform reports the whole origin, not this one database.
      const estimate = (await storage.estimate()) as StorageEstimate & {
        usageDetails?: { indexedDB?: number };
      };
      const used = estimate.usageDetails?.indexedDB ?? estimate.usage ?? 0;
      return estimate.quota === undefined
        ? { usedBytes: used }
        : { usedBytes: used, quotaBytes: estimate.quota };
    }
    // No StorageManager (an insecure context): count this store's bytes instead.
    let used = 0;
    for await (const entry of this.scan()) used += entry.key.length + entry.value.length;
    return { usedBytes: used };
  }

  async close(): Promise<void> {
    if (this.#closedReason === undefined) this.#closedReason = 'store is closed';
    // Writes already issued settle (commit or fail) before the connection goes.
    await Promise.allSettled([...this.#writes]);
    this.#latest = undefined;
    this.#db.close();
  }

  /** Closes the connection at once (another connection needs the database, or the browser dropped it). */
  closeBecause(reason: string): void {
    this.#closedReason ??= `store is closed: ${reason}`;
    this.#latest = undefined;
    this.#db.close();
  }

  #checkOpen(): void {
    if (this.#closedReason !== undefined) throw new StoreClosedError(this.#closedReason);
  }

  #write(durable: boolean, ops: number, apply: (objectStore: IDBObjectStore) => void): Promise<void> {
    try {
      return this.#join('readwrite', durable, ops, apply).done;
    } catch (error) {
      return Promise.reject(this.#failure(error, 'write'));
    }
  }

  /**
   * Runs `apply` in the newest transaction when it is still active and
   * compatible (a durable write never joins a relaxed one; a read never joins
   * a write, so it never sees uncommitted data), else in a new transaction.
   */
  #join(
    mode: 'readonly' | 'readwrite',
    durable: boolean,
    ops: number,
    apply: (objectStore: IDBObjectStore) => void,
  ): Group {
    const latest = this.#latest;
    if (
      latest !== undefined &&
      latest.mode === mode &&
      (latest.durable || !durable) &&
      latest.ops + ops <= this.#tuning.groupOpsMax
    ) {
      try {
        apply(latest.objectStore);
        latest.ops += ops;
        return latest;
      } catch (error) {
        // The transaction already left its active window (then `apply` added
        // nothing); any other failure may have left part of a batch in it.
        if ((error as { name?: unknown } | null)?.name !== 'TransactionInactiveError') {
          abortQuietly(latest.tx);
          throw error;
        }
      }
    }
    const group = this.#open(mode, durable);
    try {
      apply(group.objectStore);
    } catch (error) {
      abortQuietly(group.tx);
      throw error;
    }
    group.ops += ops;
    return group;
  }

  /** The typed error for an engine failure: `StoreClosedError` once the store is closing. */
  #failure(error: unknown, what: string): Error {
    if (error instanceof StoreClosedError || error instanceof StorageIoError) return error;
    return this.#closedReason === undefined
      ? mapIdbError(error, what)
      : new StoreClosedError(this.#closedReason);
  }

  #open(mode: 'readonly' | 'readwrite', durable: boolean): Group {
    this.#checkOpen();
    const tx = this.#db.transaction(IDB_OBJECT_STORE, mode, { durability: durable ? 'strict' : 'relaxed' });
    const done = new Promise<void>((resolve, reject) => {
      const settle = () => {
        tx.removeEventListener('complete', onComplete);
        tx.removeEventListener('abort', onAbort);
        if (this.#latest?.tx === tx) this.#latest = undefined;
      };
      const onComplete = () => {
        settle();
        resolve();
      };
      const onAbort = () => {
        settle();
        reject(
          tx.error === null && this.#closedReason !== undefined
            ? new StoreClosedError(this.#closedReason)
            : mapIdbError(
                tx.error ?? new DOMException('transaction aborted', 'AbortError'),
                mode === 'readwrite' ? 'write' : 'read',
              ),
        );
      };
      tx.addEventListener('complete', onComplete);
      tx.addEventListener('abort', onAbort);
    });
    if (mode === 'readwrite') {
      this.#writes.add(done);
      done.then(
        () => this.#writes.delete(done),
        () => this.#writes.delete(done),
      );
    } else {
      // Readers learn of failures through their own requests.
      done.catch(() => {});
    }
    const group: Group = { tx, objectStore: tx.objectStore(IDB_OBJECT_STORE), mode, durable, done, ops: 0 };
    this.#latest = group;
    return group;
  }

  /** Reads one page in its own readonly transaction, awaiting nothing else while it is open. */
  #page(range: ScanRange, after: Uint8Array | undefined, count: number): Promise<Entry[]> {
    const reverse = range.reverse;
    let lower = range.lower;
    let upper = range.upper;
    if (after !== undefined) {
      if (reverse) upper = after;
      else lower = after;
    }
    if (lower !== undefined && upper !== undefined && compareBytes(lower, upper) >= 0)
      return Promise.resolve([]);
    const lowerOpen = after !== undefined && !reverse;
    const lowerKey = lower === undefined ? undefined : idbKey(lower);
    const upperKey = upper === undefined ? undefined : idbKey(upper);
    const keyRange =
      lowerKey === undefined
        ? upperKey === undefined
          ? null
          : IDBKeyRange.upperBound(upperKey, true)
        : upperKey === undefined
          ? IDBKeyRange.lowerBound(lowerKey, lowerOpen)
          : IDBKeyRange.bound(lowerKey, upperKey, lowerOpen, true);
    return new Promise((resolve, reject) => {
      let tx: IDBTransaction;
      try {
        tx = this.#db.transaction(IDB_OBJECT_STORE, 'readonly');
      } catch (error) {
        reject(this.#failure(error, 'scan'));
        return;
      }
      const objectStore = tx.objectStore(IDB_OBJECT_STORE);
      const direction: IDBCursorDirection = reverse ? 'prev' : 'next';
      const entries: Entry[] = [];
      const fail = (error: unknown) => reject(this.#failure(error, 'scan'));
      tx.onabort = () => fail(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
      tx.oncomplete = () => resolve(entries);
      if (this.#tuning.useRecords) {
        const request = (objectStore as unknown as RecordsStore).getAllRecords({
          query: keyRange,
          count,
          direction,
        });
        request.onsuccess = () => {
          try {
            for (const record of request.result)
              entries.push({ key: readKey(record.key), value: readValue(record.value) });
          } catch (error) {
            tx.abort();
            fail(error);
          }
        };
        return;
      }
      const request = objectStore.openCursor(keyRange, direction);
      request.onsuccess = () => {
        const cursor = request.result;
        if (cursor === null) return;
        try {
          entries.push({ key: readKey(cursor.key), value: readValue(cursor.value) });
        } catch (error) {
          tx.abort();
          fail(error);
          return;
        }
        if (entries.length < count) cursor.continue();
      };
    });
  }
}
