import { lpStream } from '@libp2p/utils';
import type { DroppedEvent } from '@tessera/coordinator';
import { openMemoryStore } from '@tessera/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { createPeer, type Peer } from './index.ts';
import { waitFor } from './testing/wait.ts';

const running: Peer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((peer) => peer.stop()));
});

async function pair(network: { frameBytesMax?: number } = {}): Promise<[Peer, Peer]> {
  const timing = { statePeriodMs: 200, syncPeriodMs: 500, syncIntervalMinMs: 100 };
  const a = await createPeer({ storage: await openMemoryStore(), cluster: 'bad', timing, network });
  running.push(a);
  const b = await createPeer({
    storage: await openMemoryStore(),
    cluster: 'bad',
    timing,
    bootstrap: a.multiaddrs,
  });
  running.push(b);
  await waitFor(() => a.network.meshPeers().includes(b.id) && b.network.meshPeers().includes(a.id), {
    what: 'mesh',
  });
  return [a, b];
}

describe('bad input over the real wire', () => {
  it('drops a coordinator frame whose sender field is not the gossipsub signer', async () => {
    const [victim, mallory] = await pair();
    const drops: DroppedEvent[] = [];
    victim.on('dropped', (event) => drops.push(event));
    // Mallory re-publishes the victim's own frames, signed with Mallory's key:
    // the frame says "from victim", the transport says "from mallory".
    mallory.network.onBroadcast((data, from) => {
      if (from === victim.id) mallory.network.broadcast(data);
    });
    const sent = await victim.publish({ messageType: 'test', eventType: 'created', payload: 'original' });
    await waitFor(() => drops.some((drop) => drop.reason === 'spoofedSender'), {
      what: 'a spoofedSender drop',
    });
    expect(drops.every((drop) => drop.reason === 'spoofedSender' && drop.from === mallory.id)).toBe(true);

    const log: unknown[] = [];
    for await (const message of victim.messages()) log.push([message.clock, message.from, message.payload]);
    expect(log).toEqual([[sent.clock, victim.id, 'original']]);
  });

  it('rejects an oversized request frame without crashing, and keeps serving catch-up', async () => {
    const [a, b] = await pair({ frameBytesMax: 8192 });
    await a.publish({ messageType: 'test', eventType: 'created', payload: 'before' });

    const stream = await b.libp2p.dialProtocol(a.libp2p.peerId, a.network.protocol);
    await lpStream(stream, { maxDataLength: 1 << 20 }).write(new Uint8Array(100_000).fill(0xff));
    await waitFor(() => a.network.stats.requestsRejected >= 1, {
      what: 'the oversized frame to be rejected',
    });
    stream.abort(new Error('test done'));

    // Garbage of an allowed size reaches the coordinator, which answers with an error frame.
    const garbage = await b.network.request(a.id, new Uint8Array([0xff, 0x00, 0x13]));
    expect(garbage.byteLength).toBeGreaterThan(0);

    await a.publish({ messageType: 'test', eventType: 'created', payload: 'after' });
    await waitFor(
      async () => {
        await b.coordinator.syncWith(a.id);
        const payloads: unknown[] = [];
        for await (const message of b.messages()) payloads.push(message.payload);
        return payloads.includes('before') && payloads.includes('after');
      },
      { what: 'catch-up from the peer that rejected the frame' },
    );
    expect(a.coordinator.running).toBe(true);
  });
});
