import { LimitExceededError } from '@tessera/core';
import type { Store } from '@tessera/storage';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QuorumNotReachedError } from './errors.ts';
import { escapedKeyBytes } from './record-limits.ts';
import { slotIndexKey } from './replica-store.ts';
import { startTestCluster, type TestCluster } from './testing/index.ts';

async function entryCount(store: Store): Promise<number> {
  let count = 0;
  for await (const _ of store.scan()) count += 1;
  return count;
}

async function totalEntries(cluster: TestCluster): Promise<number> {
  let total = 0;
  for (const store of cluster.stores.values()) total += await entryCount(store);
  return total;
}

describe('record limits derived from the store', () => {
  let cluster: TestCluster;
  beforeEach(async () => {
    cluster = await startTestCluster({ peers: 3, seed: 7 });
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('are below the store limits by the replication wrapper', () => {
    const replicator = cluster.at('peer-0');
    const store = cluster.stores.get('peer-0')!.limits;
    expect(replicator.limits.keyBytesMax).toBeLessThan(store.keyBytesMax);
    expect(replicator.limits.keyBytesMax).toBeGreaterThan(store.keyBytesMax - 64);
    expect(replicator.limits.valueBytesMax).toBeLessThan(store.valueBytesMax);
    // The margin covers the worst-case context and a max-length key in a hint: tens of KiB at most.
    expect(replicator.limits.valueBytesMax).toBeGreaterThan(store.valueBytesMax - 64 * 1024);
  });

  it('accept a value exactly at the bound and refuse one byte more, writing nothing', async () => {
    const replicator = cluster.at('peer-0');
    const max = replicator.limits.valueBytesMax;
    const over = new Uint8Array(max + 1).fill(7);
    const error = await replicator.put(new TextEncoder().encode('big'), over).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect(error).toMatchObject({ limit: 'valueBytesMax', max, actual: max + 1 });
    expect(await totalEntries(cluster)).toBe(0);

    const atBound = new Uint8Array(max).fill(9);
    await replicator.put(new TextEncoder().encode('big'), atBound);
    const read = await cluster.at('peer-1').get(new TextEncoder().encode('big'));
    expect(read.found).toBe(true);
    expect(read.value).toEqual(atBound);
  });

  it('accept a key exactly at the bound and refuse one byte more, writing nothing', async () => {
    const replicator = cluster.at('peer-1');
    const max = replicator.limits.keyBytesMax;
    const over = new Uint8Array(max + 1).fill(0x61);
    const error = await replicator.put(over, new Uint8Array([1])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect(error).toMatchObject({ limit: 'keyBytesMax', max, actual: max + 1 });
    expect(await totalEntries(cluster)).toBe(0);

    const atBound = new Uint8Array(max).fill(0x61);
    await replicator.put(atBound, new Uint8Array([1]));
    const read = await cluster.at('peer-2').get(atBound);
    expect(read.value).toEqual(new Uint8Array([1]));
  });

  it('count a zero key byte twice, as the tuple encoding escapes it', async () => {
    const replicator = cluster.at('peer-0');
    const max = replicator.limits.keyBytesMax;
    expect(escapedKeyBytes(new Uint8Array(10))).toBe(20);
    // What it stands for: the bytes the key adds to its slot-index key.
    const wrapper = slotIndexKey(16383, new Uint8Array(0)).length;
    for (const key of [Uint8Array.of(1, 0, 2, 0, 0), Uint8Array.of(0xff, 0), new Uint8Array(300).fill(7)]) {
      expect(escapedKeyBytes(key)).toBe(slotIndexKey(16383, key).length - wrapper);
    }
    const zeros = new Uint8Array(Math.floor(max / 2) + 1);
    await expect(replicator.put(zeros, new Uint8Array([1]))).rejects.toMatchObject({
      limit: 'keyBytesMax',
      actual: zeros.length * 2,
    });
    expect(await totalEntries(cluster)).toBe(0);
  });

  it('refuse concurrent siblings that together outgrow the store with LimitExceededError, not a quorum miss', async () => {
    const key = new TextEncoder().encode('siblings');
    const size = Math.floor(cluster.at('peer-0').limits.valueBytesMax * 0.6);
    await cluster.at('peer-0').put(key, new Uint8Array(size).fill(1));
    const before = await totalEntries(cluster);
    // An empty context: concurrent with the stored version, so both would be kept as siblings.
    const error = await cluster
      .at('peer-1')
      .put(key, new Uint8Array(size).fill(2), { context: {} })
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(QuorumNotReachedError);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect(error).toMatchObject({ limit: 'valueBytesMax' });
    expect(await totalEntries(cluster)).toBe(before);
    const read = await cluster.at('peer-2').get(key);
    expect(read.value).toEqual(new Uint8Array(size).fill(1));
    expect(read.siblings).toHaveLength(0);
  });

  it('report an owner whose merge outgrows its store as LimitExceededError, not a quorum miss', async () => {
    const key = new TextEncoder().encode('diverged');
    const size = Math.floor(cluster.at('peer-0').limits.valueBytesMax * 0.6);
    // peer-2 misses the first version (down, hint not replayed), so it mints the second alone without trouble.
    cluster.network.stop('peer-2');
    cluster.placement.markDown('peer-2');
    await cluster.at('peer-0').put(key, new Uint8Array(size).fill(1));
    cluster.network.resume('peer-2');
    cluster.placement.markUp('peer-2');
    const held = [
      await entryCount(cluster.stores.get('peer-0')!),
      await entryCount(cluster.stores.get('peer-1')!),
    ];
    const error = await cluster
      .at('peer-2')
      .put(key, new Uint8Array(size).fill(2), { context: {} })
      .catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(QuorumNotReachedError);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect(error).toMatchObject({
      limit: 'valueBytesMax',
      max: cluster.stores.get('peer-0')!.limits.valueBytesMax,
    });
    // The owners holding the first version refused the merge and wrote nothing.
    expect([
      await entryCount(cluster.stores.get('peer-0')!),
      await entryCount(cluster.stores.get('peer-1')!),
    ]).toEqual(held);
  });

  it('refuse an idempotency key that, with this key, would not fit a store key, writing nothing', async () => {
    const replicator = cluster.at('peer-0');
    const key = new Uint8Array(replicator.limits.keyBytesMax).fill(0x61);
    const error = await replicator
      .put(key, new Uint8Array([1]), { idempotencyKey: 'é'.repeat(100) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect(error).toMatchObject({ limit: 'idempotencyKeyBytesMax' });
    expect(await totalEntries(cluster)).toBe(0);
    const short = new TextEncoder().encode('short');
    await replicator.put(short, new Uint8Array([1]), { idempotencyKey: 'é'.repeat(100) });
    expect((await cluster.at('peer-1').get(short)).value).toEqual(new Uint8Array([1]));
  });
});
