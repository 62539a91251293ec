import { encodeValue, LamportClock } from '@tessera/core';
import { openMemoryStore } from '@tessera/storage';
import { describe, expect, it } from 'vitest';
import { decodeRequest, FRAME_VERSION } from './frames.ts';
import { createPeerCaller } from './peer-call.ts';
import { ReplicaService } from './replica.ts';
import { ReplicaStore } from './replica-store.ts';
import type { ReplicaTransport } from './transport.ts';

const enc = (text: string) => new TextEncoder().encode(text);

describe('PeerCaller frames per peer', () => {
  it('calls of one turn share a frame; a malformed result fails only its own call', async () => {
    const frames: Uint8Array[] = [];
    const transport: ReplicaTransport = {
      selfId: 'self',
      handle: () => undefined,
      async request(_peer, frame) {
        frames.push(frame);
        const { ops } = decodeRequest(frame);
        // The peer answers the first op well and the second with a result that is not a map.
        const results = ops.map((_op, i) => (i === 1 ? 'not a result' : { ok: true, record: null }));
        return encodeValue({ v: FRAME_VERSION, clock: 1, results });
      },
    };
    const clock = new LamportClock();
    const replica = new ReplicaService({
      store: new ReplicaStore(await openMemoryStore()),
      actor: 'self~1',
      clock,
      now: () => 0,
      idempotencyTtlMs: 1000,
    });
    const caller = createPeerCaller(transport, replica, clock, () => 1000);
    const [first, second] = await Promise.allSettled([
      caller.call('other', [{ op: 'read', key: enc('a') }]),
      caller.call('other', [{ op: 'read', key: enc('b') }]),
    ]);
    expect(frames.length).toBe(1);
    expect(decodeRequest(frames[0]!).ops.map((op) => op.op)).toEqual(['read', 'read']);
    expect(first).toEqual({ status: 'fulfilled', value: [{ ok: true, record: null }] });
    expect(second.status).toBe('rejected');
    expect((second as PromiseRejectedResult).reason).toMatchObject({ name: 'BadFrameError' });
  });
});
