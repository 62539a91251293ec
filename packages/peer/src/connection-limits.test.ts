/**
 * Bounds per remote peer on real loopback TCP: a peer that keeps opening new
 * connections to another is refused past `CONNECTIONS_PER_PEER_MAX`, and
 * the refused peer's existing connections and other peers keep working.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { openMemoryStore } from '@tessera/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { createPeer, type Peer } from './index.ts';
import { CONNECTIONS_PER_PEER_MAX } from './network-limits.ts';
import { waitFor } from './testing/wait.ts';

const running: Peer[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((peer) => peer.stop()));
});

async function start(): Promise<Peer> {
  const peer = await createPeer({ storage: await openMemoryStore(), cluster: 'limits', role: 'client' });
  running.push(peer);
  return peer;
}

describe('connections per remote peer', () => {
  it(`refuses a peer's connection number ${CONNECTIONS_PER_PEER_MAX + 1} and keeps serving the first ones`, async () => {
    const target = await start();
    const flooder = await start();
    const other = await start();
    const address = multiaddr(target.multiaddrs.find((a) => !a.includes('/ws')) as string);
    for (let i = 0; i < CONNECTIONS_PER_PEER_MAX + 3; i++) {
      // The dialing side may finish its upgrade before the target refuses; the target's count is what holds.
      await flooder.libp2p
        .dial(address, { force: true, signal: AbortSignal.timeout(10_000) })
        .catch(() => undefined);
      expect(target.libp2p.getConnections(flooder.libp2p.peerId).length).toBeLessThanOrEqual(
        CONNECTIONS_PER_PEER_MAX,
      );
    }
    // Without the bound every forced dial would have added one.
    expect(target.libp2p.getConnections(flooder.libp2p.peerId).length).toBe(CONNECTIONS_PER_PEER_MAX);
    await waitFor(
      () => flooder.libp2p.getConnections(target.libp2p.peerId).length <= CONNECTIONS_PER_PEER_MAX,
      {
        what: 'the flooder sees the refused connections closed',
      },
    );
    // The flooder's accepted connections still carry streams, and another peer still connects.
    await expect(flooder.libp2p.services.ping.ping(target.libp2p.peerId)).resolves.toBeGreaterThanOrEqual(0);
    // libp2p also rate-limits inbound connections per IP (inboundConnectionThreshold per second),
    // and every test peer is 127.0.0.1: retry until the window has passed.
    await waitFor(
      async () => {
        await other.libp2p.dial(address, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
        return target.libp2p.getConnections(other.libp2p.peerId).length > 0;
      },
      { what: 'another peer connects', intervalMs: 250 },
    );
  });
});
