/**
 * The RESP server: a node:net listener that hands each socket to a
 * `Connection`, bounds how many there are, and closes gracefully.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { commandTable } from '../commands/table.ts';
import type { ServerState, ServerStats } from '../commands/types.ts';
import { resolveRespLimits } from '../resp/limits.ts';
import { Connection, type ConnectionHost } from './connection.ts';
import { ScanCursors } from './cursors.ts';
import { type RespServerOptions, resolveServerOptions } from './options.ts';

/** A running RESP server. */
export interface RespServer {
  /** Where it listens (the real port when 0 was asked). */
  readonly host: string;
  readonly port: number;
  readonly stats: Readonly<ServerStats>;
  /** Open connections now. */
  readonly connectionCount: number;
  /**
   * Stops accepting, lets each connection finish its running command and
   * flush its reply, then closes them; connections still open after
   * `closeTimeoutMs` are cut. Does not close the backend.
   */
  close(): Promise<void>;
}

/** Starts a RESP server over `options.backend` and resolves once it listens. */
export async function startRespServer(options: RespServerOptions): Promise<RespServer> {
  const resolved = resolveServerOptions(options);
  const limits = resolveRespLimits(options.limits);
  const connections = new Set<Connection>();
  const cursors = new ScanCursors(resolved.scanCursorsMax);
  const stats: ServerStats = { connectionsReceived: 0, connectionsRejected: 0, commandsProcessed: 0 };
  const report = options.onError ?? (() => {});
  let nextId = 1;
  let listeningPort = resolved.port;

  const config: Record<string, string> = {
    databases: String(options.backend.databases),
    maxclients: String(resolved.connectionsMax),
    timeout: String(Math.floor(resolved.clientIdleTimeoutMs / 1000)),
    'proto-max-bulk-len': String(limits.bulkBytesMax),
    'client-query-buffer-limit': String(limits.queryBufferBytesMax),
    'cluster-enabled': 'yes',
    save: '',
    appendonly: 'no',
  };

  const state: ServerState = {
    backend: options.backend,
    startedAtMs: Date.now(),
    stats,
    get announce() {
      return { host: options.announceHost, port: options.announcePort ?? listeningPort };
    },
    password: options.password,
    guard: options.guard,
    connectionsMax: resolved.connectionsMax,
    keysReplyMax: resolved.keysReplyMax,
    get config() {
      return { ...config, port: String(listeningPort) };
    },
    connections: () => connections.values(),
    commands: commandTable(),
    saveCursor: (db, after) => cursors.save(db, after),
    loadCursor: (db, cursor) => cursors.load(db, cursor),
  };

  const host: ConnectionHost = {
    state,
    options: resolved,
    limits,
    report,
    closed: (c) => connections.delete(c),
  };

  const server: Server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    stats.connectionsReceived++;
    if (connections.size >= resolved.connectionsMax) {
      stats.connectionsRejected++;
      socket.on('error', () => {});
      socket.end('-ERR max number of clients reached\r\n');
      setTimeout(() => socket.destroy(), resolved.closeTimeoutMs).unref();
      return;
    }
    connections.add(new Connection(socket, host, nextId++));
  });
  server.on('error', report);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address !== null && typeof address === 'object') listeningPort = address.port;

  let closing: Promise<void> | undefined;
  return {
    host: resolved.host,
    port: listeningPort,
    stats,
    get connectionCount() {
      return connections.size;
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const open = [...connections];
        for (const c of open) c.shutdown();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const deadline = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, resolved.closeTimeoutMs);
        });
        await Promise.race([Promise.all(open.map((c) => c.done)), deadline]);
        clearTimeout(timer);
        for (const c of connections) c.destroy();
        await Promise.all(open.map((c) => c.done));
        await stopped;
      })();
      return closing;
    },
  };
}
