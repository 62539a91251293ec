import { openMemoryStore } from '@tessera/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { CorruptIdentityError } from './errors.ts';
import { IDENTITY_KEY } from './identity.ts';
import { createPeer, type Peer } from './index.ts';
import { waitFor } from './testing/wait.ts';

const running: Peer[] = [];
async function start(...args: Parameters<typeof createPeer>): Promise<Peer> {
  const peer = await createPeer(...args);
  running.push(peer);
  return peer;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((peer) => peer.stop()));
});

describe('createPeer (Node)', () => {
  it('keeps its identity in the store, so a restarted peer has the same id', async () => {
    const storage = await openMemoryStore();
    const first = await createPeer({ storage, cluster: 'identity' });
    const id = first.id;
    await first.stop();
    await first.stop();
    const second = await start({ storage, cluster: 'identity' });
    expect(second.id).toBe(id);
    const other = await start({ storage: await openMemoryStore(), cluster: 'identity' });
    expect(other.id).not.toBe(id);
  });

  it('refuses a corrupt identity record instead of silently taking a new id', async () => {
    const storage = await openMemoryStore();
    await storage.put(IDENTITY_KEY, new Uint8Array([0x43, 1, 2, 3]));
    await expect(createPeer({ storage, cluster: 'identity' })).rejects.toBeInstanceOf(CorruptIdentityError);
  });

  it('listens on loopback TCP and WebSockets by default, with role owner', async () => {
    const peer = await start({ storage: await openMemoryStore(), cluster: 'defaults' });
    expect(peer.role).toBe('owner');
    expect(peer.multiaddrs.some((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//.test(a))).toBe(true);
    expect(peer.multiaddrs.some((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//.test(a))).toBe(true);
  });

  it('redials a bootstrap peer that went away and came back', async () => {
    const seedStore = await openMemoryStore();
    const seed = await createPeer({ storage: seedStore, cluster: 'boot' });
    const tcp = seed.multiaddrs.find((a) => !a.includes('/ws'));
    expect(tcp).toBeDefined();
    const joiner = await start({
      storage: await openMemoryStore(),
      cluster: 'boot',
      bootstrap: [tcp as string],
      bootstrapRetry: { delayMsMin: 50, delayMsMax: 500 },
    });
    await waitFor(() => joiner.network.connectedPeers().includes(seed.id), { what: 'first connection' });
    await seed.stop();
    await waitFor(() => !joiner.network.connectedPeers().includes(seed.id), { what: 'disconnect' });

    const port = /\/tcp\/(\d+)/.exec(tcp as string)?.[1];
    const again = await start({
      storage: seedStore,
      cluster: 'boot',
      listen: [`/ip4/127.0.0.1/tcp/${port}`],
    });
    expect(again.id).toBe(seed.id);
    await waitFor(() => joiner.network.connectedPeers().includes(seed.id), { what: 'redial' });
  });

  it('rejects bad options with InvalidArgumentError', async () => {
    const storage = await openMemoryStore();
    await expect(createPeer({ storage, cluster: '' })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    });
    await expect(createPeer({ storage, cluster: 'x', bootstrap: ['not a multiaddr'] })).rejects.toMatchObject(
      {
        name: 'InvalidArgumentError',
      },
    );
  });
});
