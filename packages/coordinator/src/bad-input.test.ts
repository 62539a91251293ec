import { decodeValue, encodeValue } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { createCoordinator } from './coordinator.ts';
import { Simulation } from './sim/simulation.ts';
import type { DropReason } from './types.ts';

const timing = {
  statePeriodMs: 200,
  suspectAfterMs: 1000,
  downAfterMs: 3000,
  syncPeriodMs: 1000,
  syncIntervalMinMs: 100,
};

/** One honest coordinator (p000), one honest raw peer (p001) and a raw attacker peer (evil). */
async function setup(limits = {}) {
  const sim = new Simulation({ seed: 3, delayMsMin: 1, delayMsMax: 5 });
  const env = await sim.addPeer('p000');
  const honest = await sim.addPeer('p001');
  const evil = await sim.addPeer('evil');
  const warnings: { message: string; fields: Record<string, unknown> | undefined }[] = [];
  const c = createCoordinator({
    ...env,
    cluster: 'sim',
    role: 'owner',
    timing,
    limits,
    logger: { debug() {}, warn: (message, fields) => warnings.push({ message, fields }) },
  });
  const started = c.start();
  await sim.runFor(1);
  await started;
  await sim.runFor(50);

  const snapshot = async () => {
    const entries: string[] = [];
    for await (const e of env.store.scan({})) {
      entries.push(`${Buffer.from(e.key).toString('hex')}=${Buffer.from(e.value).toString('hex')}`);
    }
    // Own state is republished on a timer; compare everything but this peer's own S record.
    return {
      messages: entries.filter((e) => e.startsWith('4d')),
      members: c
        .members()
        .map((m) => `${m.id}:${m.status}:${m.incarnation}:${m.id === 'p000' ? '' : m.state.version}`),
      clock: c.clock,
    };
  };
  const frame = (over: Record<string, unknown> = {}) =>
    encodeValue({
      v: 1,
      kind: 'message',
      from: 'evil',
      cluster: 'sim',
      clock: 5,
      incarnation: 1,
      time: 0,
      messageType: 'object',
      eventType: 'created',
      payload: null,
      ...over,
    });
  return { sim, c, env, honest, evil, warnings, snapshot, frame };
}

async function expectDropped(
  reason: DropReason,
  send: (s: Awaited<ReturnType<typeof setup>>) => void,
  limits = {},
): Promise<void> {
  const s = await setup(limits);
  const before = await s.snapshot();
  send(s);
  await s.sim.runFor(20);
  expect(s.c.stats().dropped[reason]).toBeGreaterThanOrEqual(1);
  expect(s.warnings.some((w) => w.fields?.reason === reason)).toBe(true);
  expect(await s.snapshot()).toEqual(before);
  // Not wedged: an honest message right after is accepted.
  s.evil.network.broadcast(s.frame({ clock: 7 }));
  await s.sim.runFor(20);
  expect(s.c.logSummary().count).toBe(1);
  expect(s.sim.errors).toEqual([]);
}

describe('bad input from other peers is dropped, logged and changes nothing', () => {
  it('malformed CBOR', async () => {
    await expectDropped('malformed', (s) =>
      s.evil.network.broadcast(Uint8Array.from([0xff, 0x00, 0x13, 0x9f])),
    );
  });

  it('well-formed CBOR of the wrong shape', async () => {
    await expectDropped('malformed', (s) => {
      s.evil.network.broadcast(encodeValue([1, 2, 3]));
      s.evil.network.broadcast(encodeValue({ v: 1, kind: 'message', from: 'evil' }));
      s.evil.network.broadcast(s.frame({ v: 99 }));
      s.evil.network.broadcast(
        encodeValue({ v: 1, kind: 'state', id: 'evil', cluster: 'sim', status: 'bogus' }),
      );
    });
  });

  it('wrong cluster name', async () => {
    await expectDropped('wrongCluster', (s) => s.evil.network.broadcast(s.frame({ cluster: 'other' })));
  });

  it('a message whose from is not the transport-verified sender', async () => {
    await expectDropped('spoofedSender', (s) => s.evil.network.broadcast(s.frame({ from: 'p001' })));
  });

  it('a node state whose id is not the transport-verified sender', async () => {
    await expectDropped('spoofedSender', (s) =>
      s.evil.network.broadcast(
        encodeValue({
          v: 1,
          kind: 'state',
          id: 'p001',
          cluster: 'sim',
          host: '',
          addresses: [],
          clock: 1,
          time: 0,
          status: 'down',
          role: 'owner',
          incarnation: 9,
          version: 1,
          storage: { usedBytes: 0, quotaBytes: null },
          log: { clock: 0, count: 0, hash: 0 },
        }),
      ),
    );
  });

  it('a message id reused with other content keeps the first, counted and logged', async () => {
    const s = await setup();
    s.evil.network.broadcast(s.frame({ clock: 9, payload: { n: 1 } }));
    await s.sim.runFor(20);
    const before = await s.snapshot();
    // The same (clock, origin) again: an identical copy is a plain duplicate, other bytes a collision.
    s.evil.network.broadcast(s.frame({ clock: 9, payload: { n: 1 } }));
    s.evil.network.broadcast(s.frame({ clock: 9, payload: { n: 2 } }));
    await s.sim.runFor(20);
    expect(s.c.stats().duplicates).toBe(2);
    expect(s.c.stats().idCollisions).toBe(1);
    expect(s.warnings.some((w) => w.message.includes('message id reused'))).toBe(true);
    expect((await s.snapshot()).messages).toEqual(before.messages);
    expect(s.sim.errors).toEqual([]);
  });

  it('an oversized message (messageBytesMax)', async () => {
    await expectDropped(
      'oversized',
      (s) => s.evil.network.broadcast(s.frame({ payload: 'x'.repeat(5000) })),
      { messageBytesMax: 4096, payloadBytesMax: 2048 },
    );
  });

  it('a clock jump beyond clockJumpMax', async () => {
    await expectDropped('clockJump', (s) => s.evil.network.broadcast(s.frame({ clock: 2 ** 32 + 1000 })));
  });

  it('a clock of 2^63', async () => {
    await expectDropped('clockJump', (s) => s.evil.network.broadcast(s.frame({ clock: 2n ** 63n })));
  });

  it('a flood beyond inboxFramesMax is shed as overloaded', async () => {
    const sim = new Simulation({ seed: 5 });
    const env = await sim.addPeer('p000');
    await sim.addPeer('evil');
    // Capture the gossip handler to call it faster than the inbox drains (the
    // simulator settles every delivery before the next, so it never floods).
    let deliver: ((data: Uint8Array, from: string) => void) | null = null;
    const network = {
      ...env.network,
      onBroadcast: (handler: (data: Uint8Array, from: string) => void) => {
        deliver = handler;
      },
    };
    const c = createCoordinator({
      ...env,
      network,
      cluster: 'sim',
      role: 'owner',
      timing,
      limits: { inboxFramesMax: 4 },
    });
    const started = c.start();
    await sim.runFor(1);
    await started;
    const frame = (clock: number) =>
      encodeValue({
        v: 1,
        kind: 'message',
        from: 'evil',
        cluster: 'sim',
        clock,
        incarnation: 1,
        time: 0,
        messageType: 'o',
        eventType: 'c',
        payload: null,
      });
    for (let i = 0; i < 20; i++) deliver!(frame(10 + i), 'evil');
    await sim.runFor(50);
    const { dropped } = c.stats();
    expect(dropped.overloaded).toBe(16);
    expect(c.logSummary().count).toBe(4);
    deliver!(frame(100), 'evil');
    await sim.runFor(50);
    expect(c.logSummary().count).toBe(5);
  });

  it('bad catch-up requests get an error response and change nothing', async () => {
    const s = await setup();
    const before = await s.snapshot();
    const ask = (data: Uint8Array) => {
      const p = s.evil.network.request('p000', data, { timeoutMs: 1000 });
      return s.sim.runFor(50).then(() => p);
    };
    const responses = [
      await ask(Uint8Array.from([0xff])),
      await ask(encodeValue({ v: 1, kind: 'digest', cluster: 'other', fromBucket: 0 })),
      await ask(
        encodeValue({ v: 1, kind: 'pull', cluster: 'sim', fromClock: -1, toClock: null, after: null }),
      ),
      await ask(
        encodeValue({ v: 1, kind: 'pull', cluster: 'sim', fromClock: 0, toClock: null, after: ['x'] }),
      ),
      await ask(new Uint8Array(10_000)),
    ];
    for (const r of responses) expect(decodeValue<{ kind: string }>(r).kind).toBe('error');
    expect(s.c.stats().dropped).toMatchObject({ malformed: 3, wrongCluster: 1, oversized: 1 });
    expect(await s.snapshot()).toEqual(before);
  });

  it('a peer serving garbage or lying pages during catch-up changes nothing', async () => {
    const s = await setup();
    const before = await s.snapshot();
    let n = 0;
    s.evil.network.onRequest(async () => {
      n += 1;
      if (n === 1) return Uint8Array.from([0xff, 0xff]);
      if (n === 2)
        return encodeValue({
          v: 1,
          kind: 'digest',
          bucketClocks: 64,
          buckets: [[0, 1, 5]],
          nextBucket: null,
        });
      // A page whose message lies outside the asked range, and one of another cluster.
      return encodeValue({
        v: 1,
        kind: 'page',
        more: false,
        messages: [s.frame({ clock: 100_000 }), s.frame({ clock: 3, cluster: 'other' })],
      });
    });
    const first = s.c.syncWith('evil').then(
      () => null,
      (error: unknown) => error,
    );
    await s.sim.runFor(50);
    expect(await first).toBeInstanceOf(Error);
    const second = s.c.syncWith('evil');
    await s.sim.runFor(50);
    expect(await second).toBe(0);
    expect(s.c.stats().dropped).toMatchObject({ malformed: 2, wrongCluster: 1 });
    expect(await s.snapshot()).toEqual(before);
  });
});
