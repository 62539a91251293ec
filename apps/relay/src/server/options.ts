/** Options of the RESP server, every bound named with its unit. */
import { InvalidArgumentError } from '@tessera/core';
import type { RelayGuard } from '../auth/relay-guard.ts';
import type { KvBackend } from '../backend/backend.ts';
import type { RespLimits } from '../resp/limits.ts';

export interface RespServerOptions {
  readonly backend: KvBackend;
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Host CLUSTER SLOTS/NODES announce; default: the local address each client connected to. */
  readonly announceHost?: string;
  /** Port CLUSTER replies announce; default: the listening port. */
  readonly announcePort?: number;
  /** When set, clients must AUTH (or HELLO … AUTH) before other commands. */
  readonly password?: string;
  /**
   * Capability tokens and per-database rate limits: with a token authority,
   * `AUTH <token>` (or `AUTH default <token>`) replaces the password.
   */
  readonly guard?: RelayGuard;
  /** Request parser limits (bulkBytesMax, argsMax, inlineBytesMax, queryBufferBytesMax). */
  readonly limits?: Partial<RespLimits>;
  /** Open connections allowed; more are told `-ERR max number of clients reached` and closed. Default 10000. */
  readonly connectionsMax?: number;
  /** Close a connection with no traffic for this long; 0 (the default, like Redis' `timeout 0`) never. */
  readonly clientIdleTimeoutMs?: number;
  /**
   * Close a connection whose command has started arriving but is not
   * complete after this long (the slowloris guard). Default 30000.
   */
  readonly partialCommandTimeoutMs?: number;
  /**
   * Stop running a client's commands while this many reply bytes wait for
   * it to read, until they drain. Default 1 MiB.
   */
  readonly outputHighWaterBytes?: number;
  /** Stop reading from a client while this many unparsed bytes wait behind a running command. Default 1 MiB. */
  readonly inputHighWaterBytes?: number;
  /** Graceful close waits this long for in-flight commands before cutting connections. Default 5000. */
  readonly closeTimeoutMs?: number;
  /** SCAN cursors remembered. Default 100000. */
  readonly scanCursorsMax?: number;
  /** Most keys one KEYS reply may hold. Default 1000000. */
  readonly keysReplyMax?: number;
  /** Hears about errors that are bugs or I/O failures (not client mistakes). Default: ignore. */
  readonly onError?: (error: unknown) => void;
}

export interface ResolvedServerOptions {
  readonly host: string;
  readonly port: number;
  readonly connectionsMax: number;
  readonly clientIdleTimeoutMs: number;
  readonly partialCommandTimeoutMs: number;
  readonly outputHighWaterBytes: number;
  readonly inputHighWaterBytes: number;
  readonly closeTimeoutMs: number;
  readonly scanCursorsMax: number;
  readonly keysReplyMax: number;
}

function check(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

export function resolveServerOptions(o: RespServerOptions): ResolvedServerOptions {
  return {
    host: o.host ?? '127.0.0.1',
    port: check('port', o.port ?? 0, 0, 65_535),
    connectionsMax: check('connectionsMax', o.connectionsMax ?? 10_000, 1),
    clientIdleTimeoutMs: check('clientIdleTimeoutMs', o.clientIdleTimeoutMs ?? 0, 0),
    partialCommandTimeoutMs: check('partialCommandTimeoutMs', o.partialCommandTimeoutMs ?? 30_000, 1),
    outputHighWaterBytes: check('outputHighWaterBytes', o.outputHighWaterBytes ?? 1024 * 1024, 1),
    inputHighWaterBytes: check('inputHighWaterBytes', o.inputHighWaterBytes ?? 1024 * 1024, 1),
    closeTimeoutMs: check('closeTimeoutMs', o.closeTimeoutMs ?? 5_000, 0),
    scanCursorsMax: check('scanCursorsMax', o.scanCursorsMax ?? 100_000, 1),
    keysReplyMax: check('keysReplyMax', o.keysReplyMax ?? 1_000_000, 1),
  };
}
