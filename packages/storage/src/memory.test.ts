import { describe, expect, it } from 'vitest';
import { runStoreTests } from './conformance.ts';
import { openMemoryStore } from './memory.ts';

runStoreTests(
  'memory',
  async () => {
    const store = await openMemoryStore({ scanPageEntriesMax: 16 });
    return { store, teardown: async () => {} };
  },
  { persistent: false },
);

describe('memory store', () => {
  it('enforces custom limits and refuses bad ones', async () => {
    const store = await openMemoryStore({ limits: { valueBytesMax: 4, batchOpsMax: 2 } });
    expect(store.limits).toEqual({ keyBytesMax: 1024, valueBytesMax: 4, batchOpsMax: 2 });
    await store.put(Uint8Array.of(1), Uint8Array.of(1, 2, 3, 4));
    await expect(store.put(Uint8Array.of(1), new Uint8Array(5))).rejects.toMatchObject({
      limit: 'valueBytesMax',
    });
    await expect(openMemoryStore({ limits: { keyBytesMax: 0 } })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    });
    await store.close();
  });

  it('refuses a page size that is not a positive integer, and treats an undefined limit as unset', async () => {
    for (const scanPageEntriesMax of [0, -1, 1.5, Number.NaN]) {
      await expect(openMemoryStore({ scanPageEntriesMax })).rejects.toMatchObject({
        name: 'InvalidArgumentError',
      });
    }
    const store = await openMemoryStore({ limits: { keyBytesMax: undefined, batchOpsMax: 3 } });
    expect(store.limits).toEqual({ keyBytesMax: 1024, valueBytesMax: 1024 * 1024, batchOpsMax: 3 });
    await store.close();
  });

  it('estimates size from the bytes it holds', async () => {
    const store = await openMemoryStore();
    await store.put(Uint8Array.of(1, 2), new Uint8Array(1000));
    await store.put(Uint8Array.of(3), new Uint8Array(10));
    expect((await store.estimateSize()).usedBytes).toBe(1013);
    await store.put(Uint8Array.of(1, 2), new Uint8Array(100));
    await store.delete(Uint8Array.of(3));
    expect((await store.estimateSize()).usedBytes).toBe(102);
    await store.close();
  });

  it('accepts a Node Buffer as key and value', async () => {
    const store = await openMemoryStore();
    await store.put(Buffer.from('k'), Buffer.from('v'));
    expect(await store.get(new TextEncoder().encode('k'))).toEqual(new TextEncoder().encode('v'));
    await store.close();
  });
});
