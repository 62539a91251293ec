import { describe, expect, it } from 'vitest';
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
  const events: string[] = [];
  const muxer = {
    send(data: Uint8Array | Uint8ArrayList) {
      if (events.includes('closed')) throw new Error('Cannot write to a stream that is closed');
      sent.push(bytesOf(data));
      return true;
    },
  };
  const connection = {
    async close() {
      events.push('closed');
    },
    abort(error: Error) {
      events.push(`aborted: ${error.message}`);
    },
  };
  coalesceMuxerSends(muxer, connection);
  return { muxer, connection, sent, events };
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

  it('flushes what is queued before the connection closes, so nothing sent before a close is lost', async () => {
    const { muxer, connection, sent, events } = fakeMuxer();
    muxer.send(Uint8Array.of(1));
    muxer.send(Uint8Array.of(2));
    await connection.close();
    expect(sent).toEqual([Uint8Array.of(1, 2)]);
    expect(events).toEqual(['closed']);
    // A frame after the close fails quietly at the flush (the close already failed the streams).
    muxer.send(Uint8Array.of(3));
    await tick();
    expect(sent).toHaveLength(1);
  });

  it('drops the queue on abort', async () => {
    const { muxer, connection, sent, events } = fakeMuxer();
    muxer.send(Uint8Array.of(1));
    connection.abort(new Error('reset'));
    await tick();
    expect(sent).toEqual([]);
    expect(events).toEqual(['aborted: reset']);
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
