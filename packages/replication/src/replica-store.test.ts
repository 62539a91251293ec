import { type BatchOp, openMemoryStore, type Store } from '@tessera/storage';
import { describe, expect, it } from 'vitest';
import { mint } from './record.ts';
import { ReplicaStore } from './replica-store.ts';

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
