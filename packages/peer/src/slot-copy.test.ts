import { type SlotMap, validateSlotMap } from '@tessera/coordinator';
import { encodeValue, SLOT_COUNT } from '@tessera/core';
import {
  emptyDigest,
  mint,
  REPLICA_FORMAT_VERSION,
  type ReplicaOp,
  recordsPageAdvances,
  recordToWire,
} from '@tessera/replication';
import { describe, expect, it } from 'vitest';
import { SlotCopyError } from './errors.ts';
import { copySlots, type SlotCopyDeps } from './slot-copy.ts';

// Peer input handling of the copy; the copy itself is proven end to end in slot-map.test.ts.
const current: SlotMap = {
  epoch: 1,
  replicas: 3,
  ranges: [{ start: 0, end: SLOT_COUNT - 1, owners: ['p1', 'p2', 'p3'], epoch: 1 }],
};

/** A peer whose replica holds nothing (`localEmpty`) or something of every slot, and sources that `answer`. */
function deps(
  answer: (peer: string, ops: readonly ReplicaOp[]) => Promise<readonly unknown[]>,
  { localEmpty = true } = {},
) {
  const applied: ReplicaOp[] = [];
  const d: SlotCopyDeps = {
    selfId: 'me',
    isUp: () => true,
    sourcesNeeded: (owners) => owners - 1,
    applyLocal: async (ops) => {
      applied.push(...ops);
      return ops.map(() => ({ ok: true }));
    },
    call: async (peer, ops) => {
      if (peer === 'me') {
        applied.push(...ops.filter((op) => op.op === 'apply'));
        if (ops[0]?.op === 'digests') {
          const digest = localEmpty ? emptyDigest : new Uint8Array(8);
          return [{ ok: true, digests: ops[0].slots.map(() => digest) }];
        }
        if (ops[0]?.op === 'entries') return ops.map(() => ({ ok: true, entries: [], more: false }));
        return ops.map(() => ({ ok: true }));
      }
      return answer(peer, ops);
    },
  };
  return { d, applied };
}

describe('copySlots on bad or missing sources', () => {
  it('refuses a malformed reply from a source and applies nothing from it', async () => {
    expect(() => validateSlotMap(current)).not.toThrow();
    const { d, applied } = deps(async () => [{ ok: true, digests: 'not an array' }]);
    const error = await copySlots(d, current, [5, 6], new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlotCopyError);
    expect(String(error)).toContain('could not be copied from enough owners');
    expect(applied).toEqual([]);
  });

  it('refuses a record that is not a record, and a source answering with an error result', async () => {
    const key = new Uint8Array([1, 2, 3]);
    const { d, applied } = deps(
      async (peer, ops) => {
        if (ops[0]?.op === 'digests')
          return [{ ok: true, digests: ops[0].slots.map(() => new Uint8Array([9])) }];
        if (ops[0]?.op === 'entries')
          return ops.map(() => ({ ok: true, entries: [[key, new Uint8Array([7])]], more: false }));
        if (peer === 'p1') return ops.map(() => ({ ok: true, record: [{ bogus: true }] }));
        return ops.map(() => ({ ok: false, code: 'ERR_INTERNAL', message: 'no' }));
      },
      { localEmpty: false },
    );
    const error = await copySlots(d, current, [5], new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlotCopyError);
    expect(applied).toEqual([]);
  });

  it('succeeds with one of three sources down when two suffice, fails when two are down', async () => {
    const empty = async (_peer: string, ops: readonly ReplicaOp[]) =>
      ops[0]?.op === 'digests' ? [{ ok: true, digests: ops[0].slots.map(() => emptyDigest) }] : [];
    const one = deps(async (peer, ops) => {
      if (peer === 'p3') throw new Error('unreachable');
      return empty(peer, ops);
    });
    const report = await copySlots(one.d, current, [1, 2, 3], new AbortController().signal);
    expect(report).toMatchObject({ slots: 3, differing: 0, records: 0, failedSources: ['p3'] });
    const two = deps(async (peer, ops) => {
      if (peer !== 'p1') throw new Error('unreachable');
      return empty(peer, ops);
    });
    await expect(copySlots(two.d, current, [1, 2, 3], new AbortController().signal)).rejects.toBeInstanceOf(
      SlotCopyError,
    );
  });

  it('stops when the proposal ends', async () => {
    const controller = new AbortController();
    controller.abort();
    const { d } = deps(async () => [{ ok: true, digests: [] }]);
    await expect(copySlots(d, current, [1], controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('copySlots against model sources', () => {
  /** One replica's keys per slot: key hex -> (key, version hash). Entries are served in key order, paged. */
  type Replica = Map<number, Map<string, { key: Uint8Array; hash: Uint8Array }>>;
  const keyOf = (slot: number, n: number) => new Uint8Array([slot >> 8, slot & 255, n]);
  const hexOf = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  const record = recordToWire(
    mint([], { actor: 'p1', clock: 1, payload: { bytes: new Uint8Array([1]), mintedMs: 0 } }).record,
  );
  /** The record as a replica stores it: what `records` pages carry. */
  const stored = encodeValue({ v: REPLICA_FORMAT_VERSION, s: record });
  /** Sources whose digests always differ from this peer's, answering every `records` op with `page(peer)`. */
  const paging = (page: (peer: string) => { records: unknown[]; more: boolean }) =>
    deps(async (peer, ops) =>
      ops[0]?.op === 'digests'
        ? [{ ok: true, digests: ops[0].slots.map(() => new Uint8Array([9])) }]
        : ops.map(() => ({ ok: true, ...page(peer) })),
    );

  function serve(replica: Replica, ops: readonly ReplicaOp[]): unknown[] {
    return ops.map((op, index) => {
      if (op.op === 'digests') {
        // A digest that differs whenever the slot's (key, hash) set does.
        return {
          ok: true,
          digests: op.slots.map((slot) =>
            (replica.get(slot)?.size ?? 0) === 0
              ? emptyDigest
              : new TextEncoder().encode(
                  [...(replica.get(slot) ?? new Map()).values()]
                    .map((e) => hexOf(e.key) + hexOf(e.hash))
                    .sort()
                    .join(','),
                ),
          ),
        };
      }
      if (op.op === 'entries') {
        const sorted = [...(replica.get(op.slot) ?? new Map()).values()].sort((a, b) =>
          hexOf(a.key) < hexOf(b.key) ? -1 : 1,
        );
        const from = op.after === null ? sorted : sorted.filter((e) => hexOf(e.key) > hexOf(op.after!));
        return {
          ok: true,
          entries: from.slice(0, op.limit).map((e) => [e.key, e.hash]),
          more: from.length > op.limit,
        };
      }
      if (op.op === 'read') return { ok: true, record };
      if (op.op === 'records') {
        // Slot-index order, as a replica serves them (b comes after a when a page [b] advances past a).
        const sorted = [...(replica.get(op.slot) ?? new Map()).values()].sort((a, b) =>
          recordsPageAdvances(op.slot, a.key, [b.key]) ? -1 : 1,
        );
        const from =
          op.after === null ? sorted : sorted.filter((e) => recordsPageAdvances(op.slot, op.after, [e.key]));
        // Like a real source at its frame's byte budget: every third page after a frame's first comes
        // back empty, "more" (the first op of a frame always gets its first record).
        recordsPages += 1;
        if (index > 0 && recordsPages % 3 === 0 && from.length > 0)
          return { ok: true, records: [], more: true };
        const page = from.slice(0, Math.min(op.limit, 5));
        return { ok: true, records: page.map((e) => [e.key, stored]), more: from.length > page.length };
      }
      return { ok: true };
    });
  }
  let recordsPages = 0;

  it('pulls the slots it holds nothing of whole, page by page, and diffs the others', async () => {
    const source: Replica = new Map();
    const mine: Replica = new Map();
    const slots = Array.from({ length: 60 }, (_, i) => i * 11);
    const expected = new Set<string>();
    for (const slot of slots) {
      const count = slot % 4 === 0 ? 23 : slot % 4;
      const theirs = new Map<string, { key: Uint8Array; hash: Uint8Array }>();
      const ours = new Map<string, { key: Uint8Array; hash: Uint8Array }>();
      for (let n = 0; n < count; n++) {
        const key = keyOf(slot, n);
        theirs.set(hexOf(key), { key, hash: new Uint8Array([1]) });
        // Odd slots: this peer has the first key already (diff path); even ones nothing (whole pull).
        if (slot % 2 === 1 && n === 0) ours.set(hexOf(key), { key, hash: new Uint8Array([1]) });
        else expected.add(hexOf(key));
      }
      source.set(slot, theirs);
      mine.set(slot, ours);
    }
    const applied: { key: string; slot: number }[] = [];
    const asked = { records: 0, entries: 0, read: 0 };
    const d: SlotCopyDeps = {
      selfId: 'me',
      isUp: () => true,
      sourcesNeeded: () => 1,
      applyLocal: async (ops) => {
        for (const op of ops) applied.push({ key: hexOf(op.key), slot: op.slot });
        return ops.map(() => ({ ok: true }));
      },
      call: async (peer, ops) => {
        for (const op of ops) {
          if (peer !== 'me' && (op.op === 'records' || op.op === 'entries' || op.op === 'read'))
            asked[op.op] += 1;
        }
        return serve(peer === 'me' ? mine : source, ops);
      },
    };
    const one: SlotMap = {
      epoch: 1,
      replicas: 1,
      ranges: [{ start: 0, end: SLOT_COUNT - 1, owners: ['p1'], epoch: 1 }],
    };
    const report = await copySlots(d, one, slots, new AbortController().signal);
    expect(new Set(applied.map((a) => a.key))).toEqual(expected);
    expect(applied).toHaveLength(expected.size);
    for (const a of applied) expect(a.slot).toBe(Number.parseInt(a.key.slice(0, 4), 16));
    expect(report.records).toBe(expected.size);
    // Both paths ran: whole pulls for the empty slots, entries and reads for the others.
    expect(asked.records).toBeGreaterThan(0);
    expect(asked.entries).toBeGreaterThan(0);
    expect(asked.read).toBeGreaterThan(0);
  });

  it('fails a source that keeps answering "more" without records instead of asking forever', async () => {
    const { d, applied } = paging(() => ({ records: [], more: true }));
    const error = await copySlots(d, current, [5, 6], new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlotCopyError);
    expect(String(error)).toContain('no records');
    expect(applied).toEqual([]);
  });

  it('fails a source that sends the same page again and again instead of asking forever', async () => {
    const { d } = paging(() => ({ records: [[new Uint8Array([1]), stored]], more: true }));
    const error = await copySlots(d, current, [5], new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlotCopyError);
    expect(String(error)).toContain('out of order');
  });

  it('refuses a malformed records page and applies nothing from it', async () => {
    // One source sends a key that is not bytes, the other a record that is not stored bytes.
    const { d, applied } = paging((peer) => ({
      records: [peer === 'p1' ? ['not bytes', stored] : [new Uint8Array([1]), record]],
      more: false,
    }));
    const error = await copySlots(d, current, [5], new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlotCopyError);
    expect(applied).toEqual([]);
  });

  it('refuses stored bytes that carry more than a record, another format, or no CBOR at all', async () => {
    const lies = [
      encodeValue({ v: REPLICA_FORMAT_VERSION, s: record, extra: new Uint8Array(64) }),
      encodeValue({ v: REPLICA_FORMAT_VERSION, s: [{ ...record[0]!, junk: new Uint8Array(64) }] }),
      encodeValue({
        v: REPLICA_FORMAT_VERSION,
        s: [{ ...record[0]!, value: { ...record[0]!.value, junk: 1 } }],
      }),
      encodeValue({ v: REPLICA_FORMAT_VERSION + 1, s: record }),
      encodeValue({ v: REPLICA_FORMAT_VERSION, s: [{ bogus: true }] }),
      new Uint8Array([0xff, 0x00, 0x13]),
    ];
    for (const lie of lies) {
      const { d, applied } = paging(() => ({ records: [[new Uint8Array([1]), lie]], more: false }));
      const error = await copySlots(d, current, [5], new AbortController().signal).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SlotCopyError);
      expect(String(error)).toContain('records[0]');
      expect(applied).toEqual([]);
    }
    // The honest form of the same record is taken.
    const { d, applied } = paging(() => ({ records: [[new Uint8Array([1]), stored]], more: false }));
    // This model's own digest never changes, so every source's page is merged (the last merges no-op).
    const report = await copySlots(d, current, [5], new AbortController().signal);
    expect(report.records).toBeGreaterThanOrEqual(2);
    expect(applied).toHaveLength(report.records);
  });

  it('copies exactly the keys this peer lacks or holds at another version, sharing frames across slots', async () => {
    const source: Replica = new Map();
    const mine: Replica = new Map();
    const slots = Array.from({ length: 100 }, (_, i) => i * 7);
    const expected = new Set<string>();
    for (const slot of slots) {
      // Slot 7 holds 40 keys: more than one entries page, so paging is followed within a shared frame.
      const count = slot === 7 ? 40 : slot % 3;
      const theirs = new Map<string, { key: Uint8Array; hash: Uint8Array }>();
      const ours = new Map<string, { key: Uint8Array; hash: Uint8Array }>();
      for (let n = 0; n < count; n++) {
        const key = keyOf(slot, n);
        theirs.set(hexOf(key), { key, hash: new Uint8Array([1]) });
        // This peer already has every third key at the same version and every fifth at an older one.
        if (n % 3 === 0) ours.set(hexOf(key), { key, hash: new Uint8Array([1]) });
        else if (n % 5 === 0) ours.set(hexOf(key), { key, hash: new Uint8Array([0]) });
        if (n % 3 !== 0) expected.add(hexOf(key));
      }
      source.set(slot, theirs);
      mine.set(slot, ours);
    }
    const applied: { key: string; slot: number }[] = [];
    let entriesFrames = 0;
    const d: SlotCopyDeps = {
      selfId: 'me',
      isUp: () => true,
      sourcesNeeded: () => 1,
      applyLocal: async (ops) => {
        for (const op of ops) applied.push({ key: hexOf(op.key), slot: op.slot });
        return ops.map(() => ({ ok: true }));
      },
      call: async (peer, ops) => {
        if (ops[0]?.op === 'entries' && peer !== 'me') entriesFrames += 1;
        return serve(peer === 'me' ? mine : source, ops);
      },
    };
    const one: SlotMap = {
      epoch: 1,
      replicas: 1,
      ranges: [{ start: 0, end: SLOT_COUNT - 1, owners: ['p1'], epoch: 1 }],
    };
    const progress: number[] = [];
    const report = await copySlots(d, one, slots, new AbortController().signal, (done) =>
      progress.push(done),
    );
    expect(new Set(applied.map((a) => a.key))).toEqual(expected);
    expect(applied).toHaveLength(expected.size);
    // Each record is applied under the slot it came from.
    for (const a of applied) expect(a.slot).toBe(Number.parseInt(a.key.slice(0, 4), 16));
    expect(report.records).toBe(expected.size);
    // Slots with nothing to copy are done after the digests; the differing ones share entries frames.
    expect(report.differing).toBeLessThan(slots.length);
    expect(entriesFrames).toBeLessThan(report.differing);
    expect(progress.at(-1)).toBe(slots.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });
});
