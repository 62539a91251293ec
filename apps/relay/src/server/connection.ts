/**
 * One client connection: parse, run in order (independent pipelined key
 * commands at once), reply in order. Flow control
 * both ways: reading pauses while unparsed input piles up behind a running
 * command, and commands stop running while replies wait for a slow reader.
 * A command that takes too long to arrive (slowloris) or bytes that are not
 * RESP close the connection after a Redis-format error; other connections
 * never notice.
 */
import type { Socket } from 'node:net';
import type { Consistency } from '../backend/backend.ts';
import type { ConnectionState, ServerState } from '../commands/types.ts';
import { ProtocolError } from '../errors.ts';
import { encodeReply } from '../resp/encode.ts';
import type { RespLimits } from '../resp/limits.ts';
import type { Protocol } from '../resp/reply.ts';
import { RequestParser } from '../resp/request-parser.ts';
import { dispatch } from './dispatch.ts';
import type { ResolvedServerOptions } from './options.ts';

/**
 * Most pipelined commands run at once. Redis runs a connection's commands
 * one by one, which costs nothing in memory; over replication each one waits
 * for network round trips, so a pipeline of independent key commands runs
 * concurrently and is answered in order.
 */
export const PIPELINE_PARALLEL_MAX = 32;
/** Commands that only read their keys. */
const PARALLEL_READS = new Set(['get', 'mget', 'exists', 'ttl', 'pttl']);
/** Commands that write their keys and touch no connection state. */
const PARALLEL_WRITES = new Set(['set', 'mset', 'del', 'unlink', 'incr', 'decr', 'incrby', 'decrby']);

/** Keys of a parallel-safe command (as hex), or undefined when it must run alone. */
function parallelKeys(args: readonly Buffer[]): { keys: string[]; write: boolean } | undefined {
  const name = args[0]?.toString('latin1').toLowerCase() ?? '';
  const write = PARALLEL_WRITES.has(name);
  if (!write && !PARALLEL_READS.has(name)) return undefined;
  if (args.length < 2) return undefined;
  let keys: Buffer[];
  if (name === 'mset') keys = args.filter((_, i) => i % 2 === 1);
  else if (name === 'mget' || name === 'exists' || name === 'del' || name === 'unlink') keys = args.slice(1);
  else keys = [args[1]!];
  return { keys: keys.map((k) => k.toString('hex')), write };
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly state: ServerState;
  readonly options: ResolvedServerOptions;
  readonly limits: RespLimits;
  report(error: unknown): void;
  closed(connection: Connection): void;
}

function address(ip: string | undefined, port: number | undefined): string {
  return `${ip ?? '?'}:${port ?? 0}`;
}

function plainIp(ip: string | undefined): string {
  if (ip === undefined) return '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export class Connection implements ConnectionState {
  readonly id: number;
  protocol: Protocol = 2;
  db = 0;
  consistency: Consistency | undefined;
  name: string | undefined;
  authenticated: boolean;
  capability: ConnectionState['capability'] = undefined;
  readonly = false;
  closeAfterReply = false;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly localHost: string;
  readonly createdAtMs: number;
  lastCommandAtMs: number;
  lastCommand = 'NULL';
  /** Settles when the socket has closed. */
  readonly done: Promise<void>;

  readonly #socket: Socket;
  readonly #host: ConnectionHost;
  readonly #parser: RequestParser;
  #busy = false;
  #closing = false;
  #waitingDrain = false;
  #peerEnded = false;
  #pendingError: ProtocolError | undefined;
  #partialTimer: ReturnType<typeof setTimeout> | undefined;
  /** A command taken from the parser that could not join the batch before it. */
  #held: Buffer[] | undefined;

  constructor(socket: Socket, host: ConnectionHost, id: number) {
    this.id = id;
    this.#socket = socket;
    this.#host = host;
    this.#parser = new RequestParser(host.limits);
    this.authenticated = host.state.password === undefined && host.state.guard?.requiresToken !== true;
    this.#parser.authRequired = !this.authenticated;
    this.remoteAddress = address(plainIp(socket.remoteAddress), socket.remotePort);
    this.localAddress = address(plainIp(socket.localAddress), socket.localPort);
    this.localHost = plainIp(socket.localAddress);
    this.createdAtMs = Date.now();
    this.lastCommandAtMs = this.createdAtMs;
    socket.setNoDelay(true);
    if (host.options.clientIdleTimeoutMs > 0) {
      socket.setTimeout(host.options.clientIdleTimeoutMs, () => socket.destroy());
    }
    this.done = new Promise((resolve) => {
      socket.once('close', () => {
        this.#clearPartialTimer();
        this.#closing = true;
        host.closed(this);
        resolve();
      });
    });
    socket.on('error', () => {
      // A reset or broken pipe: 'close' follows and cleans up.
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => {
      this.#peerEnded = true;
      if (!this.#busy) this.#endIfDone();
    });
  }

  get queryBufferBytes(): number {
    return this.#parser.bufferedBytes;
  }

  get outputBufferBytes(): number {
    return this.#socket.writableLength;
  }

  /**
   * Stops taking commands, lets the running one reply, then closes. Reading
   * goes on (input is dropped) so the client's FIN is seen and the socket
   * can close.
   */
  shutdown(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.resume();
    if (!this.#busy) this.#socket.end();
  }

  /** Cuts the connection now. */
  destroy(): void {
    this.#closing = true;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closing) return;
    try {
      this.#parser.push(chunk);
    } catch (e) {
      if (!(e instanceof ProtocolError)) {
        // A parser bug must cost this connection, never the process.
        this.#host.report(e);
        this.destroy();
        return;
      }
      this.#pendingError = e;
      if (this.#busy) this.#socket.pause();
      else this.#fail(e);
      return;
    }
    if (this.#busy) this.#updateFlow();
    else void this.#pump();
  }

  #updateFlow(): void {
    if (this.#closing) {
      // Keep reading (and dropping) input so the client's FIN arrives.
      if (this.#socket.isPaused()) this.#socket.resume();
      return;
    }
    const pause =
      this.#waitingDrain ||
      (this.#busy && this.#parser.bufferedBytes > this.#host.options.inputHighWaterBytes);
    if (pause && !this.#socket.isPaused()) this.#socket.pause();
    else if (!pause && this.#socket.isPaused()) this.#socket.resume();
  }

  async #pump(): Promise<void> {
    this.#busy = true;
    this.#socket.cork();
    try {
      while (!this.#closing) {
        if (this.#pendingError !== undefined) {
          this.#fail(this.#pendingError);
          return;
        }
        let args: Buffer[] | undefined = this.#held;
        this.#held = undefined;
        try {
          args ??= this.#parser.next();
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          this.#fail(e);
          return;
        }
        if (args === undefined) break;
        this.#clearPartialTimer();
        this.#parser.authRequired = !this.authenticated;
        const batch = this.authenticated ? this.#batchFrom(args) : [args];
        const results = await Promise.all(
          batch.map((command) =>
            dispatch({ server: this.#host.state, conn: this }, command, (e) => this.#host.report(e)),
          ),
        );
        this.#host.state.stats.commandsProcessed += results.length;
        this.lastCommand = results[results.length - 1]!.name;
        this.lastCommandAtMs = Date.now();
        this.#parser.authRequired = !this.authenticated;
        if (this.#socket.destroyed) return;
        for (let i = 0; i < results.length - 1; i++) {
          this.#socket.write(encodeReply(results[i]!.reply, this.protocol));
          // The output bound holds reply by reply (computed ones wait here, at most a batch of them).
          if (this.#socket.writableLength > this.#host.options.outputHighWaterBytes) await this.#drain();
          if (this.#socket.destroyed) return;
        }
        this.#socket.write(encodeReply(results[results.length - 1]!.reply, this.protocol));
        if (this.closeAfterReply) {
          this.#closing = true;
          this.#socket.uncork();
          this.#socket.end();
          return;
        }
        if (this.#socket.writableLength > this.#host.options.outputHighWaterBytes) await this.#drain();
      }
    } catch (e) {
      this.#host.report(e);
      this.destroy();
    } finally {
      this.#socket.uncork();
      this.#busy = false;
    }
    if (this.#closing) {
      if (!this.#socket.destroyed) this.#socket.end();
      return;
    }
    this.#updateFlow();
    if (this.#parser.hasPartial) this.#armPartialTimer();
    this.#endIfDone();
  }

  /**
   * `first` and the complete commands after it that may run with it: key
   * commands touching no connection state, none writing a key another one
   * in the batch reads or writes. The first command that cannot join is held
   * for the next round. A protocol error stays in the parser for it too.
   */
  #batchFrom(first: Buffer[]): Buffer[][] {
    const batch = [first];
    const firstKeys = parallelKeys(first);
    if (firstKeys === undefined) return batch;
    const touched = new Map<string, boolean>();
    const add = ({ keys, write }: { keys: string[]; write: boolean }) => {
      for (const key of keys) touched.set(key, write || (touched.get(key) ?? false));
    };
    add(firstKeys);
    while (batch.length < PIPELINE_PARALLEL_MAX && this.#pendingError === undefined) {
      let next: Buffer[] | undefined;
      try {
        next = this.#parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        this.#pendingError = e;
        break;
      }
      if (next === undefined) break;
      const keys = parallelKeys(next);
      const conflicts =
        keys === undefined ||
        keys.keys.some((key) => touched.has(key) && (keys.write || touched.get(key) === true));
      if (conflicts) {
        this.#held = next;
        break;
      }
      add(keys);
      batch.push(next);
    }
    return batch;
  }

  /** Flushes corked replies and waits until the client has read them (or is gone). */
  async #drain(): Promise<void> {
    this.#socket.uncork();
    this.#waitingDrain = true;
    this.#updateFlow();
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
    this.#waitingDrain = false;
    this.#socket.cork();
  }

  /** After the client half-closed, closes once every complete command has been answered. */
  #endIfDone(): void {
    if (this.#peerEnded && !this.#busy && !this.#closing) {
      this.#closing = true;
      this.#socket.end();
    }
  }

  #fail(e: ProtocolError): void {
    this.#closeWith(e.replyText);
  }

  #closeWith(errorText: string): void {
    this.#closing = true;
    this.#clearPartialTimer();
    this.#socket.resume();
    if (this.#socket.destroyed) return;
    this.#socket.end(`-${errorText}\r\n`);
    // A client that never reads must not keep the socket: cut it after the grace period.
    setTimeout(() => this.#socket.destroy(), this.#host.options.closeTimeoutMs).unref();
  }

  #armPartialTimer(): void {
    if (this.#partialTimer !== undefined) return;
    const ms = this.#host.options.partialCommandTimeoutMs;
    this.#partialTimer = setTimeout(() => {
      this.#partialTimer = undefined;
      if (!this.#busy && this.#parser.hasPartial) {
        this.#closeWith(`ERR Protocol error: command not complete within partialCommandTimeoutMs (${ms})`);
      }
    }, ms);
    this.#partialTimer.unref();
  }

  #clearPartialTimer(): void {
    if (this.#partialTimer !== undefined) clearTimeout(this.#partialTimer);
    this.#partialTimer = undefined;
  }
}
