import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, describe, expect, it } from 'vitest';
import type { TesseraLibp2p } from './libp2p-services.ts';
import { createNodeLibp2p } from './platform-node.ts';
import { waitFor } from './testing/wait.ts';
import {
  coalesceConnectionWrites,
  coalesceMuxerSends,
  JOIN_BYTES_MAX,
  joinChunks,
  type RawConnection,
} from './write-coalescing.ts';

/** The part of libp2p's Uint8ArrayList these wrappers use (the real one runs under every peer test over TCP). */
class Uint8ArrayList {
  readonly bufs: Uint8Array[];
  constructor(...bufs: Uint8Array[]) {
    this.bufs = bufs;
  }
  get byteLength(): number {
    return this.bufs.reduce((sum, buf) => sum + buf.length, 0);
  }
  subarray(): Uint8Array {
    return joinChunks(this.bufs);
  }
  [Symbol.iterator]() {
    return this.bufs[Symbol.iterator]();
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const bytesOf = (data: Uint8Array | Uint8ArrayList) => (data instanceof Uint8Array ? data : data.subarray());

function fakeMuxer() {
  const sent: Uint8Array[] = [];
  const muxer = {
    status: 'open',
    send(data: Uint8Array | Uint8ArrayList) {
      sent.push(bytesOf(data));
      return true;
    },
  };
  coalesceMuxerSends(muxer);
  return { muxer, sent };
}

describe('coalesceMuxerSends', () => {
  it('sends the frames of one tick as one buffer, in order, and later frames in the next', async () => {
    const { muxer, sent } = fakeMuxer();
    expect(muxer.send(Uint8Array.of(1, 2))).toBe(true);
    muxer.send(new Uint8ArrayList(Uint8Array.of(3), Uint8Array.of(4, 5)));
    muxer.send(Uint8Array.of(6));
    expect(sent).toEqual([]);
    await tick();
    expect(sent).toEqual([Uint8Array.of(1, 2, 3, 4, 5, 6)]);
    muxer.send(Uint8Array.of(7));
    await tick();
    expect(sent).toEqual([Uint8Array.of(1, 2, 3, 4, 5, 6), Uint8Array.of(7)]);
  });

  it('sends large frames as they are instead of copying them together', async () => {
    const { muxer, sent } = fakeMuxer();
    const big = new Uint8Array(JOIN_BYTES_MAX).fill(9);
    muxer.send(Uint8Array.of(1));
    muxer.send(big);
    await tick();
    expect(sent).toEqual([Uint8Array.of(1), big]);
  });

  it('once the muxer is closing, sends what is queued and every later frame at once, in order', () => {
    const { muxer, sent } = fakeMuxer();
    muxer.send(Uint8Array.of(1));
    muxer.send(Uint8Array.of(2));
    muxer.status = 'closing';
    muxer.send(Uint8Array.of(3));
    expect(sent).toEqual([Uint8Array.of(1, 2), Uint8Array.of(3)]);
  });
});

describe('coalescing over real TCP connections', () => {
  const nodes: TesseraLibp2p[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
  });
  const start = async () => {
    const node = await createNodeLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      gossipBytesMax: 65_536,
    });
    nodes.push(node);
    return node;
  };

  it('a connection closed right after a write delivers every byte', async () => {
    const a = await start();
    const b = await start();
    const protocol = '/tessera-test/sink/1';
    let received = 0;
    let ended = false;
    await b.handle(protocol, async (stream) => {
      for await (const chunk of stream) received += chunk.byteLength;
      ended = true;
    });
    const stream = await a.dialProtocol(b.getMultiaddrs(), protocol);
    const chunk = new Uint8Array(1000).fill(5);
    for (let i = 0; i < 50; i++) stream.send(chunk);
    const [connection] = a.getConnections(b.peerId);
    // Same tick as the writes: the frames are still queued when the close begins. (The close event
    // may carry an error of libp2p's own, with or without coalescing: a stream the other side opens
    // meanwhile, e.g. identify's, is reset on a closing connection.)
    await connection!.close();
    await waitFor(() => ended, { what: 'the remote read to the end' });
    expect(received).toBe(50_000);
  });
});

describe('coalesceConnectionWrites', () => {
  function fakeConnection(withSocket = true) {
    const writes: Uint8Array[][] = [];
    const calls: string[] = [];
    const connection: RawConnection & { sendData: NonNullable<RawConnection['sendData']> } = {
      sendData(data) {
        writes.push([...(data as Uint8ArrayList)]);
        return { sentBytes: data.byteLength, canSendMore: true };
      },
      ...(withSocket
        ? {
            socket: {
              cork: () => calls.push('cork'),
              uncork: () => calls.push('uncork'),
              destroyed: false,
            },
          }
        : {}),
    };
    return { connection: coalesceConnectionWrites(connection), writes, calls };
  }

  it('writes each message as one buffer and corks the socket once per tick', async () => {
    const { connection, writes, calls } = fakeConnection();
    connection.sendData(new Uint8ArrayList(Uint8Array.of(0, 3), Uint8Array.of(7, 8, 9)));
    connection.sendData(new Uint8ArrayList(Uint8Array.of(0, 1), Uint8Array.of(5)));
    expect(writes).toEqual([[Uint8Array.of(0, 3, 7, 8, 9)], [Uint8Array.of(0, 1, 5)]]);
    expect(calls).toEqual(['cork']);
    await tick();
    expect(calls).toEqual(['cork', 'uncork']);
    connection.sendData(new Uint8ArrayList(Uint8Array.of(4)));
    await tick();
    expect(writes[2]).toEqual([Uint8Array.of(4)]);
    expect(calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });

  it('only joins on a connection without a socket', async () => {
    const { connection, writes } = fakeConnection(false);
    connection.sendData(new Uint8ArrayList(Uint8Array.of(1), Uint8Array.of(2)));
    expect(writes).toEqual([[Uint8Array.of(1, 2)]]);
  });

  it('leaves a connection without sendData as it is', () => {
    const plain = {};
    expect(coalesceConnectionWrites(plain)).toBe(plain);
    expect(plain).toEqual({});
  });
});

describe('joinChunks', () => {
  it('concatenates arrays and lists in order', () => {
    expect(joinChunks([Uint8Array.of(1), new Uint8ArrayList(Uint8Array.of(2), Uint8Array.of(3))])).toEqual(
      Uint8Array.of(1, 2, 3),
    );
    expect(joinChunks([])).toEqual(new Uint8Array(0));
  });
});
