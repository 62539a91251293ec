import { keySlot } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { winnerOf } from './record.ts';
import type { RecordChange } from './replica-store.ts';
import { startTestCluster } from './testing/index.ts';

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array | null | undefined) => (bytes ? new TextDecoder().decode(bytes) : bytes);

/** What a listener saw, per peer: key text, winning value text (null for a tombstone), slot. */
type Seen = { key: string | null | undefined; value: string | null | undefined; slot: number };

function seen(change: RecordChange): Seen {
  return { key: dec(change.key), value: dec(winnerOf(change.record).value.bytes), slot: change.slot };
}

describe('Replicator.watch', () => {
  it('tells every owner, once, of each winning version it stores, whoever coordinated; a non-owner sees nothing', async () => {
    const cluster = await startTestCluster({ peers: 4, seed: 7 });
    try {
      const changes = new Map<string, Seen[]>(cluster.ids.map((id) => [id, []]));
      for (const id of cluster.ids) cluster.at(id).watch((change) => changes.get(id)!.push(seen(change)));
      const key = enc('watched');
      const slot = keySlot(key);
      const owners = cluster.placement.lookup(slot).owners;
      const outsider = cluster.ids.find((id) => !owners.includes(id))!;
      expect(owners).toHaveLength(3);

      await cluster.at(outsider).put(key, enc('v1'), { consistency: 'all' });
      await cluster.at(owners[1]!).put(key, enc('v2'), { consistency: 'all' });
      await cluster.at(owners[2]!).delete(key, { consistency: 'all' });
      await Promise.all(cluster.ids.map((id) => cluster.at(id).settle()));

      const expected: Seen[] = [
        { key: 'watched', value: 'v1', slot },
        { key: 'watched', value: 'v2', slot },
        { key: 'watched', value: null, slot },
      ];
      for (const owner of owners) expect(changes.get(owner)).toEqual(expected);
      expect(changes.get(outsider)).toEqual([]);

      // Repair that changes nothing (every owner already has the tombstone) reports nothing.
      await cluster.repairUntilQuiet();
      for (const owner of owners) expect(changes.get(owner)).toHaveLength(3);
    } finally {
      await cluster.close();
    }
  });

  it('reports what repair brings to a wiped owner, stops after unsubscribe, and a throwing listener fails no write', async () => {
    const cluster = await startTestCluster({ peers: 3, seed: 11 });
    try {
      const [a, b, c] = cluster.ids as [string, string, string];
      await cluster.at(a).put(enc('k1'), enc('one'), { consistency: 'all' });
      await cluster.at(a).put(enc('k2'), enc('two'), { consistency: 'all' });
      await cluster.wipe(c);

      const atC: Seen[] = [];
      const stop = cluster.at(c).watch((change) => atC.push(seen(change)));
      cluster.at(b).watch(() => {
        throw new Error('listener bug');
      });
      await cluster.repairUntilQuiet();
      expect(atC.map((change) => [change.key, change.value]).sort()).toEqual([
        ['k1', 'one'],
        ['k2', 'two'],
      ]);

      stop();
      const written = await cluster.at(b).put(enc('k3'), enc('three'), { consistency: 'all' });
      expect(written.acknowledged).toBe(3);
      await cluster.at(c).settle();
      expect(atC).toHaveLength(2);
      expect(dec((await cluster.at(c).get(enc('k3'), { consistency: 'one' })).value)).toBe('three');
    } finally {
      await cluster.close();
    }
  });
});
