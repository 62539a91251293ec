import { encodeValue } from '@tessera/core';
import { type BatchOp, openMemoryStore, type Store } from '@tessera/storage';
import { describe, expect, it } from 'vitest';
import { mint } from './record.ts';
import { recordToWire } from './record-codec.ts';
import { REPLICA_FORMAT_VERSION, ReplicaStore, recordFromStored } from './replica-store.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A store whose batches commit only when the test says so (read the data through `inner`). */
async function gatedStore() {
  const inner = await openMemoryStore();
  const batches: { ops: readonly BatchOp[]; commit: () => void }[] = [];
  const store: Store = Object.create(inner);
  store.batch = (ops, options) =>
    new Promise<void>((resolve, reject) => {
      batches.push({ ops, commit: () => inner.batch(ops, options).then(resolve, reject) });
    });
  return { store, inner, batches };
}

const recordOf = (i: number) =>
  mint([], { actor: 'a', clock: i + 1, payload: { bytes: Uint8Array.of(i), mintedMs: 0 } }).record;
const keyOf = (i: number) => Uint8Array.of(0x4f, 0, i + 1);

describe('ReplicaStore group commit', () => {
  it('writes of one turn share a batch; while two batches commit, later writes wait and share the next', async () => {
    const { store, inner, batches } = await gatedStore();
    const replica = new ReplicaStore(store);
    const done: number[] = [];
    const write = (i: number) => replica.putRecord(keyOf(i), 1, recordOf(i)).then(() => done.push(i));

    const first = [write(0), write(1)];
    await turn();
    const second = [write(2)];
    await turn();
    // Two batches in flight: these three gather instead of starting a third.
    const third = [write(3), write(4)];
    await turn();
    const fourth = [write(5)];
    await turn();
    expect(batches.map((b) => b.ops.length / 2)).toEqual([2, 1]);

    batches[0]!.commit();
    await Promise.all(first);
    await turn();
    await turn();
    expect(batches.map((b) => b.ops.length / 2)).toEqual([2, 1, 3]);
    for (const batch of batches.slice(1)) batch.commit();
    await Promise.all([...second, ...third, ...fourth]);
    expect(done.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const stored = new ReplicaStore(inner);
    for (let i = 0; i < 6; i++) expect(await stored.getRecord(keyOf(i))).toEqual(recordOf(i));
  });
});

describe('ReplicaStore slot digests', () => {
  it('a wide request scans once, caches every slot in its span, and agrees with slot-by-slot reads', async () => {
    const inner = await openMemoryStore();
    let scans = 0;
    // Counts scans; everything else goes to the memory store itself (its methods need it as `this`).
    const store = new Proxy(inner, {
      get(target, prop) {
        if (prop === 'scan') {
          return (range: Parameters<Store['scan']>[0]) => {
            scans += 1;
            return target.scan(range);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const replica = new ReplicaStore(store);
    // Keys in every third slot of 0..297; the others are empty.
    for (let i = 0; i < 100; i++) await replica.putRecord(keyOf(i), i * 3, recordOf(i));
    const asked = new Set(Array.from({ length: 100 }, (_, i) => i * 2)); // interleaved, over the one-by-one bound
    scans = 0;
    // Two callers at once (a copy asks per source): the second waits for the first's scan and its cache.
    const others = new Set(Array.from({ length: 99 }, (_, i) => i * 2 + 1));
    const [wide, odd] = await Promise.all([replica.slotDigests(asked), replica.slotDigests(others)]);
    expect(scans).toBe(1);
    expect(odd.size).toBe(99);
    expect([...wide.keys()].sort((a, b) => a - b)).toEqual([...asked]);
    const oneByOne = new ReplicaStore(inner);
    for (let slot = 0; slot <= 198; slot++) {
      // Asked or in between: served from that one scan.
      const cached = (await replica.slotDigests(new Set([slot]))).get(slot)!;
      expect(cached).toEqual((await oneByOne.slotDigests(new Set([slot]))).get(slot));
      expect(cached.byMinN[0]!.count).toBe(slot % 3 === 0 ? 1 : 0);
    }
    expect(scans).toBe(1);
    // A write through the class drops its slot's digest: the next request reads the slot again.
    await replica.putRecord(keyOf(200), 3, recordOf(200));
    const after = (await replica.slotDigests(new Set([3]))).get(3)!;
    expect(scans).toBe(2);
    expect(after.byMinN[0]!.count).toBe(2);
    expect(after).toEqual((await new ReplicaStore(inner).slotDigests(new Set([3]))).get(3));
  });
});

describe('ReplicaStore stored bytes from a peer', () => {
  it('keeps canonical bytes as they are and re-encodes others, so a hidden duplicate key is not stored', async () => {
    const memory = await openMemoryStore();
    const replica = new ReplicaStore(memory);
    const record = recordOf(7);
    const wire = recordToWire(record);
    const canonical = encodeValue({ v: REPLICA_FORMAT_VERSION, s: wire });
    const fromCanonical = recordFromStored(canonical);
    expect(fromCanonical).toEqual(record);
    // A map with `s` twice: decoders keeping the last see the record; the first value rides along.
    const hidden = Uint8Array.from([
      0xa3,
      ...encodeValue('v'),
      ...encodeValue(REPLICA_FORMAT_VERSION),
      ...encodeValue('s'),
      ...encodeValue(new Uint8Array(256).fill(0x41)),
      ...encodeValue('s'),
      ...encodeValue(wire),
    ]);
    const fromHidden = recordFromStored(hidden);
    expect(fromHidden).toEqual(record);
    await replica.putRecord(keyOf(1), 1, fromCanonical);
    await replica.putRecord(keyOf(2), 1, fromHidden);
    expect(await memory.get(keyOf(1))).toEqual(canonical);
    expect(await memory.get(keyOf(2))).toEqual(canonical);
  });
});
