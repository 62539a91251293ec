import type { CoordinatorTiming, MessageEvent } from '@tessera/coordinator';
import { createPeer, type Peer } from '@tessera/peer';
import { openMemoryStore } from '@tessera/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { waitFor } from './testing/wait.ts';
import './testing/browser-command-types.ts';

const timing: Partial<CoordinatorTiming> = {
  statePeriodMs: 250,
  suspectAfterMs: 2000,
  downAfterMs: 4000,
  syncPeriodMs: 1000,
  syncIntervalMinMs: 200,
};

const peers: Peer[] = [];
const processes: string[] = [];

async function startNodePeer(cluster: string) {
  const node = await commands.startPeerProcess({ cluster, timing });
  processes.push(node.id);
  const ws = node.multiaddrs.find((address) => address.includes('/ws/'));
  if (ws === undefined) throw new Error(`no WebSockets address in ${node.multiaddrs.join(' ')}`);
  return { ...node, ws };
}

async function stopNodePeer(id: string): Promise<void> {
  processes.splice(processes.indexOf(id), 1);
  await commands.stopPeerProcess(id, 'kill');
}

async function startBrowserPeer(cluster: string, bootstrap: string[]): Promise<Peer> {
  const peer = await createPeer({
    storage: await openMemoryStore(),
    cluster,
    bootstrap,
    timing,
    memberDialing: { intervalMs: 500 },
  });
  peers.push(peer);
  return peer;
}

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.stop()));
  await Promise.all(processes.splice(0).map((id) => commands.stopPeerProcess(id)));
});

const isUp = (peer: Peer, id: string) =>
  peer.members().some((member) => member.id === id && member.status === 'up' && member.liveness === 'alive');

function payloadsHeard(peer: Peer): unknown[] {
  const heard: unknown[] = [];
  peer.on('message', (event: MessageEvent) => heard.push(event.message.payload));
  return heard;
}

describe('browser peers', () => {
  it('join a Node peer over WebSockets, see the members and share coordinator messages', async () => {
    const cluster = `ws-${crypto.randomUUID()}`;
    const node = await startNodePeer(cluster);
    const browser = await startBrowserPeer(cluster, [node.ws]);
    expect(browser.role).toBe('client');
    const heard = payloadsHeard(browser);

    await waitFor(() => isUp(browser, node.id) && isUp(browser, browser.id), { what: 'both members up' });
    expect(browser.members().map((member) => member.id)).toEqual([browser.id, node.id].sort());
    expect(browser.members().find((member) => member.id === browser.id)?.role).toBe('client');
    expect(browser.members().find((member) => member.id === node.id)?.role).toBe('owner');

    await commands.sendPeerProcess(node.id, { cmd: 'publish', payload: 'from node' });
    await waitFor(() => heard.includes('from node'), { what: 'the Node peer’s message' });

    await browser.publish({ messageType: 'test', eventType: 'created', payload: 'from browser' });
    await waitFor(
      async () => {
        await commands.sendPeerProcess(node.id, { cmd: 'state' });
        const events = (await commands.peerProcessEvents(node.id)) as {
          event: string;
          log?: { payload: unknown; from: string }[];
        }[];
        const last = events.filter((event) => event.event === 'state').at(-1);
        return last?.log?.some((m) => m.payload === 'from browser' && m.from === browser.id);
      },
      { what: 'the browser’s message in the Node peer’s log' },
    );
  });

  it('connect to each other over WebRTC through the relay and keep exchanging coordinator messages after it stops', async () => {
    const cluster = `rtc-${crypto.randomUUID()}`;
    const relay = await startNodePeer(cluster);
    const a = await startBrowserPeer(cluster, [relay.ws]);
    const b = await startBrowserPeer(cluster, [relay.ws]);
    const heardByA = payloadsHeard(a);
    const heardByB = payloadsHeard(b);

    // Nobody dials by hand: each browser publishes its /webrtc address in its
    // node state, and the member dialer connects to it.
    await waitFor(
      () =>
        b.libp2p
          .getConnections(a.libp2p.peerId)
          .find(
            (c) =>
              c.remoteAddr.toString().includes('/webrtc') && c.limits === undefined && c.status === 'open',
          ),
      { what: 'a direct WebRTC connection between the browsers' },
    );
    // Either browser may have dialed (the member dialers race), and the dialing side may list its
    // connection a moment after the other side does: wait for it. Its address is the circuit one.
    const dialed = await waitFor(
      () =>
        [...a.libp2p.getConnections(b.libp2p.peerId), ...b.libp2p.getConnections(a.libp2p.peerId)].find(
          (c) =>
            c.direction === 'outbound' && c.status === 'open' && c.remoteAddr.toString().includes('/webrtc'),
        ),
      { what: 'the dialing side of the WebRTC connection' },
    );
    expect(dialed.remoteAddr.toString()).toContain('/p2p-circuit/webrtc');

    await stopNodePeer(relay.id);
    await waitFor(
      () => !a.network.connectedPeers().includes(relay.id) && !b.network.connectedPeers().includes(relay.id),
      {
        what: 'both browsers to lose the relay',
      },
    );
    await waitFor(
      () =>
        [a, b].every((peer) =>
          peer.members().some((member) => member.id === relay.id && member.liveness === 'down'),
        ),
      { what: 'both browsers to mark the relay down' },
    );
    expect(b.network.connectedPeers()).toEqual([a.id]);
    expect(isUp(a, b.id) && isUp(b, a.id)).toBe(true);

    for (let round = 1; round <= 3; round++) {
      await a.publish({ messageType: 'test', eventType: 'created', payload: `a${round}` });
      await b.publish({ messageType: 'test', eventType: 'created', payload: `b${round}` });
      await waitFor(() => heardByB.includes(`a${round}`) && heardByA.includes(`b${round}`), {
        what: `round ${round} of messages`,
      });
    }
    const order = async (peer: Peer) => {
      const payloads: unknown[] = [];
      for await (const message of peer.messages()) payloads.push(message.payload);
      return payloads.filter((payload) => typeof payload === 'string' && /^[ab]\d$/.test(payload));
    };
    expect(await order(a)).toEqual(await order(b));
  });
});
