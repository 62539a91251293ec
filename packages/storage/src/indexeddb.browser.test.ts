import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from './bytes.ts';
import { runStoreTests } from './conformance.ts';
import { deleteIndexedDbStore, IDB_OBJECT_STORE, mapIdbError, openIndexedDbStore } from './indexeddb.ts';

/** The Storage Buckets API (Chromium 122+), not yet in TypeScript's DOM types. */
interface StorageBuckets {
  open(name: string, options?: { quota?: number }): Promise<{ indexedDB: IDBFactory }>;
  delete(name: string): Promise<void>;
}

const uniqueName = () => `tessera-test-${crypto.randomUUID()}`;

for (const scanWith of ['records', 'cursor'] as const) {
  runStoreTests(`indexeddb (scan pages by ${scanWith})`, async () => {
    const name = uniqueName();
    const options = { scanWith, scanPageEntriesMax: 100 };
    const store = await openIndexedDbStore(name, options);
    return {
      store,
      reopen: () => openIndexedDbStore(name, options),
      teardown: () => deleteIndexedDbStore(name),
    };
  });
}

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('indexeddb store', () => {
  it('relies on IndexedDB comparing binary keys as unsigned bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6 }), fc.uint8Array({ maxLength: 6 }), (a, b) => {
        expect(indexedDB.cmp(a, b)).toBe(compareBytes(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps stores with different names apart', async () => {
    const [nameA, nameB] = [uniqueName(), uniqueName()];
    const a = await openIndexedDbStore(nameA);
    const b = await openIndexedDbStore(nameB);
    await a.put(bytes(1), bytes(0xa));
    await b.put(bytes(1), bytes(0xb));
    await b.put(bytes(2), bytes(0xb));
    expect(await a.get(bytes(1))).toEqual(bytes(0xa));
    expect(await a.get(bytes(2))).toBeUndefined();
    expect(await b.get(bytes(1))).toEqual(bytes(0xb));
    await Promise.all([a.close(), b.close()]);
    await Promise.all([deleteIndexedDbStore(nameA), deleteIndexedDbStore(nameB)]);
  });

  it('keeps data across reopen and stores binary keys with Uint8Array values', async () => {
    const name = uniqueName();
    const store = await openIndexedDbStore(name);
    await store.batch([
      { type: 'put', key: bytes(0xff, 0x00), value: bytes(1) },
      { type: 'put', key: bytes(0x00, 0xff), value: bytes(2) },
    ]);
    await store.close();
    // Read the database with the raw API: keys are ArrayBuffers in byte order.
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
      const request = raw.transaction(IDB_OBJECT_STORE).objectStore(IDB_OBJECT_STORE).getAllKeys();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    raw.close();
    expect(keys.every((key) => key instanceof ArrayBuffer)).toBe(true);
    expect(keys.map((key) => Array.from(new Uint8Array(key as ArrayBuffer)))).toEqual([
      [0x00, 0xff],
      [0xff, 0x00],
    ]);
    const again = await openIndexedDbStore(name);
    expect(await again.get(bytes(0xff, 0x00))).toEqual(bytes(1));
    await again.close();
    await deleteIndexedDbStore(name);
  });

  it('steps aside when the database is deleted elsewhere, then throws StoreClosedError', async () => {
    const name = uniqueName();
    const store = await openIndexedDbStore(name);
    await store.put(bytes(1), bytes(1));
    await deleteIndexedDbStore(name);
    await expect(store.get(bytes(1))).rejects.toMatchObject({ name: 'StoreClosedError' });
    await expect(store.put(bytes(1), bytes(2))).rejects.toMatchObject({ name: 'StoreClosedError' });
    await store.close();
    const fresh = await openIndexedDbStore(name);
    expect(await fresh.get(bytes(1))).toBeUndefined();
    await fresh.close();
    await deleteIndexedDbStore(name);
  });

  it('rejects a delete that a foreign open connection blocks, instead of hanging', async () => {
    const name = uniqueName();
    const store = await openIndexedDbStore(name);
    await store.close();
    // A connection that ignores versionchange, as another library's might.
    const foreign = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    await expect(deleteIndexedDbStore(name, { blockedTimeoutMs: 200 })).rejects.toMatchObject({
      name: 'StorageIoError',
    });
    foreign.close();
    await deleteIndexedDbStore(name);
  });

  it('refuses page and group sizes that are not positive integers before creating a database', async () => {
    const name = uniqueName();
    for (const options of [
      { scanPageEntriesMax: 0 },
      { scanPageEntriesMax: Number.NaN },
      { groupOpsMax: -1 },
    ]) {
      await expect(openIndexedDbStore(name, options)).rejects.toMatchObject({ name: 'InvalidArgumentError' });
    }
    expect((await indexedDB.databases()).map((db) => db.name)).not.toContain(name);
  });

  it('refuses a database of the same name that is not a Tessera store', async () => {
    const name = uniqueName();
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore('other');
      request.onsuccess = () => {
        request.result.close();
        resolve();
      };
      request.onerror = () => reject(request.error);
    });
    await expect(openIndexedDbStore(name)).rejects.toMatchObject({
      name: 'StorageIoError',
      code: 'ERR_STORAGE_IO',
    });
    await deleteIndexedDbStore(name);
  });

  it('turns a full quota into QuotaExceededError, never a hang, and keeps nothing of the failed write', async () => {
    // A Storage Bucket with a 1 MiB quota of its own, so no other test's writes are affected.
    const buckets = (navigator as unknown as { storageBuckets: StorageBuckets }).storageBuckets;
    const bucketName = `quota-${crypto.randomUUID()}`;
    const bucket = await buckets.open(bucketName, { quota: 1024 * 1024 });
    const name = uniqueName();
    const store = await openIndexedDbStore(name, { indexedDB: bucket.indexedDB });
    // Random bytes, because Chromium compresses large values and a filled buffer would barely count.
    const chunk = new Uint8Array(256 * 1024);
    for (let at = 0; at < chunk.length; at += 65536) crypto.getRandomValues(chunk.subarray(at, at + 65536));
    let failure: unknown;
    let written = 0;
    for (; written < 64; written++) {
      const write = store.batch([
        { type: 'put', key: bytes(1, written), value: bytes(written) },
        { type: 'put', key: bytes(2, written), value: chunk },
      ]);
      failure = await write.then(
        () => undefined,
        (error: unknown) => error,
      );
      if (failure !== undefined) break;
    }
    expect(failure).toMatchObject({ name: 'QuotaExceededError', code: 'ERR_QUOTA_EXCEEDED' });
    expect(written).toBeGreaterThan(0);
    // Nothing of the failed batch was kept, the earlier ones are intact, and the store still serves.
    expect(await store.get(bytes(1, written))).toBeUndefined();
    expect(await store.get(bytes(2, written))).toBeUndefined();
    for (let i = 0; i < written; i++) expect(await store.get(bytes(1, i))).toEqual(bytes(i));
    await store.delete(bytes(2, 0));
    await store.close();
    await deleteIndexedDbStore(name, { indexedDB: bucket.indexedDB });
    await buckets.delete(bucketName);
  });

  it('keeps a store opened through a Storage Bucket apart from the default IndexedDB', async () => {
    const buckets = (navigator as unknown as { storageBuckets: StorageBuckets }).storageBuckets;
    const bucketName = `iso-${crypto.randomUUID()}`;
    const bucket = await buckets.open(bucketName);
    const name = uniqueName();
    const inBucket = await openIndexedDbStore(name, { indexedDB: bucket.indexedDB });
    const inDefault = await openIndexedDbStore(name);
    await inBucket.put(bytes(1), bytes(1));
    expect(await inDefault.get(bytes(1))).toBeUndefined();
    await Promise.all([inBucket.close(), inDefault.close()]);
    await deleteIndexedDbStore(name, { indexedDB: bucket.indexedDB });
    await deleteIndexedDbStore(name);
    await buckets.delete(bucketName);
  });

  it('aborts the shared transaction when the engine throws mid-batch, so nothing of it is kept', async () => {
    const name = uniqueName();
    const store = await openIndexedDbStore(name);
    await store.put(bytes(9), bytes(9));
    // Fault injection: the engine refuses one key synchronously, after the batch's first op went in.
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (key instanceof Uint8Array && key[0] === 0xee) throw new DOMException('injected', 'DataError');
      return put.call(this, value, key);
    };
    try {
      const neighbour = store.put(bytes(1), bytes(1));
      const failing = store.batch([
        { type: 'put', key: bytes(2), value: bytes(2) },
        { type: 'put', key: bytes(0xee), value: bytes(3) },
      ]);
      await expect(failing).rejects.toMatchObject({ name: 'StorageIoError' });
      // The neighbour shared the aborted transaction, so it failed too rather than half-commit.
      await expect(neighbour).rejects.toMatchObject({ name: 'StorageIoError' });
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    expect(await store.get(bytes(1))).toBeUndefined();
    expect(await store.get(bytes(2))).toBeUndefined();
    expect(await store.get(bytes(9))).toEqual(bytes(9));
    await store.batch([{ type: 'put', key: bytes(2), value: bytes(2) }]);
    expect(await store.get(bytes(2))).toEqual(bytes(2));
    await store.close();
    await deleteIndexedDbStore(name);
  });

  it('maps QuotaExceededError to the typed error and anything else to StorageIoError', () => {
    const quota = mapIdbError(new DOMException('full', 'QuotaExceededError'), 'write');
    expect(quota).toMatchObject({ name: 'QuotaExceededError', code: 'ERR_QUOTA_EXCEEDED' });
    expect((quota as Error).cause).toBeInstanceOf(DOMException);
    expect(mapIdbError(new DOMException('x', 'UnknownError'), 'write')).toMatchObject({
      name: 'StorageIoError',
    });
  });

  it('reports the origin’s usage and quota from navigator.storage', async () => {
    const name = uniqueName();
    const store = await openIndexedDbStore(name);
    await store.put(bytes(1), new Uint8Array(100_000));
    const size = await store.estimateSize();
    const platform = await navigator.storage.estimate();
    expect(size.quotaBytes).toBe(platform.quota);
    // The origin holds at least the 100 kB value just committed.
    expect(size.usedBytes).toBeGreaterThan(0);
    await store.close();
    await deleteIndexedDbStore(name);
  });

  it('commits concurrent writes and sequential reads in shared transactions (group commit)', async () => {
    const name = uniqueName();
    const store = await openIndexedDbStore(name);
    // Count the transactions the store opens, by mode and durability.
    const opened: string[] = [];
    const transaction = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (
      this: IDBDatabase,
      ...args: Parameters<IDBDatabase['transaction']>
    ) {
      opened.push(`${args[1] ?? 'readonly'}:${args[2]?.durability ?? 'default'}`);
      return transaction.apply(this, args);
    } as IDBDatabase['transaction'];
    try {
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 64; i++) writes.push(store.put(bytes(i), bytes(i)));
      writes.push(store.put(bytes(100), bytes(1), { durable: false }));
      await Promise.all(writes);
      expect(opened).toEqual(['readwrite:strict']);

      opened.length = 0;
      for (let i = 0; i < 20; i++) expect(await store.get(bytes(i))).toEqual(bytes(i));
      expect(opened).toEqual(['readonly:relaxed']);

      // A durable write never rides in a relaxed transaction.
      opened.length = 0;
      await Promise.all([store.put(bytes(1), bytes(2), { durable: false }), store.put(bytes(2), bytes(3))]);
      expect(opened).toEqual(['readwrite:relaxed', 'readwrite:strict']);
    } finally {
      IDBDatabase.prototype.transaction = transaction;
    }
    await store.close();
    await deleteIndexedDbStore(name);
  });

  it('groups concurrent writes without losing order or atomicity', async () => {
    const name = uniqueName();
    const store = await openIndexedDbStore(name, { groupOpsMax: 50 });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) writes.push(store.put(bytes(i), bytes(i), { durable: i % 2 === 0 }));
    // A write that fails validation joins no transaction and takes no other write down with it.
    const bad = store.batch([
      { type: 'put', key: bytes(250), value: bytes(1) },
      { type: 'put', key: new Uint8Array(0), value: bytes(1) },
    ]);
    for (let i = 0; i < 200; i++) writes.push(store.put(bytes(i), bytes(i, 1)));
    await expect(bad).rejects.toMatchObject({ name: 'InvalidArgumentError' });
    await Promise.all(writes);
    for (let i = 0; i < 200; i++) expect(await store.get(bytes(i))).toEqual(bytes(i, 1));
    expect(await store.get(bytes(250))).toBeUndefined();
    await store.close();
    await deleteIndexedDbStore(name);
  });
});
