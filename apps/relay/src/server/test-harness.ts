/**
 * Helpers for tests of the RESP server: a server over a fresh in-memory
 * store on an ephemeral port, and a raw TCP client that reads replies with
 * `ReplyParser`. Not used by production code.
 */
import { connect, type Socket } from 'node:net';
import { openMemoryStore } from '@tessera/storage';
import { type LocalKvBackend, openLocalBackend } from '../backend/local-backend.ts';
import { encodeCommand } from '../resp/encode.ts';
import type { Reply } from '../resp/reply.ts';
import { ReplyParser } from '../resp/reply-parser.ts';
import type { RespServerOptions } from './options.ts';
import { type RespServer, startRespServer } from './server.ts';

export interface TestServer {
  readonly server: RespServer;
  readonly backend: LocalKvBackend;
  readonly port: number;
  readonly errors: unknown[];
  close(): Promise<void>;
}

export async function startTestServer(options: Omit<RespServerOptions, 'backend'> = {}): Promise<TestServer> {
  const store = await openMemoryStore();
  const errors: unknown[] = [];
  const backend = await openLocalBackend({ store, onError: (e) => errors.push(e) });
  const server = await startRespServer({ port: 0, onError: (e) => errors.push(e), ...options, backend });
  return {
    server,
    backend,
    port: server.port,
    errors,
    async close() {
      await server.close();
      await backend.close();
      await store.close();
    },
  };
}

/** A reply as plain data: strings, numbers, null, arrays, objects for maps; errors as `{ error }`. */
export type Plain = string | number | bigint | boolean | null | Plain[] | { [key: string]: Plain };

export function plain(reply: Reply): Plain {
  switch (reply.type) {
    case 'simple':
      return reply.value;
    case 'error':
      return { error: reply.value };
    case 'integer':
    case 'double':
    case 'boolean':
      return reply.value;
    case 'bulk':
    case 'verbatim':
      return Buffer.from(reply.value).toString('latin1');
    case 'null':
      return null;
    case 'array':
    case 'set':
    case 'push':
      return reply.value.map(plain);
    case 'map':
      return Object.fromEntries(reply.value.map(([k, v]) => [String(plain(k)), plain(v)]));
  }
}

/** A raw TCP client speaking bytes, reading RESP replies. */
export class RawClient {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  readonly #parser = new ReplyParser();
  readonly #replies: Reply[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#parser.push(chunk);
      for (let r = this.#parser.next(); r !== undefined; r = this.#parser.next()) this.#replies.push(r);
      this.#wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#ended = true;
        this.#wake();
        resolve();
      }),
    );
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  write(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next reply; rejects if the connection closes first. */
  async reply(): Promise<Reply> {
    while (this.#replies.length === 0) {
      if (this.#ended) throw new Error('connection closed before a reply');
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
    return this.#replies.shift()!;
  }

  /** Sends one command (as a RESP array) and returns its reply as plain data. */
  async call(...args: (string | Uint8Array)[]): Promise<Plain> {
    this.write(encodeCommand(args));
    return plain(await this.reply());
  }

  /** Every reply that arrived before the connection closed. */
  async repliesUntilClosed(): Promise<Plain[]> {
    await this.closed;
    return this.#replies.splice(0).map(plain);
  }

  close(): void {
    this.socket.destroy();
  }
}
