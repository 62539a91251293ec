/**
 * Fewer, larger writes on Node connections.
 *
 * libp2p 3 sends every yamux frame (each data frame, each window update) as
 * a noise message of its own, and its TCP connection writes each chunk of a
 * message (length prefix, ciphertext) with a `socket.write` of its own. A
 * replication round trip cost about 3.5 write syscalls and two encryptions
 * per side: one peer under quorum reads made 5476 writes in 3 s for ~1500
 * frames (strace).
 *
 * - `coalescingMuxer`: frames a connection's muxer sends in one tick go out
 *   as one message (one encryption); once it closes, at once and in order.
 * - `coalescingEncrypter`: the raw connection under the encryption joins
 *   each message's chunks into one buffer and corks its socket until the
 *   tick ends, so one tick's messages leave in one `writev`.
 *
 * Both wrap libp2p's factories and leave any connection or muxer without
 * the expected shape (`sendData`, `socket.cork`, `send`) as it is. Node only
 * (`process.nextTick`, `net.Socket`); browsers use the factories unwrapped.
 */

/** A Uint8ArrayList as libp2p passes it (two major versions coexist, so duck-typed). */
interface ChunkList {
  readonly byteLength: number;
  readonly bufs: readonly Uint8Array[];
  subarray(): Uint8Array;
}

type Chunk = Uint8Array | ChunkList;

/** Above this many queued bytes frames go out as they are: joining them would only copy. */
export const JOIN_BYTES_MAX = 64 * 1024;

function isChunkList(data: unknown): data is ChunkList {
  const list = data as Partial<ChunkList> | null;
  return (
    typeof list === 'object' &&
    list !== null &&
    Array.isArray(list.bufs) &&
    typeof list.subarray === 'function'
  );
}

/** The chunks as one buffer, in order. */
export function joinChunks(chunks: readonly Chunk[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** What `coalesceMuxerSends` needs of a muxer: libp2p's `AbstractStreamMuxer.send` and `status`. */
export interface SendingMuxer {
  send(data: Chunk): boolean;
  readonly status?: string;
}

/**
 * Queues what `muxer` sends until the end of the tick and sends it as one
 * buffer (or piece by piece past `JOIN_BYTES_MAX`). `send` reports the
 * connection writable; once the flush finds it full, the muxer pauses its
 * streams as before, one tick later.
 *
 * Once the muxer is no longer open, the queue and every later frame go out
 * at once: libp2p's `Connection.close` awaits the muxer's close (streams'
 * FIN frames, then yamux's GoAway) and closes the raw connection right after,
 * before the tick ends; `AbstractStreamMuxer.close` and `abort` leave `open`
 * synchronously, before they send anything.
 */
export function coalesceMuxerSends(muxer: SendingMuxer): void {
  const send = muxer.send.bind(muxer);
  let queued: Chunk[] = [];
  let queuedBytes = 0;
  const flush = () => {
    if (queued.length === 0) return;
    const chunks = queued;
    const bytes = queuedBytes;
    queued = [];
    queuedBytes = 0;
    try {
      if (chunks.length === 1) send(chunks[0]!);
      else if (bytes <= JOIN_BYTES_MAX) send(joinChunks(chunks));
      else for (const chunk of chunks) send(chunk);
    } catch {
      // The connection closed under the queue (a remote close or reset): its streams already failed.
    }
  };
  muxer.send = (data) => {
    if (muxer.status !== undefined && muxer.status !== 'open') {
      flush();
      return send(data);
    }
    if (queued.length === 0) process.nextTick(flush);
    queued.push(data);
    queuedBytes += data.byteLength;
    return true;
  };
}

/** What `coalesceConnectionWrites` needs: libp2p's `AbstractMultiaddrConnection.sendData`, and TCP's socket. */
export interface RawConnection {
  sendData?: (data: ChunkList) => unknown;
  readonly socket?: { cork?: () => void; uncork?: () => void; readonly destroyed?: boolean };
}

/**
 * Makes `connection` write each message as one buffer and, when it has a
 * corkable socket, hold the socket's writes until the tick ends. Returns it.
 */
export function coalesceConnectionWrites<C extends RawConnection>(connection: C): C {
  const sendData = connection.sendData;
  if (typeof sendData !== 'function') return connection;
  const send = sendData.bind(connection);
  const socket = connection.socket;
  const corkable = typeof socket?.cork === 'function' && typeof socket.uncork === 'function';
  let corked = false;
  connection.sendData = (data) => {
    if (corkable && !corked && socket?.destroyed !== true) {
      corked = true;
      socket?.cork?.();
      process.nextTick(() => {
        corked = false;
        socket?.uncork?.();
      });
    }
    if (!isChunkList(data) || data.bufs.length < 2) return send(data);
    // Same list class as the caller's (libp2p mixes two major versions of it), holding one buffer.
    const List = data.constructor as new (...bufs: Uint8Array[]) => ChunkList;
    return send(new List(data.subarray()));
  };
  return connection;
}

// biome-ignore lint/suspicious/noExplicitAny: libp2p's factories take platform-specific component bags.
type Factory<T> = (components: any) => T;

/** `factory` with every muxer it creates coalescing its sends (see `coalesceMuxerSends`). */
export function coalescingMuxer<T extends { createStreamMuxer(connection: unknown): SendingMuxer }>(
  factory: Factory<T>,
): Factory<T> {
  return (components) => {
    const inner = factory(components);
    // The wrapper inherits protocol and capabilities; only createStreamMuxer differs.
    const outer = Object.create(inner) as T;
    outer.createStreamMuxer = (connection) => {
      const muxer = inner.createStreamMuxer(connection);
      if (typeof muxer.send === 'function' && typeof muxer.status === 'string') coalesceMuxerSends(muxer);
      return muxer;
    };
    return outer;
  };
}

/** `factory` with the raw connections it secures coalescing their writes (see `coalesceConnectionWrites`). */
export function coalescingEncrypter<
  T extends {
    secureInbound(connection: RawConnection, options?: unknown): Promise<unknown>;
    secureOutbound(connection: RawConnection, options?: unknown): Promise<unknown>;
  },
>(factory: Factory<T>): Factory<T> {
  return (components) => {
    const inner = factory(components);
    const outer = Object.create(inner) as T;
    outer.secureInbound = (connection, options) =>
      inner.secureInbound(coalesceConnectionWrites(connection as RawConnection), options);
    outer.secureOutbound = (connection, options) =>
      inner.secureOutbound(coalesceConnectionWrites(connection as RawConnection), options);
    return outer;
  };
}
