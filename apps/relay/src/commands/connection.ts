/** Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, CLIENT, READONLY, READWRITE. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { wrongPass } from '../auth/errors.ts';
import { CommandError } from '../errors.ts';
import { array, bulk, bulkOrNull, integer, OK, record, simple, verbatim } from '../resp/reply.ts';
import { intArg, NOT_AN_INTEGER, quoted, SYNTAX_ERROR, word } from './args.ts';
import { clientInfoLine } from './client-info.ts';
import { container } from './container.ts';
import type { CommandContext, CommandSpec } from './types.ts';

/** The Redis version whose behaviour Tessera's RESP server follows (reported in HELLO and INFO). */
export const REDIS_COMPATIBLE_VERSION = '7.0.0';

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

function digest(text: Uint8Array | string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Checks a username/password pair against the configured password, or the password as a capability token. @throws CommandError WRONGPASS */
async function authenticate(
  ctx: CommandContext,
  username: Buffer | undefined,
  password: Buffer,
): Promise<void> {
  const guard = ctx.server.guard;
  if (guard?.requiresToken === true) {
    if (username !== undefined && username.toString() !== 'default') throw new CommandError(WRONGPASS);
    try {
      ctx.conn.capability = await guard.authenticate(password.toString('utf8'));
    } catch (e) {
      throw new CommandError(wrongPass(e));
    }
    ctx.conn.authenticated = true;
    return;
  }
  const expected = ctx.server.password;
  if (expected === undefined) {
    if (username === undefined) {
      throw new CommandError(
        'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
      );
    }
    // With no password, the default user accepts any password (Redis' nopass).
    if (username.toString() !== 'default') throw new CommandError(WRONGPASS);
    ctx.conn.authenticated = true;
    return;
  }
  const userOk = username === undefined || username.toString() === 'default';
  // Compare digests so the time taken does not depend on where the strings differ.
  if (!userOk || !timingSafeEqual(digest(password), digest(expected))) throw new CommandError(WRONGPASS);
  ctx.conn.authenticated = true;
}

/** Redis allows client names of printable ASCII without spaces. */
function checkClientName(name: Buffer): void {
  for (const byte of name) {
    if (byte < 0x21 || byte > 0x7e) {
      throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
    }
  }
}

async function hello(ctx: CommandContext, args: Buffer[]) {
  let protocol = ctx.conn.protocol;
  if (args.length >= 2) {
    let version: number;
    try {
      version = intArg(args[1]);
    } catch {
      throw new CommandError('ERR Protocol version is not an integer or out of range');
    }
    if (version !== 2 && version !== 3) throw new CommandError('NOPROTO unsupported protocol version');
    protocol = version;
  }
  let auth: [Buffer, Buffer] | undefined;
  let name: Buffer | undefined;
  for (let i = 2; i < args.length; i++) {
    const opt = word(args[i]);
    if (opt === 'auth' && i + 2 < args.length) {
      auth = [args[i + 1]!, args[i + 2]!];
      i += 2;
    } else if (opt === 'setname' && i + 1 < args.length) {
      name = args[++i]!;
      checkClientName(name);
    } else {
      throw new CommandError(`ERR Syntax error in HELLO option '${quoted(args[i]!)}'`);
    }
  }
  if (auth !== undefined) await authenticate(ctx, auth[0], auth[1]);
  if (!ctx.conn.authenticated) {
    throw new CommandError(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  }
  if (name !== undefined) ctx.conn.name = name.length === 0 ? undefined : name.toString('latin1');
  ctx.conn.protocol = protocol;
  return record([
    ['server', bulk('tessera')],
    ['version', bulk(REDIS_COMPATIBLE_VERSION)],
    ['proto', integer(protocol)],
    ['id', integer(ctx.conn.id)],
    ['mode', bulk('cluster')],
    ['role', bulk('master')],
    ['modules', array([])],
  ]);
}

export const connectionCommands: CommandSpec[] = [
  {
    name: 'ping',
    arity: -1,
    flags: ['fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'connection',
    summary: "Returns the server's liveliness response.",
    since: '1.0.0',
    handler: (_ctx, args) => {
      if (args.length > 2) throw new CommandError("ERR wrong number of arguments for 'ping' command");
      return args.length === 2 ? bulk(args[1]!) : simple('PONG');
    },
  },
  {
    name: 'echo',
    arity: 2,
    flags: ['fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'connection',
    summary: 'Returns the given string.',
    since: '1.0.0',
    handler: (_ctx, args) => bulk(args[1]!),
  },
  {
    name: 'hello',
    arity: -1,
    flags: ['noauth', 'fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'connection',
    summary: 'Handshakes with the server: RESP version, authentication and client name.',
    since: '6.0.0',
    noAuth: true,
    handler: hello,
  },
  {
    name: 'auth',
    arity: -2,
    flags: ['noauth', 'fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'connection',
    summary: 'Authenticates the connection.',
    since: '1.0.0',
    noAuth: true,
    handler: async (ctx, args) => {
      if (args.length > 3) throw new CommandError(SYNTAX_ERROR);
      if (args.length === 3) await authenticate(ctx, args[1], args[2]!);
      else await authenticate(ctx, undefined, args[1]!);
      return OK;
    },
  },
  {
    name: 'select',
    arity: 2,
    flags: ['fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'connection',
    summary: 'Changes the selected database.',
    since: '1.0.0',
    handler: (ctx, args) => {
      let db: number;
      try {
        db = intArg(args[1]);
      } catch {
        throw new CommandError(NOT_AN_INTEGER);
      }
      if (db < 0 || db >= ctx.server.backend.databases)
        throw new CommandError('ERR DB index is out of range');
      ctx.conn.db = db;
      return OK;
    },
  },
  {
    name: 'tessera.consistency',
    arity: -1,
    flags: ['fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'connection',
    summary:
      "Reads or sets this connection's read/write consistency (one, quorum, all, default) on the replicated backend.",
    since: '7.0.0',
    handler: (ctx, args) => {
      if (args.length > 2) throw new CommandError(SYNTAX_ERROR);
      if (args.length === 1) return bulk(ctx.conn.consistency ?? 'default');
      if (ctx.server.backend.withConsistency === undefined) {
        throw new CommandError('ERR TESSERA.CONSISTENCY needs the replicated backend (this server is local)');
      }
      const level = word(args[1]);
      if (level === 'default') ctx.conn.consistency = undefined;
      else if (level === 'one' || level === 'quorum' || level === 'all') ctx.conn.consistency = level;
      else throw new CommandError('ERR consistency must be one, quorum, all or default');
      return OK;
    },
  },
  {
    name: 'quit',
    arity: -1,
    flags: ['noauth', 'fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'connection',
    summary: 'Closes the connection.',
    since: '1.0.0',
    noAuth: true,
    handler: (ctx) => {
      ctx.conn.closeAfterReply = true;
      return OK;
    },
  },
  {
    name: 'readonly',
    arity: 1,
    flags: ['fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'cluster',
    summary: 'Enables read-only queries for a connection to a Redis Cluster replica node.',
    since: '3.0.0',
    handler: (ctx) => {
      ctx.conn.readonly = true;
      return OK;
    },
  },
  {
    name: 'readwrite',
    arity: 1,
    flags: ['fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'cluster',
    summary: 'Enables read-write queries for a connection to a Redis Cluster replica node.',
    since: '3.0.0',
    handler: (ctx) => {
      ctx.conn.readonly = false;
      return OK;
    },
  },
  container(
    {
      name: 'client',
      group: 'connection',
      summary: 'A container for client connection commands.',
      since: '2.4.0',
    },
    {
      id: {
        arity: 2,
        summary: 'Returns the unique client ID of the connection.',
        handler: (ctx) => integer(ctx.conn.id),
      },
      getname: {
        arity: 2,
        summary: 'Returns the name of the connection.',
        handler: (ctx) => bulkOrNull(ctx.conn.name),
      },
      setname: {
        arity: 3,
        summary: 'Sets the connection name.',
        handler: (ctx, args) => {
          checkClientName(args[2]!);
          ctx.conn.name = args[2]!.length === 0 ? undefined : args[2]!.toString('latin1');
          return OK;
        },
      },
      setinfo: {
        arity: 4,
        summary: 'Sets information specific to the client (accepted and ignored).',
        handler: (_ctx, args) => {
          const attr = word(args[2]);
          if (attr !== 'lib-name' && attr !== 'lib-ver') {
            throw new CommandError(`ERR Unrecognized option '${quoted(args[2]!)}'`);
          }
          return OK;
        },
      },
      info: {
        arity: 2,
        summary: 'Returns information about the connection.',
        handler: (ctx) => verbatim(clientInfoLine(ctx.conn, Date.now())),
      },
      list: {
        arity: -2,
        summary: 'Lists open connections.',
        handler: (ctx) => {
          const now = Date.now();
          return verbatim([...ctx.server.connections()].map((c) => clientInfoLine(c, now)).join(''));
        },
      },
    },
  ),
];
