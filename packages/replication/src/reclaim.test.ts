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

describe('Replicator.reclaimUnowned', () => {
  it('hands a given-up slot to its owners (a late write included), drops it here, and loses nothing', async () => {
    const cluster = await startTestCluster({ peers: 4, seed: 3, limits: { reclaimAfterMs: 0 } });
    try {
      const { keys, slot } = keysOfOneSlot('moving', 40);
      const before = cluster.placement.lookup(slot).owners;
      const newcomer = cluster.ids.find((id) => !before.includes(id))!;
      const leaver = before[0]!;
      for (const [i, key] of keys.entries())
        await cluster.at(leaver).put(key, enc(`v${i}`), { consistency: 'all' });
      await cluster.at(leaver).delete(keys[0]!, { consistency: 'all' });

      // The slot moves from `leaver` to `newcomer`; repair copies it there (what a slot copy does).
      const after = [...before.filter((id) => id !== leaver), newcomer];
      cluster.placement.moveSlot(slot, after);
      await cluster.repairUntilQuiet();
      // A write that reached only the old owner (as a fan-out minted under the old map can arrive
      // after the copy): written while the old map still held and the other owners were cut off.
      cluster.placement.moveSlot(slot, before);
      // Down in the view too, so the write's fan-out goes to hints at once (never sent, never replayed here).
      for (const id of before.slice(1)) {
        cluster.network.stop(id);
        cluster.placement.markDown(id);
      }
      const late = (await cluster.at(leaver).get(keys[1]!, { consistency: 'one' })).context;
      await cluster.at(leaver).put(keys[1]!, enc('late'), { consistency: 'one', context: late });
      for (const id of before.slice(1)) {
        cluster.network.resume(id);
        cluster.placement.markUp(id);
      }
      cluster.placement.moveSlot(slot, after);
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
      const before = cluster.placement.lookup(slot).owners;
      const newcomer = cluster.ids.find((id) => !before.includes(id))!;
      const leaver = before[0]!;
      for (const key of keys) await cluster.at(leaver).put(key, enc('x'), { consistency: 'all' });
      const after = [...before.filter((id) => id !== leaver), newcomer];
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
      const before = cluster.placement.lookup(slot).owners;
      const newcomer = cluster.ids.find((id) => !before.includes(id))!;
      const leaver = before[0]!;
      for (const key of keys) await cluster.at(leaver).put(key, enc('v'), { consistency: 'all' });
      const after = [...before.filter((id) => id !== leaver), newcomer];
      cluster.placement.moveSlot(slot, after);
      await cluster.repairUntilQuiet();
      // A version only the old owner holds, written long ago (as far as the clocks go).
      // Down in the view too, so the write's fan-out goes to hints at once (never sent, never replayed here).
      for (const id of before.slice(1)) {
        cluster.network.stop(id);
        cluster.placement.markDown(id);
      }
      cluster.placement.moveSlot(slot, before);
      const read = await cluster.at(leaver).get(keys[0]!, { consistency: 'one' });
      await cluster.at(leaver).put(keys[0]!, enc('stale'), { consistency: 'one', context: read.context });
      for (const id of before.slice(1)) {
        cluster.network.resume(id);
        cluster.placement.markUp(id);
      }
      cluster.placement.moveSlot(slot, after);
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
      const before = cluster.placement.lookup(slot).owners;
      const newcomer = cluster.ids.find((id) => !before.includes(id))!;
      const leaver = before[0]!;
      for (const key of keys) await cluster.at(leaver).put(key, enc('x'), { consistency: 'all' });
      cluster.placement.moveSlot(slot, [...before.filter((id) => id !== leaver), newcomer]);
      expect(await cluster.at(leaver).reclaimUnowned()).toMatchObject({ slots: 0, dropped: 0 });
      cluster.timers.advance(60_000);
      expect(await cluster.at(leaver).reclaimUnowned()).toMatchObject({ slots: 1, dropped: 3 });
    } finally {
      await cluster.close();
    }
  });
});
