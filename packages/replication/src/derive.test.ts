import { decodeValue, encodeKey, encodeValue, keyPrefix, keySlot } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { decodeReply, encodeRequest } from './frames.ts';
import { type ReplicaRecord, winnerOf } from './record.ts';
import type { Derive } from './replica-store.ts';
import { startTestCluster, type TestCluster } from './testing/index.ts';

const seed = Number(process.env.REPLICATION_SEED ?? Date.now() % 100_000);
const recordKey = (name: string) => encodeKey('O', ['db', 'c', name]);

// Each record whose winner is a value `{ tag }` derives one entry I/db/c/byTag/tag/name.
const derive: Derive = (key: Uint8Array, record: ReplicaRecord) => {
  const bytes = winnerOf(record).value.bytes;
  if (bytes === null) return [];
  const { tag } = decodeValue<{ tag: string }>(bytes);
  const name = decodeValueName(key);
  return [{ key: encodeKey('I', ['db', 'c', 'byTag', tag, name]), value: new Uint8Array([1]) }];
};

function decodeValueName(key: Uint8Array): string {
  // The record key ends with the name element: 0x02 name 0x00.
  const text = new TextDecoder().decode(key);
  return text.slice(text.lastIndexOf('\u0002') + 1, -1);
}

const indexRange = { start: keyPrefix('I', ['db', 'c', 'byTag']), end: keyPrefix('J', []) };

async function derivedKeysOn(cluster: TestCluster, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const { key } of cluster.stores
    .get(id)!
    .scan({ prefix: keyPrefix('I', ['db', 'c', 'byTag']) })) {
    out.push(Buffer.from(key).toString('hex'));
  }
  return out;
}

async function withCluster(test: (cluster: TestCluster) => Promise<void>) {
  const cluster = await startTestCluster({ peers: 4, seed, derive });
  try {
    await test(cluster);
  } finally {
    await cluster.close();
  }
}

describe(`derived entries (seed ${seed})`, () => {
  it('are written with the record on every owner and follow the winner, then go with a tombstone', async () => {
    await withCluster(async (cluster) => {
      const key = recordKey('alice');
      const owners = cluster.placement.lookup(keySlot(key)).owners;
      const entry = (tag: string) =>
        Buffer.from(encodeKey('I', ['db', 'c', 'byTag', tag, 'alice'])).toString('hex');
      await cluster.at('peer-0').put(key, encodeValue({ tag: 'red' }), { consistency: 'all' });
      for (const id of owners) expect(await derivedKeysOn(cluster, id)).toEqual([entry('red')]);
      await cluster.at('peer-1').put(key, encodeValue({ tag: 'blue' }), { consistency: 'all' });
      for (const id of owners) expect(await derivedKeysOn(cluster, id)).toEqual([entry('blue')]);
      await cluster.at('peer-2').delete(key, { consistency: 'all' });
      for (const id of owners) expect(await derivedKeysOn(cluster, id)).toEqual([]);
      const notOwner = cluster.ids.find((id) => !owners.includes(id))!;
      expect(await derivedKeysOn(cluster, notOwner)).toEqual([]);
    });
  });

  it('come back on a wiped replica through anti-entropy', async () => {
    await withCluster(async (cluster) => {
      for (let i = 0; i < 40; i++) {
        await cluster.at('peer-0').put(recordKey(`k${i}`), encodeValue({ tag: `t${i % 5}` }));
      }
      await cluster.repairUntilQuiet();
      const before = await derivedKeysOn(cluster, 'peer-1');
      expect(before.length).toBeGreaterThan(0);
      await cluster.wipe('peer-1');
      expect(await derivedKeysOn(cluster, 'peer-1')).toEqual([]);
      await cluster.repairUntilQuiet();
      expect(await derivedKeysOn(cluster, 'peer-1')).toEqual(before);
    });
  });

  it('scan merges one owner per slot in key order, pages with a cursor, and survives a stopped owner', async () => {
    await withCluster(async (cluster) => {
      const expected: string[] = [];
      for (let i = 0; i < 60; i++) {
        const name = `n${String(i).padStart(2, '0')}`;
        await cluster.at('peer-0').put(recordKey(name), encodeValue({ tag: `t${i % 3}` }), {
          consistency: 'all',
        });
        expected.push(Buffer.from(encodeKey('I', ['db', 'c', 'byTag', `t${i % 3}`, name])).toString('hex'));
      }
      expected.sort();
      const scanAll = async (id: string, limit: number) => {
        const keys: string[] = [];
        let after: Uint8Array | null = null;
        for (let page = 0; page < 100; page++) {
          const result = await cluster.at(id).scan({ ...indexRange, after, limit, mode: 'derived' });
          keys.push(...result.entries.map(([key]) => Buffer.from(key).toString('hex')));
          if (result.cursor === null) return keys;
          after = result.cursor;
        }
        throw new Error('scan did not end');
      };
      expect(await scanAll('peer-3', 7)).toEqual(expected);
      cluster.network.stop('peer-1');
      expect(await scanAll('peer-0', 1000)).toEqual(expected);
      const records = await cluster.at('peer-2').scan({
        start: keyPrefix('O', ['db', 'c']),
        end: keyPrefix('O', ['db', 'd']),
        limit: 1000,
        mode: 'records',
      });
      expect(records.entries.length).toBe(60);
      expect(records.cursor).toBeNull();
    });
  });

  it('reading two owners per slot sees writes one lagging owner missed', async () => {
    await withCluster(async (cluster) => {
      // peer-1 misses these writes (not marked down: they reach quorum on the others and leave hints).
      cluster.network.stop('peer-1');
      const expected: string[] = [];
      for (let i = 0; i < 20; i++) {
        const name = `lag${i}`;
        await cluster.at('peer-0').put(recordKey(name), encodeValue({ tag: 'x' }));
        expected.push(Buffer.from(encodeKey('I', ['db', 'c', 'byTag', 'x', name])).toString('hex'));
      }
      for (const id of cluster.ids) await cluster.at(id).settle();
      cluster.network.resume('peer-1');
      const keysOf = (entries: readonly (readonly [Uint8Array, Uint8Array])[]) =>
        entries.map(([key]) => Buffer.from(key).toString('hex'));
      const one = await cluster.at('peer-1').scan({ ...indexRange, limit: 1000, mode: 'derived' });
      expect(keysOf(one.entries).length).toBeLessThan(expected.length);
      const two = await cluster
        .at('peer-1')
        .scan({ ...indexRange, limit: 1000, mode: 'derived', ownersPerSlot: 2 });
      expect(keysOf(two.entries)).toEqual(expected.sort());
      await expect(
        cluster.at('peer-1').scan({ ...indexRange, limit: 10, mode: 'derived', ownersPerSlot: 0 }),
      ).rejects.toMatchObject({ name: 'InvalidArgumentError' });
    });
  });

  it('a scan frame with a bad bitmap, limit or mode is refused whole', async () => {
    await withCluster(async (cluster) => {
      const good = {
        op: 'scan' as const,
        start: indexRange.start,
        end: indexRange.end,
        after: null,
        limit: 10,
        slots: new Uint8Array(2048),
        mode: 'derived' as const,
      };
      const transport = cluster.network.transport('peer-3');
      for (const bad of [
        { ...good, slots: new Uint8Array(10) },
        { ...good, limit: 0 },
        { ...good, limit: 1_000_000 },
        { ...good, mode: 'other' as 'derived' },
      ]) {
        const reply = decodeReply(
          await transport.request('peer-0', encodeRequest(1, [bad]), { timeoutMs: 5000 }),
          1,
        );
        expect('error' in reply && reply.error.code).toBe('ERR_BAD_FRAME');
      }
    });
  });
});
