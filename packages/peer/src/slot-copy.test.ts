import { type SlotMap, validateSlotMap } from '@tessera/coordinator';
import { SLOT_COUNT } from '@tessera/core';
import type { ReplicaOp } from '@tessera/replication';
import { describe, expect, it } from 'vitest';
import { SlotCopyError } from './errors.ts';
import { copySlots, type SlotCopyDeps } from './slot-copy.ts';

// Peer input handling of the copy; the copy itself is proven end to end in slot-map.test.ts.
const current: SlotMap = {
  epoch: 1,
  replicas: 3,
  ranges: [{ start: 0, end: SLOT_COUNT - 1, owners: ['p1', 'p2', 'p3'], epoch: 1 }],
};

function deps(answer: (peer: string, ops: readonly ReplicaOp[]) => Promise<readonly unknown[]>) {
  const applied: ReplicaOp[] = [];
  const d: SlotCopyDeps = {
    selfId: 'me',
    isUp: () => true,
    sourcesNeeded: (owners) => owners - 1,
    call: async (peer, ops) => {
      if (peer === 'me') {
        applied.push(...ops.filter((op) => op.op === 'apply'));
        if (ops[0]?.op === 'digests')
          return [{ ok: true, digests: ops[0].slots.map(() => new Uint8Array(8)) }];
        if (ops[0]?.op === 'entries') return [{ ok: true, entries: [], more: false }];
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
    const { d, applied } = deps(async (peer, ops) => {
      if (ops[0]?.op === 'digests')
        return [{ ok: true, digests: ops[0].slots.map(() => new Uint8Array([9])) }];
      if (ops[0]?.op === 'entries') return [{ ok: true, entries: [[key, new Uint8Array([7])]], more: false }];
      if (peer === 'p1') return ops.map(() => ({ ok: true, record: [{ bogus: true }] }));
      return ops.map(() => ({ ok: false, code: 'ERR_INTERNAL', message: 'no' }));
    });
    const error = await copySlots(d, current, [5], new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlotCopyError);
    expect(applied).toEqual([]);
  });

  it('succeeds with one of three sources down when two suffice, fails when two are down', async () => {
    const empty = async (_peer: string, ops: readonly ReplicaOp[]) =>
      ops[0]?.op === 'digests' ? [{ ok: true, digests: ops[0].slots.map(() => new Uint8Array(8)) }] : [];
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
