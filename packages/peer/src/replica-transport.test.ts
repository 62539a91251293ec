import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerUnreachableError, RequestTimeoutError } from './errors.ts';
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

describe('Libp2pReplicaTransport when a stream goes silent', () => {
  /** A server whose first answer to `stall:` requests is none at all; later ones are answered. */
  async function silentOnce() {
    const client = await startTransport();
    const server = await startTransport();
    const silenced = new Set<string>();
    server.transport.handle(async (frame, from) => {
      const request = text(frame);
      if (request.startsWith('stall:') && !silenced.has(request)) {
        silenced.add(request);
        return new Promise<Uint8Array>(() => {});
      }
      return bytes(`${request} from ${from.slice(-4)}`);
    });
    const serverId = server.node.peerId.toString();
    expect(text(await client.transport.request(serverId, bytes('warm'), { timeoutMs: 5000 }))).toContain(
      'warm',
    );
    return { client, server, serverId };
  }

  it('gives up a new stream that never answers and sends again on another open connection', async () => {
    const client = await startTransport();
    const server = await startTransport();
    // The first request is never answered; the one sent again is.
    let silenced = false;
    server.transport.handle(async (frame, from) => {
      if (!silenced) {
        silenced = true;
        return new Promise<Uint8Array>(() => {});
      }
      return bytes(`${text(frame)} from ${from.slice(-4)}`);
    });
    // Two connections to the same peer, as a browser has while a second WebRTC connection is made.
    const first = await client.node.dial(server.node.getMultiaddrs()[0]!);
    const second = await client.node.dial(server.node.getMultiaddrs()[0]!, { force: true });
    expect(second).not.toBe(first);

    const reply = await client.transport.request(server.node.peerId.toString(), bytes('stall:read'), {
      timeoutMs: 2000,
      idempotent: true,
    });
    expect(text(reply)).toContain('stall:read from');
    expect(client.transport.stats.channelsStalled).toBe(1);
    expect(client.transport.stats.requestsResent).toBe(1);
    // The stalled stream was closed and the fresh one went on the other connection.
    const carrying = [first, second].filter((connection) =>
      connection.streams.some((stream) => stream.protocol === client.transport.protocol),
    );
    expect(carrying.length).toBe(1);
  });

  it('keeps a stream that answered before when its peer turns slow, with another connection open', async () => {
    const client = await startTransport();
    const server = await startTransport();
    const serverId = server.node.peerId.toString();
    server.transport.handle(async (frame) => {
      // Slower than half the timeout: a busy peer, not a dead stream.
      if (text(frame) === 'mint:slow') await new Promise((resolve) => setTimeout(resolve, 1400));
      return bytes(`${text(frame)} done`);
    });
    await client.transport.request(serverId, bytes('warm'), { timeoutMs: 5000 });
    await client.node.dial(server.node.getMultiaddrs()[0]!, { force: true });
    const reply = await client.transport.request(serverId, bytes('mint:slow'), { timeoutMs: 2000 });
    expect(text(reply)).toBe('mint:slow done');
    expect(client.transport.stats.channelsStalled).toBe(0);
  });

  it('opens the stream on another connection when one never negotiates it', async () => {
    const client = await startTransport();
    const server = await startTransport();
    server.transport.handle(async (frame) => bytes(`${text(frame)} done`));
    const serverId = server.node.peerId.toString();
    await client.node.dial(server.node.getMultiaddrs()[0]!);
    await client.node.dial(server.node.getMultiaddrs()[0]!, { force: true });
    // The connection libp2p would pick accepts the stream and then never answers its negotiation, as
    // a WebRTC connection does whose other side gave up signalling halfway.
    const picked = await client.node.dial(server.node.peerId);
    picked.newStream = (_protocols, options) =>
      new Promise((_, reject) => {
        options?.signal?.addEventListener('abort', () => reject(options.signal?.reason));
      });
    // Not idempotent: a stream that never opened carried nothing, so even a mint may go again.
    const reply = await client.transport.request(serverId, bytes('mint:k'), { timeoutMs: 2000 });
    expect(text(reply)).toBe('mint:k done');
    expect(client.transport.stats.channelsStalled).toBe(1);
    expect(client.transport.stats.requestsResent).toBe(1);
  });

  it('opens the stream on another connection when opening fails on one', async () => {
    const client = await startTransport();
    const server = await startTransport();
    server.transport.handle(async (frame) => bytes(`${text(frame)} done`));
    await client.node.dial(server.node.getMultiaddrs()[0]!);
    await client.node.dial(server.node.getMultiaddrs()[0]!, { force: true });
    const picked = await client.node.dial(server.node.peerId);
    picked.newStream = () => Promise.reject(new Error('the data channel closed'));
    const reply = await client.transport.request(server.node.peerId.toString(), bytes('mint:k'), {
      timeoutMs: 5000,
    });
    expect(text(reply)).toBe('mint:k done');
    expect(client.transport.stats.channelsStalled).toBe(1);
  });

  it('waits for a silent peer it has only one connection to, and keeps the stream', async () => {
    const { client, serverId } = await silentOnce();
    const silent = client.transport.request(serverId, bytes('stall:read'), {
      timeoutMs: 1500,
      idempotent: true,
    });
    await expect(silent).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(client.transport.stats.channelsStalled).toBe(0);
    expect(client.transport.stats.requestsResent).toBe(0);
    expect(text(await client.transport.request(serverId, bytes('after'), { timeoutMs: 5000 }))).toContain(
      'after from',
    );
  });

  it('does not count a slow peer that answers other requests as stalled', async () => {
    const client = await startTransport();
    const server = await startTransport();
    const serverId = server.node.peerId.toString();
    server.transport.handle(async (frame) => {
      const request = text(frame);
      // A slow request (2/3 of its timeout) while quick ones are answered around it.
      if (request === 'slow') await new Promise((resolve) => setTimeout(resolve, 1000));
      return bytes(`${request} done`);
    });
    await client.transport.request(serverId, bytes('warm'), { timeoutMs: 5000 });
    await client.node.dial(server.node.getMultiaddrs()[0]!, { force: true });
    const slow = client.transport.request(serverId, bytes('slow'), { timeoutMs: 1500, idempotent: true });
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await client.transport.request(serverId, bytes(`quick ${i}`), { timeoutMs: 1500 });
    }
    expect(text(await slow)).toBe('slow done');
    expect(client.transport.stats.channelsStalled).toBe(0);
  });
});
