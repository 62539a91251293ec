import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerUnreachableError } from './errors.ts';
import type { TesseraLibp2p } from './libp2p-services.ts';
import { createNodeLibp2p } from './platform-node.ts';
import { Libp2pReplicaTransport } from './replica-transport.ts';

const nodes: TesseraLibp2p[] = [];
const transports: Libp2pReplicaTransport[] = [];

async function startTransport() {
  const node = await createNodeLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    gossipBytesMax: 65_536,
  });
  nodes.push(node);
  const transport = new Libp2pReplicaTransport(node, {
    // Member addresses, as node state would give them: the listening addresses of the node with that id.
    addressesOf: (peer) =>
      nodes
        .find((other) => other.peerId.toString() === peer)
        ?.getMultiaddrs()
        .map((address) => address.toString()) ?? [],
  });
  await transport.start();
  transports.push(transport);
  return { node, transport };
}

afterEach(async () => {
  for (const transport of transports.splice(0)) await transport.stop();
  await Promise.all(nodes.splice(0).map((node) => node.stop()));
});

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

describe('Libp2pReplicaTransport when a connection dies under a request', () => {
  it('sends an idempotent request again on a fresh connection; a non-idempotent one fails', async () => {
    const client = await startTransport();
    const server = await startTransport();
    const serverId = server.node.peerId.toString();
    // The server's first answer to each kind of request is to drop every connection to the client,
    // with the request in flight: what a client sees when the relay its connection ran through dies.
    const dropped = new Set<string>();
    server.transport.handle(async (frame, from) => {
      const kind = text(frame).split(':')[0]!;
      if (kind !== 'warm' && !dropped.has(kind)) {
        dropped.add(kind);
        await Promise.all(
          server.node.getConnections().map((connection) => connection.abort(new Error('gone'))),
        );
        return new Promise<Uint8Array>(() => {});
      }
      return bytes(`${text(frame)} from ${from.slice(-4)}`);
    });
    // Warm: the client's stream to the server exists before the connection dies.
    expect(text(await client.transport.request(serverId, bytes('warm'), { timeoutMs: 5000 }))).toContain(
      'warm',
    );

    const reply = await client.transport.request(serverId, bytes('read:k'), {
      timeoutMs: 5000,
      idempotent: true,
    });
    expect(text(reply)).toBe(`read:k from ${client.node.peerId.toString().slice(-4)}`);
    expect(client.transport.stats.requestsResent).toBe(1);

    const mint = client.transport.request(serverId, bytes('mint:k'), { timeoutMs: 5000 });
    await expect(mint).rejects.toBeInstanceOf(PeerUnreachableError);
    expect(client.transport.stats.requestsResent).toBe(1);
    // The next request finds a working connection again.
    expect(text(await client.transport.request(serverId, bytes('mint:k'), { timeoutMs: 5000 }))).toContain(
      'mint:k',
    );
  });
});
