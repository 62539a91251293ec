import { createPeer, type Peer } from '@tessera/peer';
import { openMemoryStore } from '@tessera/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { waitFor } from './testing/wait.ts';
import './testing/browser-command-types.ts';

const peers: Peer[] = [];
const processes: string[] = [];

async function startNodePeer(cluster: string) {
  const node = await commands.startPeerProcess({ cluster });
  processes.push(node.id);
  const ws = node.multiaddrs.find((address) => address.includes('/ws/'));
  if (ws === undefined) throw new Error(`no WebSockets address in ${node.multiaddrs.join(' ')}`);
  return { ...node, ws };
}

async function startBrowserPeer(cluster: string, bootstrap: string[]): Promise<Peer> {
  const peer = await createPeer({ storage: await openMemoryStore(), cluster, bootstrap });
  peers.push(peer);
  return peer;
}

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
  await Promise.all(processes.splice(0).map((id) => commands.stopPeerProcess(id)));
});

const text = (data: Uint8Array) => new TextDecoder().decode(data);
const bytes = (value: string) => new TextEncoder().encode(value);

describe('browser peers', () => {
  it('join a Node peer over WebSockets and exchange requests and gossip with it', async () => {
    const cluster = `ws-${crypto.randomUUID()}`;
    const node = await startNodePeer(cluster);
    const browser = await startBrowserPeer(cluster, [node.ws]);
    expect(browser.role).toBe('client');
    await waitFor(() => browser.network.connectedPeers().includes(node.id), {
      what: 'WebSockets connection',
    });

    const echo = await browser.network.request(node.id, bytes('hello node'));
    expect(text(echo)).toBe('hello node');

    const heard: string[] = [];
    browser.network.onBroadcast((data, from) => heard.push(`${from}:${text(data)}`));
    await waitFor(() => browser.network.meshPeers().includes(node.id), { what: 'gossip mesh' });
    await commands.sendPeerProcess(node.id, { cmd: 'broadcast', text: 'hello browsers' });
    await waitFor(() => heard.length > 0, { what: 'gossip from the Node peer' });
    expect(heard).toEqual([`${node.id}:hello browsers`]);
  });

  it('connect to each other over WebRTC through the relay and keep talking after it stops', async () => {
    const cluster = `rtc-${crypto.randomUUID()}`;
    const relay = await startNodePeer(cluster);
    const a = await startBrowserPeer(cluster, [relay.ws]);
    const b = await startBrowserPeer(cluster, [relay.ws]);

    const webrtcAddress = await waitFor(() => a.multiaddrs.find((address) => address.includes('/webrtc/')), {
      what: 'a relay reservation and a /webrtc address',
    });
    expect(webrtcAddress).toContain('/p2p-circuit/');
    await b.dial(webrtcAddress);
    const direct = await waitFor(
      () =>
        b.libp2p
          .getConnections(a.libp2p.peerId)
          .find(
            (connection) =>
              connection.remoteAddr.toString().includes('/webrtc') && connection.limits === undefined,
          ),
      { what: 'a direct WebRTC connection' },
    );
    expect(direct.status).toBe('open');

    await commands.stopPeerProcess(relay.id, 'kill');
    processes.splice(processes.indexOf(relay.id), 1);
    await waitFor(
      () => !a.network.connectedPeers().includes(relay.id) && !b.network.connectedPeers().includes(relay.id),
      {
        what: 'both browsers to notice the relay is gone',
      },
    );
    expect(b.network.connectedPeers()).toEqual([a.id]);

    a.network.onRequest(async (data, from) => bytes(`${text(data)} from ${from === b.id ? 'b' : from}`));
    const heard: string[] = [];
    b.network.onBroadcast((data, from) => heard.push(`${from === a.id ? 'a' : from}:${text(data)}`));
    await waitFor(() => b.network.meshPeers().includes(a.id) && a.network.meshPeers().includes(b.id), {
      what: 'a two-browser mesh',
    });
    for (let round = 1; round <= 3; round++) {
      expect(text(await b.network.request(a.id, bytes(`ask ${round}`)))).toBe(`ask ${round} from b`);
      a.network.broadcast(bytes(`tell ${round}`));
      await waitFor(() => heard.length === round, { what: `gossip round ${round}` });
    }
    expect(heard).toEqual(['a:tell 1', 'a:tell 2', 'a:tell 3']);
  });
});
