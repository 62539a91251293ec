import { keyPrefix, keySlot } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { defaultReplicatorLimits } from './limits.ts';
import { startTestCluster } from './testing/index.ts';

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);

/** `count` keys that all hash to one slot (a hash tag), and that slot. */
function keysOfOneSlot(tag: string, count: number) {
  const keys = Array.from({ length: count }, (_, i) => enc(`{${tag}}:${i}`));
  return { keys, slot: keySlot(keys[0]!) };
}

type Cluster = Awaited<ReturnType<typeof startTestCluster>>;

/** The slot's owners now, the first of them (who will give it up) and the owners after it moves to a spare peer. */
function plannedMove(cluster: Cluster, slot: number) {
  const before = cluster.placement.lookup(slot).owners;
  const leaver = before[0]!;
  const newcomer = cluster.ids.find((id) => !before.includes(id))!;
  return { before, leaver, after: [...before.filter((id) => id !== leaver), newcomer] };
}

/**
 * Writes `value` under `key` on the old owner alone, as a fan-out minted under the old map can arrive
 * after the copy: the old map is put back for the write while the other owners are cut off and down in
 * the view (the fan-out goes to hints at once, never sent, never replayed here), then the move again.
 */
async function writeOnOldOwnerOnly(
  cluster: Cluster,
  slot: number,
  move: ReturnType<typeof plannedMove>,
  key: Uint8Array,
  value: string,
) {
  const { before, leaver, after } = move;
  cluster.placement.moveSlot(slot, before);
  for (const id of before.slice(1)) {
    cluster.network.stop(id);
    cluster.placement.markDown(id);
  }
  const read = await cluster.at(leaver).get(key, { consistency: 'one' });
  await cluster.at(leaver).put(key, enc(value), { consistency: 'one', context: read.context });
  for (const id of before.slice(1)) {
    cluster.network.resume(id);
    cluster.placement.markUp(id);
  }
  cluster.placement.moveSlot(slot, after);
}

describe('Replicator.reclaimUnowned', () => {
  it('hands a given-up slot to its owners (a late write included), drops it here, and loses nothing', async () => {
    const cluster = await startTestCluster({ peers: 4, seed: 3, limits: { reclaimAfterMs: 0 } });
    try {
      const { keys, slot } = keysOfOneSlot('moving', 40);
      const move = plannedMove(cluster, slot);
      const { leaver, after } = move;
      for (const [i, key] of keys.entries())
        await cluster.at(leaver).put(key, enc(`v${i}`), { consistency: 'all' });
      await cluster.at(leaver).delete(keys[0]!, { consistency: 'all' });

      // The slot moves from `leaver` to a spare peer; repair copies it there (what a slot copy does).
      cluster.placement.moveSlot(slot, after);
      await cluster.repairUntilQuiet();
      // A write that reached only the old owner.
      await writeOnOldOwnerOnly(cluster, slot, move, keys[1]!, 'late');
      for (const owner of after) {
        expect(dec((await cluster.at(owner).get(keys[1]!, { consistency: 'one' })).value)).toBe('v1');
      }

      const report = await cluster.at(leaver).reclaimUnowned();
      expect(report).toMatchObject({ slots: 1, dropped: 40, kept: 0 });
      // Nothing of the slot is left in the old owner's store: no record, no slot-index entry.
      const store = cluster.stores.get(leaver)!;
      for (const key of keys) expect(await store.get(key)).toBeUndefined();
      let indexEntries = 0;
      for await (const _ of store.scan({ prefix: keyPrefix('S', ['repl.slot', slot]) })) indexEntries += 1;
      expect(indexEntries).toBe(0);

      for (const owner of after) {
        expect(dec((await cluster.at(owner).get(keys[1]!, { consistency: 'one' })).value)).toBe('late');
        expect((await cluster.at(owner).get(keys[0]!, { consistency: 'one' })).found).toBe(false);
      }
      for (const [i, key] of keys.entries()) {
        if (i < 2) continue;
        expect(dec((await cluster.at(after[0]!).get(key, { consistency: 'all' })).value)).toBe(`v${i}`);
      }
      // A second pass finds nothing to do.
      expect(await cluster.at(leaver).reclaimUnowned()).toMatchObject({ slots: 0, dropped: 0 });
    } finally {
      await cluster.close();
    }
  });

  it('keeps records while too few owners acknowledge, while a change in flight gives the slot back, and before reclaimAfterMs', async () => {
    const cluster = await startTestCluster({ peers: 4, seed: 5, limits: { reclaimAfterMs: 0 } });
    try {
      const { keys, slot } = keysOfOneSlot('kept', 5);
      const { before, leaver, after } = plannedMove(cluster, slot);
      for (const key of keys) await cluster.at(leaver).put(key, enc('x'), { consistency: 'all' });
      cluster.placement.moveSlot(slot, after);

      // Two of the three new owners unreachable: no majority acknowledges, so nothing is dropped.
      cluster.network.stop(after[0]!);
      cluster.network.stop(after[1]!);
      expect(await cluster.at(leaver).reclaimUnowned()).toMatchObject({ slots: 1, dropped: 0, kept: 5 });
      cluster.network.resume(after[0]!);
      cluster.network.resume(after[1]!);

      // A pending change gives the slot back to `leaver`: its records stay.
      cluster.placement.setPending(slot, before);
      expect(await cluster.at(leaver).reclaimUnowned()).toMatchObject({ slots: 0, dropped: 0 });
      cluster.placement.setPending(slot, null);

      // Owned again: nothing to reclaim.
      cluster.placement.moveSlot(slot, before);
      expect(await cluster.at(leaver).reclaimUnowned()).toMatchObject({ slots: 0, dropped: 0 });
      for (const key of keys)
        expect((await cluster.at(leaver).get(key, { consistency: 'one' })).found).toBe(true);
    } finally {
      await cluster.close();
    }
  });

  it('drops, without handing over, a version older than hintTtlMs (the owners may have reaped its delete)', async () => {
    const cluster = await startTestCluster({ peers: 4, seed: 13, limits: { reclaimAfterMs: 0 } });
    try {
      const { keys, slot } = keysOfOneSlot('stale', 2);
      const move = plannedMove(cluster, slot);
      const { leaver, after } = move;
      for (const key of keys) await cluster.at(leaver).put(key, enc('v'), { consistency: 'all' });
      cluster.placement.moveSlot(slot, after);
      await cluster.repairUntilQuiet();
      // A version only the old owner holds, written long ago (as far as the clocks go).
      await writeOnOldOwnerOnly(cluster, slot, move, keys[0]!, 'stale');
      cluster.timers.advance(defaultReplicatorLimits.hintTtlMs + 1);

      expect(await cluster.at(leaver).reclaimUnowned()).toMatchObject({ slots: 1, dropped: 2, kept: 0 });
      expect(await cluster.stores.get(leaver)!.get(keys[0]!)).toBeUndefined();
      for (const owner of after) {
        expect(dec((await cluster.at(owner).get(keys[0]!, { consistency: 'one' })).value)).toBe('v');
      }
    } finally {
      await cluster.close();
    }
  });

  it('waits reclaimAfterMs after it first sees a slot unowned', async () => {
    const cluster = await startTestCluster({ peers: 4, seed: 9, limits: { reclaimAfterMs: 60_000 } });
    try {
      const { keys, slot } = keysOfOneSlot('later', 3);
      const { leaver, after } = plannedMove(cluster, slot);
      for (const key of keys) await cluster.at(leaver).put(key, enc('x'), { consistency: 'all' });
      cluster.placement.moveSlot(slot, after);
      expect(await cluster.at(leaver).reclaimUnowned()).toMatchObject({ slots: 0, dropped: 0 });
      cluster.timers.advance(60_000);
      expect(await cluster.at(leaver).reclaimUnowned()).toMatchObject({ slots: 1, dropped: 3 });
    } finally {
      await cluster.close();
    }
  });
});
