/**
 * Anti-entropy beyond the default N (databases with different replication
 * factors on the same slots) and below the slot (the hash-tree descent).
 */
import { keySlot } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { equalBytes } from './bytes.ts';
import { mint, type ReplicaRecord, versionHash } from './record.ts';
import { ReplicaStore } from './replica-store.ts';
import { startTestCluster, type TestCluster, type TestClusterOptions } from './testing/index.ts';

const enc = (text: string) => new TextEncoder().encode(text);

async function withCluster(
  name: string,
  options: Omit<TestClusterOptions, 'seed'>,
  run: (c: TestCluster) => Promise<void>,
) {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const cluster = await startTestCluster({ ...options, seed });
  try {
    await run(cluster);
  } catch (error) {
    console.error(`${name} failed with seed ${seed}`);
    throw error;
  } finally {
    await cluster.close();
  }
}

/** The record `id` holds for `key`, if any. */
function recordAt(cluster: TestCluster, id: string, key: string): Promise<ReplicaRecord | undefined> {
  return new ReplicaStore(cluster.stores.get(id)!).getRecord(enc(key));
}

describe('anti-entropy with per-database replication factors', () => {
  // Database "big" keeps 5 copies, the default database 3, on the same slots.
  const nOf = (key: string) => (key.startsWith('big/') ? 5 : 3);
  const options = {
    peers: 6,
    ownersPerSlot: 5,
    replication: { replicationFactor: 3, consistency: 'quorum' as const },
    databaseReplication: (key: Uint8Array) =>
      new TextDecoder().decode(key).startsWith('big/')
        ? { replicationFactor: 5, consistency: 'quorum' as const }
        : undefined,
  };

  it('restores each database onto exactly its first N owners after wipes', async () => {
    await withCluster('two databases', options, async (cluster) => {
      // Same slot for both databases (hash tag), plus keys spread over other slots.
      const keys = [
        ...Array.from({ length: 20 }, (_, i) => `small/{shared}${i}`),
        ...Array.from({ length: 20 }, (_, i) => `big/{shared}${i}`),
        ...Array.from({ length: 20 }, (_, i) => `small/k${i}`),
        ...Array.from({ length: 20 }, (_, i) => `big/k${i}`),
      ];
      for (const key of keys) await cluster.at('peer-0').put(enc(key), enc(`${key}:v`));
      for (const id of cluster.ids) await cluster.at(id).settle();
      const shared = cluster.placement.lookup(keySlot('{shared}')).owners;
      // The 4th owner of the shared slot holds only "big" keys there; the 2nd holds both.
      await cluster.wipe(shared[3]!);
      await cluster.wipe(shared[1]!);
      expect(await recordAt(cluster, shared[3]!, 'big/{shared}0')).toBeUndefined();
      const rounds = await cluster.repairUntilQuiet();
      expect(rounds).toBeLessThanOrEqual(3);
      for (const key of keys) {
        const owners = cluster.placement.lookup(keySlot(key)).owners.slice(0, nOf(key));
        const held = await Promise.all(cluster.ids.map((id) => recordAt(cluster, id, key)));
        for (const [i, id] of cluster.ids.entries()) {
          expect(held[i] !== undefined, `${key} on ${id} (owners ${owners.join(',')})`).toBe(
            owners.includes(id),
          );
        }
        const hashes = held.filter((record) => record !== undefined).map((record) => versionHash(record));
        for (const hash of hashes) expect(equalBytes(hash, hashes[0]!)).toBe(true);
      }
      for (const id of cluster.ids) expect(cluster.at(id).underReplicatedSlots().count).toBe(0);
    });
  });

  it('forgets under-replication marks the slot map made moot (slot given up, co-owner replaced)', async () => {
    await withCluster('moot marks', options, async (cluster) => {
      const key = '{moot}1';
      const slot = keySlot(key);
      const owners = cluster.placement.lookup(slot).owners;
      const [self, , gone] = owners as [string, string, string];
      await cluster.at(self).put(enc(key), enc('v'));
      cluster.network.stop(gone);
      cluster.placement.markDown(gone);
      await cluster.at(self).antiEntropy([gone]);
      expect(cluster.at(self).underReplicatedSlots().slots).toContain(slot);
      // `gone` leaves the slot for good: the mark against it can never be verified, so it goes.
      const spare = cluster.ids.find((id) => !owners.includes(id))!;
      cluster.placement.moveSlot(slot, [self, owners[1]!, spare]);
      expect(cluster.at(self).underReplicatedSlots().slots).not.toContain(slot);
      // Marked again against the new co-owner, then the slot moves away from `self`: also forgotten.
      cluster.network.stop(spare);
      cluster.placement.markDown(spare);
      await cluster.at(self).antiEntropy([spare]);
      expect(cluster.at(self).underReplicatedSlots().slots).toContain(slot);
      cluster.placement.moveSlot(slot, [owners[1]!, spare, gone]);
      expect(cluster.at(self).underReplicatedSlots().slots).not.toContain(slot);
    });
  });

  it('verifies the extra owners of a larger-N database and marks them when they are down', async () => {
    await withCluster('extra owners', options, async (cluster) => {
      const key = 'big/{extra}1';
      const owners = cluster.placement.lookup(keySlot(key)).owners;
      await cluster.at(owners[0]!).put(enc(key), enc('v'));
      for (const id of cluster.ids) await cluster.at(id).settle();
      cluster.network.stop(owners[4]!);
      cluster.placement.markDown(owners[4]!);
      const report = await cluster.at(owners[0]!).antiEntropy([owners[4]!]);
      expect(report.unreachable).toEqual([owners[4]]);
      expect(cluster.at(owners[0]!).underReplicatedSlots().slots).toContain(keySlot(key));
      cluster.network.resume(owners[4]!);
      cluster.placement.markUp(owners[4]!);
      const healed = await cluster.at(owners[0]!).antiEntropy([owners[4]!]);
      expect(healed.unreachable).toEqual([]);
      expect(cluster.at(owners[0]!).underReplicatedSlots().slots).not.toContain(keySlot(key));
    });
  });
});

describe('anti-entropy below the slot', () => {
  it('a slot with many keys and one divergent key transfers only the bucket that differs', async () => {
    await withCluster('hash tree', { peers: 3 }, async (cluster) => {
      const keyCount = 3000;
      const keys = Array.from({ length: keyCount }, (_, i) => `{many}${i}`);
      const slot = keySlot('{many}');
      // Load the same records straight into every replica's store (fast, and identical by construction).
      const stores = cluster.ids.map((id) => new ReplicaStore(cluster.stores.get(id)!));
      for (const [i, key] of keys.entries()) {
        const { record } = mint([], {
          actor: 'loader~1',
          clock: i + 1,
          payload: { bytes: enc('v'), mintedMs: 0 },
        });
        for (const store of stores) await store.putRecord(enc(key), slot, record);
      }
      // One key moves on in peer-1 only.
      const diverged = keys[1234]!;
      const newer = mint((await stores[1]!.getRecord(enc(diverged)))!, {
        actor: 'peer-1~x',
        clock: keyCount + 10,
        payload: { bytes: enc('newer'), mintedMs: 0 },
      }).record;
      await stores[1]!.putRecord(enc(diverged), slot, newer);
      for (const id of cluster.ids) cluster.at(id).forgetDigests();
      const framesBefore = cluster.network.delivered;
      const report = await cluster.at('peer-0').antiEntropy(['peer-1']);
      const frames = cluster.network.delivered - framesBefore;
      console.info(
        `hash tree: ${keyCount} keys, 1 divergent: ${frames} frames, ${report.buckets} bucket digests, ${report.entries} entries`,
      );
      expect(report.differing).toBe(1);
      expect(report.pulled).toBe(1);
      expect(report.pushed).toBe(0);
      // 3000 keys in the slot; the old protocol listed all of them. The tree narrows it to one leaf.
      expect(report.entries).toBeGreaterThanOrEqual(1);
      expect(report.entries).toBeLessThanOrEqual(64);
      expect(report.buckets).toBeLessThanOrEqual(16 * 4);
      // Digests, two levels of children, one entries page, one read.
      expect(frames).toBeLessThanOrEqual(8);
      expect(versionHash((await stores[0]!.getRecord(enc(diverged)))!)).toEqual(versionHash(newer));
      // And now the slot matches: nothing left to do.
      const again = await cluster.at('peer-0').antiEntropy(['peer-1']);
      expect(again).toMatchObject({ differing: 0, pulled: 0, pushed: 0, entries: 0, buckets: 0 });
    });
  });

  it('a whole slot missing on one side is pulled whole, in bounded pages', async () => {
    await withCluster('bulk', { peers: 3 }, async (cluster) => {
      const keyCount = 1500;
      const slot = keySlot('{bulk}');
      const source = new ReplicaStore(cluster.stores.get('peer-0')!);
      for (let i = 0; i < keyCount; i++) {
        const { record } = mint([], {
          actor: 'loader~1',
          clock: i + 1,
          payload: { bytes: enc('v'), mintedMs: 0 },
        });
        await source.putRecord(enc(`{bulk}${i}`), slot, record);
      }
      cluster.at('peer-0').forgetDigests();
      const report = await cluster.at('peer-1').antiEntropy(['peer-0']);
      expect(report.pulled).toBe(keyCount);
      // No tree descent and no entries: peer-1 holds nothing of the slot, so it takes `records` pages
      // (at most slotEntriesPerPageMax each; replies.ts refuses larger ones) of whole records.
      expect(report.buckets).toBe(0);
      expect(report.entries).toBe(0);
      const target = new ReplicaStore(cluster.stores.get('peer-1')!);
      let held = 0;
      for (let i = 0; i < keyCount; i++) if (await target.getRecord(enc(`{bulk}${i}`))) held += 1;
      expect(held).toBe(keyCount);
    });
  });
});
