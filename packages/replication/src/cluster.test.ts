/**
 * N=3, W=2, R=2 under a concurrent write load, with owners killed,
 * partitions, lost messages and a wiped disk; every run is checked with the
 * history checker. Seeds are printed; rerun one with REPLICATION_SEED=<n>.
 */
import { keySlot } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { equalBytes } from './bytes.ts';
import { QuorumNotReachedError } from './errors.ts';
import { versionHash } from './record.ts';
import { ReplicaStore } from './replica-store.ts';
import type { ReadResult } from './replicator.ts';
import { History, startTestCluster, type TestCluster, type TestClusterOptions } from './testing/index.ts';

const enc = (text: string) => new TextEncoder().encode(text);
/** Attempts of a healed-cluster read before a timeout counts as a failure. */
const readAttemptsMax = 5;

function seedFor(name: string): number {
  const seed = process.env.REPLICATION_SEED
    ? Number(process.env.REPLICATION_SEED)
    : Math.floor(Math.random() * 2 ** 31);
  console.info(`${name}: seed ${seed}`);
  return seed;
}

async function withCluster(
  name: string,
  options: Omit<TestClusterOptions, 'seed'>,
  run: (c: TestCluster) => Promise<void>,
) {
  const seed = seedFor(name);
  const cluster = await startTestCluster({ ...options, seed });
  try {
    await run(cluster);
  } catch (error) {
    console.error(`${name} failed; replay with REPLICATION_SEED=${seed}`);
    throw error;
  } finally {
    await cluster.close();
  }
}

/** One client: writes unique values to its keys through `via`, reading each key back after writing it. */
async function client(
  cluster: TestCluster,
  history: History,
  name: string,
  via: () => string,
  keys: string[],
  ops: number,
) {
  for (let i = 0; i < ops; i++) {
    const key = keys[Math.floor(cluster.network.random() * keys.length)]!;
    const isDelete = cluster.network.random() < 0.1;
    const value = isDelete ? null : `${name}:${i}`;
    const done = history.write(name, key, value);
    try {
      const replicator = cluster.at(via());
      const result =
        value === null ? await replicator.delete(enc(key)) : await replicator.put(enc(key), enc(value));
      done(result.version);
    } catch (error) {
      done(error as Error);
    }
    const read = history.read(name, key);
    try {
      read(await cluster.at(via()).get(enc(key)));
    } catch (error) {
      read(error as Error);
    }
  }
}

async function healAndRepair(cluster: TestCluster) {
  cluster.network.heal();
  cluster.network.requestDropRate = 0;
  cluster.network.replyDropRate = 0;
  for (const id of cluster.ids) {
    cluster.network.resume(id);
    cluster.placement.markUp(id);
  }
  for (const id of cluster.ids) await cluster.at(id).settle();
  for (const id of cluster.ids) await cluster.at(id).replayHints();
  const rounds = await cluster.repairUntilQuiet();
  expect(rounds).toBeLessThanOrEqual(3);
}

/** Reads `key` from every owner; retries (a bounded number of times) when a loaded machine let a reply time out. */
async function readAll(cluster: TestCluster, key: string): Promise<ReadResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await cluster.at(cluster.ids[0]!).get(enc(key), { consistency: 'all' });
    } catch (error) {
      if (!(error instanceof QuorumNotReachedError) || attempt >= readAttemptsMax) throw error;
    }
  }
}

async function finalState(cluster: TestCluster, keys: readonly string[]) {
  const final = new Map<string, ReadResult>();
  for (const key of keys) final.set(key, await readAll(cluster, key));
  return final;
}

/** Every owner of every key holds the same versions; the final reads saw each written key. */
async function expectConverged(cluster: TestCluster, keys: readonly string[]) {
  for (const key of keys) {
    const owners = cluster.placement.lookup(keySlot(key)).owners;
    const hashes = await Promise.all(
      owners.map(async (id) => {
        const record = await new ReplicaStore(cluster.stores.get(id)!).getRecord(enc(key));
        return record ? versionHash(record) : undefined;
      }),
    );
    // All owners hold the same versions, or (a key never written) none holds it.
    const same = hashes.every((hash) =>
      hash && hashes[0] ? equalBytes(hash, hashes[0]) : hash === hashes[0],
    );
    expect(same, `key ${key} diverged on ${owners.join(',')}`).toBe(true);
  }
}

describe('replication under failures (N=3, W=2, R=2)', () => {
  it('an owner killed mid-load loses no acknowledged write and reads return the latest acknowledged value', async () => {
    await withCluster('kill an owner', { peers: 4, delayMsMax: 2 }, async (cluster) => {
      const history = new History();
      const keysOf = (c: number) => Array.from({ length: 8 }, (_, k) => `c${c}-k${k}`);
      // Clients talk to peers 0-2 (a client attached to the killed peer only collects timeouts);
      // peer-3 owns three quarters of the slots, so most keys lose an owner.
      const clients = Array.from({ length: 6 }, (_, c) =>
        client(cluster, history, `c${c}`, () => cluster.ids[c % 3]!, keysOf(c), 40),
      );
      // Kill peer-3 (it stops answering; nobody is told), later the membership view notices.
      const chaos = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        cluster.network.stop('peer-3');
        await new Promise((resolve) => setTimeout(resolve, 100));
        cluster.placement.markDown('peer-3');
      })();
      await Promise.all([...clients.slice(0, 3), chaos, ...clients.slice(3)]);
      expect(history.acknowledgedWrites).toBeGreaterThan(100);
      // While peer-3 is down, its slots are visibly under-replicated.
      await cluster.at('peer-0').antiEntropy();
      expect(cluster.at('peer-0').underReplicatedSlots().count).toBeGreaterThan(0);
      await healAndRepair(cluster);
      for (const id of cluster.ids) expect(cluster.at(id).underReplicatedSlots().count).toBe(0);
      const keys = Array.from({ length: 6 }, (_, c) => keysOf(c)).flat();
      expect(history.check(await finalState(cluster, keys), { readYourWrites: true })).toEqual([]);
      await expectConverged(cluster, keys);
    });
  });

  it('a partition with lost messages heals and every owner converges, with shared keys contended', async () => {
    await withCluster(
      'partition and heal',
      { peers: 5, delayMsMax: 3, requestDropRate: 0.03, replyDropRate: 0.03 },
      async (cluster) => {
        const history = new History();
        const keys = Array.from({ length: 12 }, (_, k) => `shared-${k}`);
        const clients = Array.from({ length: 8 }, (_, c) =>
          client(cluster, history, `c${c}`, () => cluster.ids[c % cluster.ids.length]!, keys, 30),
        );
        const chaos = (async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          cluster.network.partition([
            ['peer-0', 'peer-1', 'peer-2'],
            ['peer-3', 'peer-4'],
          ]);
          await new Promise((resolve) => setTimeout(resolve, 150));
          cluster.network.heal();
        })();
        await Promise.all([...clients, chaos]);
        expect(history.acknowledgedWrites).toBeGreaterThan(50);
        await healAndRepair(cluster);
        expect(history.check(await finalState(cluster, keys), { readYourWrites: true })).toEqual([]);
        await expectConverged(cluster, keys);
        for (const id of cluster.ids) expect(cluster.at(id).underReplicatedSlots().count).toBe(0);
      },
    );
  });

  it('a wiped replica is rebuilt by anti-entropy, and reads stay correct before the rebuild', async () => {
    await withCluster('wipe a replica', { peers: 3 }, async (cluster) => {
      const history = new History();
      const keys = Array.from({ length: 150 }, (_, k) => `w-${k}`);
      for (const key of keys) {
        const done = history.write('writer', key, `${key}:v`);
        done((await cluster.at('peer-0').put(enc(key), enc(`${key}:v`))).version);
      }
      for (const id of cluster.ids) await cluster.at(id).settle();
      await cluster.wipe('peer-2');
      // R=2 still sees every write: any two owners include one that was not wiped.
      for (const key of keys.slice(0, 20)) {
        const read = history.read('writer', key);
        read(await cluster.at('peer-2').get(enc(key)));
      }
      const report = await cluster.at('peer-0').antiEntropy(['peer-2']);
      expect(report.differing).toBeGreaterThan(0);
      expect(report.pushed).toBeGreaterThan(0);
      await cluster.repairUntilQuiet();
      await expectConverged(cluster, keys);
      expect(history.check(await finalState(cluster, keys), { readYourWrites: true })).toEqual([]);
    });
  });
});

describe('hinted handoff', () => {
  it('writes for a down owner become durable hints and replay when it is back', async () => {
    await withCluster('hints', { peers: 3 }, async (cluster) => {
      cluster.network.stop('peer-2');
      cluster.placement.markDown('peer-2');
      const keys = Array.from({ length: 20 }, (_, k) => `h-${k}`);
      for (const key of keys) await cluster.at('peer-0').put(enc(key), enc(`${key}:v`));
      await cluster.at('peer-0').settle();
      expect(cluster.at('peer-0').hintCount).toBe(20);
      // Hints survive a restart of the hinting peer: they are in its store.
      const reopened = new ReplicaStore(cluster.stores.get('peer-0')!);
      await reopened.open();
      expect(reopened.hintCount).toBe(20);
      expect(await cluster.stores.get('peer-2')!.get(enc('h-0'))).toBeUndefined();
      // Not replayed while the owner is still down.
      expect((await cluster.at('peer-0').replayHints()).delivered).toBe(0);
      cluster.network.resume('peer-2');
      cluster.placement.markUp('peer-2');
      const report = await cluster.at('peer-0').replayHints();
      expect(report).toEqual({ delivered: 20, expired: 0, remaining: 0 });
      const peer2 = new ReplicaStore(cluster.stores.get('peer-2')!);
      for (const key of keys) expect(await peer2.getRecord(enc(key))).toBeDefined();
    });
  });

  it('hints are bounded by hintsMax and expire after hintTtlMs; what they carried is left to anti-entropy', async () => {
    await withCluster(
      'hint bounds',
      { peers: 3, limits: { hintsMax: 5, hintTtlMs: 60_000 } },
      async (cluster) => {
        cluster.network.stop('peer-2');
        cluster.placement.markDown('peer-2');
        for (let k = 0; k < 12; k++) await cluster.at('peer-0').put(enc(`b-${k}`), enc('v'));
        await cluster.at('peer-0').settle();
        expect(cluster.at('peer-0').hintCount).toBe(5);
        expect(cluster.at('peer-0').underReplicatedSlots().count).toBe(12);
        cluster.timers.advance(61_000);
        cluster.network.resume('peer-2');
        cluster.placement.markUp('peer-2');
        expect(await cluster.at('peer-0').replayHints()).toEqual({ delivered: 0, expired: 5, remaining: 0 });
        expect(cluster.at('peer-0').underReplicatedSlots().count).toBe(12);
        await cluster.repairUntilQuiet();
        expect(cluster.at('peer-0').underReplicatedSlots().count).toBe(0);
        const peer2 = new ReplicaStore(cluster.stores.get('peer-2')!);
        for (let k = 0; k < 12; k++) expect(await peer2.getRecord(enc(`b-${k}`))).toBeDefined();
      },
    );
  });
});

describe('tombstones', () => {
  it('are reaped only after the grace period and only when every owner has them', async () => {
    await withCluster('reaper', { peers: 3, limits: { tombstoneGraceMs: 1000 } }, async (cluster) => {
      const keys = Array.from({ length: 10 }, (_, k) => `t-${k}`);
      for (const key of keys) await cluster.at('peer-0').put(enc(key), enc('v'));
      // Every owner holds the values (the third owner's ack may still be in flight after W=2).
      for (const id of cluster.ids) await cluster.at(id).settle();
      cluster.network.stop('peer-2');
      cluster.placement.markDown('peer-2');
      for (const key of keys) await cluster.at('peer-1').delete(enc(key));
      for (const id of cluster.ids) await cluster.at(id).settle();
      expect((await cluster.at('peer-0').reapTombstones()).candidates).toBe(0); // too young
      cluster.timers.advance(2000);
      // peer-2 still holds the live values: nothing may be reaped.
      expect(await cluster.at('peer-0').reapTombstones()).toEqual({ candidates: 10, reaped: 0 });
      cluster.network.resume('peer-2');
      cluster.placement.markUp('peer-2');
      expect((await cluster.at('peer-0').reapTombstones()).reaped).toBe(0); // peer-2 has not got them yet
      await cluster.repairUntilQuiet();
      expect((await cluster.at('peer-0').reapTombstones()).reaped).toBe(10);
      for (const id of cluster.ids) {
        const store = new ReplicaStore(cluster.stores.get(id)!);
        for (const key of keys) expect(await store.getRecord(enc(key))).toBeUndefined();
      }
      for (const key of keys)
        expect((await cluster.at('peer-2').get(enc(key), { consistency: 'all' })).found).toBe(false);
    });
  });
});
