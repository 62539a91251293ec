/**
 * A small RESP client that sends commands to other peers' RESP servers: one
 * TCP connection per endpoint, requests pipelined on it and answered in
 * order. The replicated backend uses it to run a conditional write at the
 * key's primary owner. Error replies come back as `CommandError` with the
 * other server's exact text (TRYAGAIN, WRONGTYPE-like words pass through).
 */
import { createConnection, type Socket } from 'node:net';
import { CommandError } from '../errors.ts';
import { encodeCommand } from '../resp/encode.ts';
import type { Reply } from '../resp/reply.ts';
import { ReplyParser } from '../resp/reply-parser.ts';

/**
 * A request gets its reply by then, or fails with TRYAGAIN and its connection
 * is dropped. Above a primary's worst case: a quorum read and a quorum write,
 * each bounded by replication's request timeout, behind the key's queue.
 */
export const FORWARD_TIMEOUT_MS_DEFAULT = 30_000;
/**
 * Connections per primary: a RESP connection runs its commands one at a
 * time, so one connection would queue every forwarded key behind the others.
 */
export const FORWARD_CONNECTIONS_PER_ENDPOINT = 8;
/** Requests waiting on one connection; more fail at once (a stuck peer must not hold unbounded memory). */
export const FORWARD_PENDING_MAX = 10_000;
/** Largest reply accepted from another peer. */
const FORWARD_REPLY_BYTES_MAX = 8 * 1024 * 1024;

export interface ForwarderOptions {
  readonly timeoutMs?: number;
  /** Sent as `AUTH` on every new connection when the cluster's RESP servers require one. */
  readonly password?: string;
}

interface Pending {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: unknown) => void;
  /** Replies to drop before this request's (the AUTH sent on connect). */
  readonly silent: boolean;
}

class ForwardConnection {
  readonly #socket: Socket;
  readonly #parser = new ReplyParser({ bulkBytesMax: FORWARD_REPLY_BYTES_MAX });
  readonly #pending: Pending[] = [];
  #closed = false;
  readonly onClose: () => void;

  constructor(host: string, port: number, password: string | undefined, onClose: () => void) {
    this.onClose = onClose;
    this.#socket = createConnection({ host, port });
    this.#socket.setNoDelay(true);
    this.#socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    this.#socket.on('error', (error) => this.close(error));
    this.#socket.on('close', () => this.close(new Error('connection closed')));
    if (password !== undefined) {
      this.#pending.push({ resolve: () => {}, reject: () => {}, silent: true });
      this.#socket.write(encodeCommand(['AUTH', password]));
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pending(): number {
    return this.#pending.length;
  }

  send(args: readonly (Uint8Array | string)[]): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('connection closed'));
    if (this.#pending.length >= FORWARD_PENDING_MAX) {
      return Promise.reject(new Error('too many forwarded requests in flight'));
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject, silent: false });
      this.#socket.write(encodeCommand(args));
    });
  }

  #receive(chunk: Buffer): void {
    try {
      this.#parser.push(chunk);
      for (let reply = this.#parser.next(); reply !== undefined; reply = this.#parser.next()) {
        const request = this.#pending.shift();
        if (request === undefined) throw new Error('reply without a request');
        if (request.silent) {
          if (reply.type === 'error') throw new Error(`AUTH refused: ${reply.value}`);
          continue;
        }
        request.resolve(reply);
      }
    } catch (error) {
      this.close(error);
    }
  }

  close(error: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    for (const request of this.#pending.splice(0)) request.reject(error);
    this.onClose();
  }
}

/** Thrown when a forwarded request got no reply (peer unreachable, timed out, bad reply). */
function unreachable(endpoint: string, error: unknown): CommandError {
  const why = error instanceof Error ? error.message : String(error);
  return new CommandError(`TRYAGAIN primary ${endpoint} unreachable: ${why}`);
}

export class RespForwarder {
  readonly #connections = new Map<string, ForwardConnection[]>();
  readonly #timeoutMs: number;
  readonly #password: string | undefined;
  #closed = false;

  constructor(options: ForwarderOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? FORWARD_TIMEOUT_MS_DEFAULT;
    this.#password = options.password;
  }

  /**
   * Sends `args` to `host:port` and resolves with the reply; an error reply
   * rejects with a `CommandError` carrying its text, no reply at all with
   * `TRYAGAIN primary … unreachable`.
   */
  async call(
    endpoint: { host: string; port: number },
    args: readonly (Uint8Array | string)[],
  ): Promise<Reply> {
    const name = `${endpoint.host}:${endpoint.port}`;
    if (this.#closed) throw unreachable(name, 'forwarder closed');
    const pool = this.#connections.get(name) ?? [];
    this.#connections.set(name, pool);
    let live = pool.reduce<ForwardConnection | undefined>(
      (best, c) => (best === undefined || c.pending < best.pending ? c : best),
      undefined,
    );
    if (live === undefined || (live.pending > 0 && pool.length < FORWARD_CONNECTIONS_PER_ENDPOINT)) {
      const created = new ForwardConnection(endpoint.host, endpoint.port, this.#password, () => {
        const at = pool.indexOf(created);
        if (at >= 0) pool.splice(at, 1);
      });
      pool.push(created);
      live = created;
    }
    const connection = live;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Replies are matched by order: after a lost one the connection cannot be trusted.
        connection.close(new Error(`no reply within ${this.#timeoutMs} ms`));
        reject(new Error(`no reply within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
    });
    let reply: Reply;
    try {
      reply = await Promise.race([connection.send(args), timeout]);
    } catch (error) {
      throw unreachable(name, error);
    } finally {
      clearTimeout(timer);
    }
    if (reply.type === 'error') throw new CommandError(reply.value);
    return reply;
  }

  /** Closes every connection; later calls fail. */
  close(): void {
    this.#closed = true;
    for (const pool of this.#connections.values()) {
      for (const connection of [...pool]) connection.close(new Error('forwarder closed'));
    }
    this.#connections.clear();
  }
}
