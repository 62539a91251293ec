import { generateKeyPair } from '@libp2p/crypto/keys';
import { RPC } from '@libp2p/gossipsub/message';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { LimitExceededError } from '@tessera/core';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerUnreachableError, RemoteHandlerError, RequestTimeoutError } from './errors.ts';
import type { TesseraLibp2p } from './libp2p-services.ts';
import { Libp2pNetwork, type Libp2pNetworkOptions } from './network.ts';
import { createNodeLibp2p } from './platform-node.ts';
import { waitFor } from './testing/wait.ts';

const started: { node: TesseraLibp2p; network: Libp2pNetwork }[] = [];

async function startPeer(options: Partial<Libp2pNetworkOptions> = {}) {
  const node = await createNodeLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    gossipBytesMax: options.gossipBytesMax ?? 65_536,
  });
  const network = new Libp2pNetwork(node, { cluster: 'net-test', ...options });
  await network.start();
  const peer = { node, network };
  started.push(peer);
  return peer;
}

afterEach(async () => {
  const peers = started.splice(0);
  await Promise.all(
    peers.map(async ({ node, network }) => {
      await network.stop();
      await node.stop();
    }),
  );
});

describe('Libp2pNetwork over TCP on loopback', () => {
  it('delivers broadcasts to every other peer with the signer as from', async () => {
    const a = await startPeer();
    const b = await startPeer();
    const c = await startPeer();
    await b.node.dial(a.node.getMultiaddrs());
    await c.node.dial(a.node.getMultiaddrs());
    // A message published before the mesh forms is lost for good.
    await waitFor(() => a.network.meshPeers().length === 2 && b.network.meshPeers().length === 1, {
      what: 'mesh',
    });
    await waitFor(() => c.network.meshPeers().length === 1, { what: 'mesh of c' });

    const seen = new Map<string, { data: string; from: string }[]>();
    for (const peer of [a, b, c]) {
      const list: { data: string; from: string }[] = [];
      seen.set(peer.network.selfId, list);
      peer.network.onBroadcast((data, from) => list.push({ data: new TextDecoder().decode(data), from }));
    }
    b.network.broadcast(new TextEncoder().encode('hello from b'));
    await waitFor(() => seen.get(c.network.selfId)?.length === 1 && seen.get(a.network.selfId)?.length === 1);
    expect(seen.get(c.network.selfId)).toEqual([{ data: 'hello from b', from: b.network.selfId }]);
    expect(seen.get(a.network.selfId)).toEqual([{ data: 'hello from b', from: b.network.selfId }]);
    // emitSelf is off: the sender does not hear itself.
    expect(seen.get(b.network.selfId)).toEqual([]);
    expect(a.network.connectedPeers().sort()).toEqual([b.network.selfId, c.network.selfId].sort());
  });

  it('answers requests, reports remote handler errors and local limits as typed errors', async () => {
    const a = await startPeer({ frameBytesMax: 1024 });
    const b = await startPeer({ frameBytesMax: 1024 });
    await b.node.dial(a.node.getMultiaddrs());
    a.network.onRequest(async (data, from) => {
      const text = new TextDecoder().decode(data);
      if (text === 'fail') throw new Error('handler says no');
      return new TextEncoder().encode(`${text} from ${from}`);
    });
    const response = await b.network.request(a.network.selfId, new TextEncoder().encode('ping'));
    expect(new TextDecoder().decode(response)).toBe(`ping from ${b.network.selfId}`);

    const failed = b.network.request(a.network.selfId, new TextEncoder().encode('fail'));
    await expect(failed).rejects.toBeInstanceOf(RemoteHandlerError);
    await expect(failed).rejects.toThrow('handler says no');

    await expect(b.network.request(a.network.selfId, new Uint8Array(1025))).rejects.toBeInstanceOf(
      LimitExceededError,
    );
    expect(a.network.stats.requestsServed).toBe(2);
  });

  it('rejects with RequestTimeoutError when the handler never answers', async () => {
    const a = await startPeer({ requestTimeoutMs: 30_000 });
    const b = await startPeer();
    await b.node.dial(a.node.getMultiaddrs());
    let release = (): void => undefined;
    a.network.onRequest(
      () =>
        new Promise<Uint8Array>((resolve) => {
          release = () => resolve(new Uint8Array(0));
        }),
    );
    await expect(
      b.network.request(a.network.selfId, new Uint8Array([1]), { timeoutMs: 300 }),
    ).rejects.toBeInstanceOf(RequestTimeoutError);
    release();
  });

  it('rejects with PeerUnreachableError for a peer it cannot dial', async () => {
    const a = await startPeer();
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    await expect(a.network.request(stranger, new Uint8Array([1]))).rejects.toBeInstanceOf(
      PeerUnreachableError,
    );
  });

  it('rejects an oversized inbound frame on the wire and keeps serving', async () => {
    const a = await startPeer({ frameBytesMax: 1024 });
    const b = await startPeer();
    await b.node.dial(a.node.getMultiaddrs());
    a.network.onRequest(async (data) => data);

    // A raw stream, so the sender's own limit does not stop the frame.
    const stream = await b.node.dialProtocol(a.node.peerId, a.network.protocol);
    const lp = lpStream(stream, { maxDataLength: 1 << 20 });
    await lp.write(new Uint8Array(64 * 1024).fill(7));
    await expect(lp.read({ signal: AbortSignal.timeout(10_000) })).rejects.toThrow();
    await waitFor(() => a.network.stats.requestsRejected === 1, { what: 'rejection' });
    expect(a.network.stats.requestsServed).toBe(0);

    const echo = await b.network.request(a.network.selfId, new Uint8Array([1, 2, 3]));
    expect([...echo]).toEqual([1, 2, 3]);
    expect(a.network.stats.requestsServed).toBe(1);
  });

  it('drops a gossip message whose from is not its signer, and delivers a correctly signed one', async () => {
    const victim = await startPeer();
    const attacker = await startPeer();
    const impersonatedKey = await generateKeyPair('Ed25519');
    const attackerKey = await generateKeyPair('Ed25519');
    await attacker.node.dial(victim.node.getMultiaddrs());
    await waitFor(() => victim.network.meshPeers().length === 1, { what: 'mesh' });
    const received: { data: string; from: string }[] = [];
    victim.network.onBroadcast((data, from) => received.push({ data: new TextDecoder().decode(data), from }));

    // Hand-built gossipsub RPCs on a raw stream: the honest control proves the
    // path delivers, so the forged one being absent means it was refused.
    const signedMessage = async (claimedFrom: Uint8Array, text: string, seq: number) => {
      const seqno = new Uint8Array(8);
      new DataView(seqno.buffer).setBigUint64(0, BigInt(Date.now()) * 1000n + BigInt(seq));
      const unsigned = {
        from: claimedFrom,
        data: new TextEncoder().encode(text),
        seqno,
        topic: victim.network.topic,
      };
      const prefix = new TextEncoder().encode('libp2p-pubsub:');
      const body = RPC.Message.encode(unsigned);
      const toSign = new Uint8Array(prefix.length + body.length);
      toSign.set(prefix);
      toSign.set(body, prefix.length);
      const signature = await attackerKey.sign(toSign);
      return { ...unsigned, signature, key: attackerKey.publicKey.toMultihash().bytes };
    };
    const attackerId = peerIdFromPrivateKey(attackerKey);
    const impersonatedId = peerIdFromPrivateKey(impersonatedKey);
    const rpc = RPC.encode({
      subscriptions: [],
      messages: [
        await signedMessage(impersonatedId.toMultihash().bytes, 'forged', 1),
        await signedMessage(attackerId.toMultihash().bytes, 'honest', 2),
      ],
    });
    const stream = await attacker.node.dialProtocol(
      victim.node.peerId,
      victim.node.services.pubsub.protocols,
    );
    await lpStream(stream).write(rpc);
    await waitFor(() => received.length >= 1, { what: 'the honest message' });
    expect(received).toEqual([{ data: 'honest', from: attackerId.toString() }]);
    await stream.close();
  });
});
