import { decodeValue, encodeValue } from '@tessera/core';
import { openMemoryStore, type Store } from '@tessera/storage';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeReply, decodeRequest, encodeRequest, FRAME_VERSION, type ReplicaOp } from './frames.ts';
import { frameBytesMax, opsPerFrameMax } from './limits.ts';
import { mint } from './record.ts';
import { recordToWire } from './record-codec.ts';
import { Replicator } from './replicator.ts';
import { resultFromWire } from './replies.ts';
import { MemoryReplicaNetwork, StaticPlacement, testTimers } from './testing/index.ts';

const enc = (text: string) => new TextEncoder().encode(text);

async function storeSize(store: Store): Promise<number> {
  let count = 0;
  for await (const _ of store.scan()) count += 1;
  return count;
}

/** One replica behind a raw handler, so tests can hand it any bytes as if from a peer. */
async function replicaUnderTest() {
  const network = new MemoryReplicaNetwork({ seed: 1 });
  const store = await openMemoryStore();
  const transport = network.transport('peer-0');
  let handler: ((frame: Uint8Array, from: string) => Promise<Uint8Array>) | undefined;
  const replicator = await Replicator.open({
    transport: { ...transport, handle: (h) => (handler = h) },
    placement: new StaticPlacement(['peer-0', 'peer-1', 'peer-2'], 3),
    store,
    timers: testTimers(),
    incarnation: 'test',
  });
  return { store, replicator, send: (bytes: Uint8Array) => handler!(bytes, 'peer-1') };
}

const validRecord = mint([], {
  actor: 'peer-1~a',
  clock: 5,
  payload: { bytes: enc('v'), mintedMs: 1 },
}).record;
const applyOp = (key: string): ReplicaOp => ({ op: 'apply', key: enc(key), slot: 7, record: validRecord });

function expectBadFrame(reply: Uint8Array, code = 'ERR_BAD_FRAME') {
  const decoded = decodeReply(reply, 0);
  expect('error' in decoded && decoded.error.code).toBe(code);
}

describe('frames', () => {
  it('round-trips every op kind', () => {
    const ops: ReplicaOp[] = [
      applyOp('a'),
      {
        op: 'mint',
        key: enc('b'),
        slot: 1,
        deleted: false,
        value: enc('x'),
        context: { 'p~1': 3 },
        idempotencyKey: 'i',
      },
      { op: 'mint', key: enc('b'), slot: 1, deleted: true, value: null, context: null, idempotencyKey: null },
      { op: 'read', key: enc('c') },
      { op: 'digests', slots: [0, 16383], minN: 3 },
      { op: 'children', slot: 5, minN: 1, level: 1, parents: [0, 15] },
      { op: 'entries', slot: 2, minN: 10, level: 4, bucket: 65535, after: enc('k'), limit: 10 },
      { op: 'reap', key: enc('d'), slot: 3, versionHash: new Uint8Array(8) },
      { op: 'records', slot: 4, minN: 1, after: null, limit: 64 },
      { op: 'records', slot: 4, minN: 3, after: enc('e'), limit: 1 },
    ];
    const decoded = decodeRequest(encodeRequest(9, ops));
    expect(decoded.clock).toBe(9);
    // structuredClone turns Node Buffers (what cbor-x decodes bytes to) into plain Uint8Arrays.
    expect(structuredClone(decoded.ops)).toEqual(ops);
  });

  it('answers records pages within one byte budget per frame, always with the first record, and pages on', async () => {
    const { send } = await replicaUnderTest();
    const big = (n: number) =>
      mint([], {
        actor: 'peer-1~a',
        clock: 5 + n,
        payload: { bytes: new Uint8Array(200_000).fill(n), mintedMs: 1 },
      }).record;
    const keys = ['r1', 'r2', 'r3'].map(enc);
    const put = decodeReply(
      await send(
        encodeRequest(
          1,
          keys.map((key, n) => ({ op: 'apply', key, slot: 7, record: big(n) })),
        ),
      ),
      3,
    );
    expect('results' in put && put.results.every((r) => (r as { ok: boolean }).ok)).toBe(true);
    const page = async (ops: ReplicaOp[]) => {
      const reply = decodeReply(await send(encodeRequest(2, ops)), ops.length);
      if (!('results' in reply)) throw new Error('frame refused');
      return reply.results.map((raw, i) => resultFromWire(ops[i]!, raw, `results[${i}]`)) as unknown as {
        records: [Uint8Array, unknown][];
        more: boolean;
      }[];
    };
    const [first, second] = await page([
      { op: 'records', slot: 7, after: null, limit: 10 },
      { op: 'records', slot: 7, after: null, limit: 10 },
    ]);
    // 512 KiB of stored bytes per frame: two 200 kB records, then nothing more for either op.
    expect(first!.records).toHaveLength(2);
    expect(first!.more).toBe(true);
    expect(second!.records).toHaveLength(0);
    expect(second!.more).toBe(true);
    const [rest] = await page([{ op: 'records', slot: 7, after: first!.records[1]![0], limit: 10 }]);
    expect(rest!.records).toHaveLength(1);
    expect(rest!.more).toBe(false);
    const seen = [...first!.records, ...rest!.records].map(([key]) => new TextDecoder().decode(key)).sort();
    expect(seen).toEqual(['r1', 'r2', 'r3']);
    // Another slot's records are not in this slot's pages, and a bad limit is a bad frame.
    const [other] = await page([{ op: 'records', slot: 8, after: null, limit: 10 }]);
    expect(other!.records).toHaveLength(0);
    expectBadFrame(await send(encodeRequest(3, [{ op: 'records', slot: 7, after: null, limit: 0 }])));
  });

  it('applies a valid frame from a peer', async () => {
    const { store, send } = await replicaUnderTest();
    const reply = decodeReply(await send(encodeRequest(1, [applyOp('a'), applyOp('b')])), 2);
    expect('results' in reply && reply.results).toEqual([{ ok: true }, { ok: true }]);
    expect(await storeSize(store)).toBe(4); // two records and their slot-index entries
  });

  it('refuses a frame with one bad op among good ones and writes none of it', async () => {
    const { store, send } = await replicaUnderTest();
    const frame = decodeValue<{ ops: Record<string, unknown>[] }>(
      encodeRequest(1, [applyOp('a'), applyOp('b')]),
    );
    const [sibling] = recordToWire(validRecord);
    const badRecords = [
      [], // no siblings
      [{ ...sibling, dot: { replica: 'peer-1~a', counter: -1 } }],
      [{ ...sibling, value: { bytes: enc('a value'), mintedMs: Number.NaN } }],
      [{ ...sibling, context: { z: 0 } }],
      [sibling, sibling], // duplicate dot
    ];
    for (const record of badRecords) {
      frame.ops[1] = { ...frame.ops[1], record };
      expectBadFrame(await send(encodeValue(frame)));
    }
    frame.ops[1] = { op: 'apply', key: enc('b'), slot: 16384, record: recordToWire(validRecord) };
    expectBadFrame(await send(encodeValue(frame)));
    frame.ops[1] = { op: 'drop-table', key: enc('b') };
    expectBadFrame(await send(encodeValue(frame)));
    expect(await storeSize(store)).toBe(0);
  });

  it('refuses frames over the limits, of the wrong version, and clock jumps', async () => {
    const { store, send } = await replicaUnderTest();
    expectBadFrame(await send(new Uint8Array(frameBytesMax + 1)));
    const tooMany = Array.from(
      { length: opsPerFrameMax + 1 },
      (_, i) => recordToWire(validRecord) && { op: 'read', key: enc(`${i}`) },
    );
    expectBadFrame(await send(encodeValue({ v: FRAME_VERSION, clock: 1, ops: tooMany })));
    expectBadFrame(await send(encodeValue({ v: 1, clock: 1, ops: [{ op: 'read', key: enc('a') }] })));
    expectBadFrame(
      await send(encodeValue({ v: FRAME_VERSION, clock: -1, ops: [{ op: 'read', key: enc('a') }] })),
    );
    expectBadFrame(
      await send(encodeValue({ v: FRAME_VERSION, clock: 2 ** 52, ops: [{ op: 'read', key: enc('a') }] })),
      'ERR_CLOCK_JUMP',
    );
    expectBadFrame(await send(encodeValue([1, 2, 3])));
    // Hash-tree ops: thresholds, levels and buckets outside the tree are refused.
    const treeOps = [
      { op: 'digests', slots: [1], minN: 0 },
      { op: 'digests', slots: [1], minN: 11 },
      { op: 'children', slot: 1, minN: 3, level: 4, parents: [0] },
      { op: 'children', slot: 1, minN: 3, level: 1, parents: [16] },
      { op: 'children', slot: 1, minN: 3, level: 0, parents: [] },
      { op: 'children', slot: 1, minN: 3, level: 1, parents: [3, 3] },
      { op: 'children', slot: 1, minN: 3, level: 1, parents: [4, 2] },
      { op: 'children', slot: 1, minN: 3, level: 0, parents: Array.from({ length: 17 }, () => 0) },
      { op: 'entries', slot: 1, minN: 3, level: 2, bucket: 256, after: null, limit: 5 },
      { op: 'entries', slot: 1, minN: 3, level: 5, bucket: 0, after: null, limit: 5 },
      { op: 'entries', slot: 1, minN: 3, level: 0, bucket: 0, after: null, limit: 513 },
    ];
    for (const op of treeOps)
      expectBadFrame(await send(encodeValue({ v: FRAME_VERSION, clock: 1, ops: [op] })));
    expect(() => encodeRequest(1, [])).toThrow(/ops per frame/);
    expect(await storeSize(store)).toBe(0);
  });

  it('never crashes and never writes on arbitrary bytes or arbitrary CBOR from a peer', async () => {
    const { store, send } = await replicaUnderTest();
    const seed = Math.floor(Math.random() * 2 ** 31);
    console.info(`frames fuzz seed ${seed}`);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.anything().map((value) => encodeValue({ v: FRAME_VERSION, clock: 1, ops: [value] })),
          fc
            .record({
              op: fc.constantFrom('apply', 'mint', 'read', 'reap', 'entries'),
              key: fc.anything(),
              slot: fc.anything(),
            })
            .map((op) => encodeValue({ v: FRAME_VERSION, clock: 1, ops: [op] })),
        ),
        async (bytes) => {
          const reply = await send(bytes);
          const decoded = decodeReply(reply, 1);
          if ('results' in decoded) {
            // Only a well-formed read can pass; reads write nothing.
            expect(decodeRequest(bytes).ops.every((op) => op.op === 'read')).toBe(true);
          }
        },
      ),
      { seed, numRuns: 300 },
    );
    expect(await storeSize(store)).toBe(0);
  });
});
