/**
 * The shapes commands are written against: what a handler may read and
 * change about its connection and its server, and how a command describes
 * itself (for arity checks and COMMAND / COMMAND DOCS).
 */
import type { Capability } from '@tessera/auth';
import type { RelayGuard } from '../auth/relay-guard.ts';
import type { Consistency, KvBackend } from '../backend/backend.ts';
import type { Protocol, Reply } from '../resp/reply.ts';

/** Per-connection state a command may read or change. */
export interface ConnectionState {
  readonly id: number;
  protocol: Protocol;
  db: number;
  /** TESSERA.CONSISTENCY of this connection; undefined = the backend's default. */
  consistency: Consistency | undefined;
  name: string | undefined;
  authenticated: boolean;
  /** The capability of the token this connection AUTHed with (when the server takes tokens). */
  capability: Capability | undefined;
  readonly: boolean;
  /** Set by QUIT: the connection closes once this reply is written. */
  closeAfterReply: boolean;
  /** `ip:port` of the client. */
  readonly remoteAddress: string;
  /** `ip:port` of this end. */
  readonly localAddress: string;
  /** The local IP the client reached us on (without port), for CLUSTER replies. */
  readonly localHost: string;
  readonly createdAtMs: number;
  lastCommandAtMs: number;
  lastCommand: string;
  /** Bytes waiting in the request parser. */
  readonly queryBufferBytes: number;
  /** Bytes waiting to be written to the client. */
  readonly outputBufferBytes: number;
}

/** Counters for INFO stats. */
export interface ServerStats {
  connectionsReceived: number;
  connectionsRejected: number;
  commandsProcessed: number;
}

/** What the server exposes to commands. */
export interface ServerState {
  readonly backend: KvBackend;
  readonly startedAtMs: number;
  readonly stats: ServerStats;
  /** Host and port CLUSTER replies announce; host may be undefined (use the connection's local address). */
  readonly announce: { readonly host: string | undefined; readonly port: number };
  readonly password: string | undefined;
  /** Capability and rate-limit checks (`src/auth`); undefined when neither is on. */
  readonly guard: RelayGuard | undefined;
  readonly connectionsMax: number;
  readonly keysReplyMax: number;
  readonly config: Readonly<Record<string, string>>;
  connections(): Iterable<ConnectionState>;
  /** The command table (for COMMAND). */
  readonly commands: ReadonlyMap<string, CommandSpec>;
  /** Stores a SCAN resume position and returns its cursor; see `ScanCursors`. */
  saveCursor(db: number, after: Uint8Array): string;
  /** The resume position of a cursor, or undefined when unknown. */
  loadCursor(db: number, cursor: string): Uint8Array | undefined;
}

/** Everything a handler gets. */
export interface CommandContext {
  readonly server: ServerState;
  readonly conn: ConnectionState;
}

/** `args[0]` is the command name as the client sent it. */
export type CommandHandler = (ctx: CommandContext, args: Buffer[]) => Reply | Promise<Reply>;

/** A command and what COMMAND says about it. */
export interface CommandSpec {
  /** Lower case, as Redis reports it. */
  readonly name: string;
  /** Redis convention: N means exactly N arguments (name included), -N at least N. */
  readonly arity: number;
  readonly flags: readonly string[];
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly group: string;
  readonly summary: string;
  readonly since: string;
  /** Allowed before AUTH. */
  readonly noAuth?: boolean;
  /** Subcommands by lower-case name; the parent's handler is unused when present. */
  readonly subcommands?: ReadonlyMap<string, CommandSpec>;
  readonly handler: CommandHandler;
}
