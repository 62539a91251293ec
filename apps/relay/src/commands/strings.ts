/** String commands: GET, SET, MGET, MSET, the INCR family, DEL, EXISTS, TTL. */
import type { SetOptions } from '../backend/backend.ts';
import { CommandError, IncrementOverflowError } from '../errors.ts';
import { array, bulkOrNull, integer, NULL, OK } from '../resp/reply.ts';
import { arityError, int64Arg, SYNTAX_ERROR, word } from './args.ts';
import { backendOf } from './backend-of.ts';
import type { CommandContext, CommandSpec } from './types.ts';

const INT64_MIN = -(2n ** 63n);

type Spec = Omit<CommandSpec, 'flags' | 'firstKey' | 'lastKey' | 'keyStep' | 'group'> &
  Partial<Pick<CommandSpec, 'flags' | 'firstKey' | 'lastKey' | 'keyStep' | 'group'>>;

function spec(s: Spec): CommandSpec {
  return { flags: [], firstKey: 1, lastKey: 1, keyStep: 1, group: 'string', ...s };
}

function invalidExpire(): CommandError {
  return new CommandError("ERR invalid expire time in 'set' command");
}

/** Parses SET's options after `SET key value` exactly as Redis does. */
export function parseSetOptions(args: Buffer[], nowMs: number): SetOptions {
  let condition: 'NX' | 'XX' | undefined;
  let returnPrevious = false;
  let keepTtl = false;
  let unit: 'ex' | 'px' | 'exat' | 'pxat' | undefined;
  let amount: Buffer | undefined;
  for (let i = 3; i < args.length; i++) {
    const opt = word(args[i]);
    if (opt === 'nx' && condition !== 'XX') condition = 'NX';
    else if (opt === 'xx' && condition !== 'NX') condition = 'XX';
    else if (opt === 'get') returnPrevious = true;
    else if (opt === 'keepttl' && unit === undefined) keepTtl = true;
    else if (
      (opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') &&
      !keepTtl &&
      unit === undefined
    ) {
      if (i + 1 >= args.length) throw new CommandError(SYNTAX_ERROR);
      unit = opt;
      amount = args[++i];
    } else {
      throw new CommandError(SYNTAX_ERROR);
    }
  }
  let expiresAtMs: number | undefined;
  if (unit !== undefined) {
    const n = int64Arg(amount);
    if (n <= 0n) throw invalidExpire();
    const ms = unit === 'ex' || unit === 'exat' ? n * 1000n : n;
    const at = unit === 'ex' || unit === 'px' ? ms + BigInt(nowMs) : ms;
    // Redis refuses overflow of its 64-bit arithmetic; we also need a safe JS number.
    if (at > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidExpire();
    expiresAtMs = Number(at);
  }
  return {
    ...(condition === undefined ? {} : { condition }),
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
    ...(keepTtl ? { keepTtl } : {}),
    ...(returnPrevious ? { returnPrevious } : {}),
  };
}

async function incrementBy(ctx: CommandContext, key: Buffer, delta: bigint) {
  return integer(await backendOf(ctx.server, ctx.conn).incrementBy(ctx.conn.db, key, delta));
}

export const stringCommands: CommandSpec[] = [
  spec({
    name: 'get',
    arity: 2,
    flags: ['readonly', 'fast'],
    summary: 'Returns the string value of a key.',
    since: '1.0.0',
    handler: async ({ server, conn }, args) =>
      bulkOrNull(await backendOf(server, conn).get(conn.db, args[1]!)),
  }),
  spec({
    name: 'set',
    arity: -3,
    flags: ['write', 'denyoom'],
    summary: 'Sets the string value of a key, ignoring its type. The key is created if it does not exist.',
    since: '1.0.0',
    handler: async ({ server, conn }, args) => {
      const options = parseSetOptions(args, Date.now());
      const result = await backendOf(server, conn).set(conn.db, args[1]!, args[2]!, options);
      if (options.returnPrevious) return bulkOrNull(result.previous);
      return result.written ? OK : NULL;
    },
  }),
  spec({
    name: 'mget',
    arity: -2,
    flags: ['readonly', 'fast'],
    lastKey: -1,
    summary: 'Atomically returns the string values of one or more keys.',
    since: '1.0.0',
    handler: async ({ server, conn }, args) =>
      array((await backendOf(server, conn).getMany(conn.db, args.slice(1))).map(bulkOrNull)),
  }),
  spec({
    name: 'mset',
    arity: -3,
    flags: ['write', 'denyoom'],
    lastKey: -1,
    keyStep: 2,
    summary: 'Atomically creates or modifies the string values of one or more keys.',
    since: '1.0.1',
    handler: async ({ server, conn }, args) => {
      if (args.length % 2 !== 1) throw arityError('mset');
      const entries: [Buffer, Buffer][] = [];
      for (let i = 1; i < args.length; i += 2) entries.push([args[i]!, args[i + 1]!]);
      await backendOf(server, conn).setMany(conn.db, entries);
      return OK;
    },
  }),
  spec({
    name: 'incr',
    arity: 2,
    flags: ['write', 'denyoom', 'fast'],
    summary:
      'Increments the integer value of a key by one. Uses 0 as initial value if the key does not exist.',
    since: '1.0.0',
    handler: (ctx, args) => incrementBy(ctx, args[1]!, 1n),
  }),
  spec({
    name: 'decr',
    arity: 2,
    flags: ['write', 'denyoom', 'fast'],
    summary:
      'Decrements the integer value of a key by one. Uses 0 as initial value if the key does not exist.',
    since: '1.0.0',
    handler: (ctx, args) => incrementBy(ctx, args[1]!, -1n),
  }),
  spec({
    name: 'incrby',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    summary:
      'Increments the integer value of a key by a number. Uses 0 as initial value if the key does not exist.',
    since: '1.0.0',
    handler: (ctx, args) => incrementBy(ctx, args[1]!, int64Arg(args[2])),
  }),
  spec({
    name: 'decrby',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    summary:
      'Decrements a number from the integer value of a key. Uses 0 as initial value if the key does not exist.',
    since: '1.0.0',
    handler: (ctx, args) => {
      const n = int64Arg(args[2]);
      // -LLONG_MIN does not exist; Redis words this one differently.
      if (n === INT64_MIN) throw new IncrementOverflowError('ERR decrement would overflow');
      return incrementBy(ctx, args[1]!, -n);
    },
  }),
  spec({
    name: 'del',
    arity: -2,
    flags: ['write'],
    lastKey: -1,
    group: 'generic',
    summary: 'Deletes one or more keys.',
    since: '1.0.0',
    handler: async ({ server, conn }, args) =>
      integer(await backendOf(server, conn).delete(conn.db, args.slice(1))),
  }),
  spec({
    name: 'unlink',
    arity: -2,
    flags: ['write', 'fast'],
    lastKey: -1,
    group: 'generic',
    summary: 'Deletes one or more keys (the same as DEL here: deletes are not deferred).',
    since: '4.0.0',
    handler: async ({ server, conn }, args) =>
      integer(await backendOf(server, conn).delete(conn.db, args.slice(1))),
  }),
  spec({
    name: 'exists',
    arity: -2,
    flags: ['readonly', 'fast'],
    lastKey: -1,
    group: 'generic',
    summary: 'Determines whether one or more keys exist.',
    since: '1.0.0',
    handler: async ({ server, conn }, args) =>
      integer(await backendOf(server, conn).exists(conn.db, args.slice(1))),
  }),
  spec({
    name: 'pttl',
    arity: 2,
    flags: ['readonly', 'fast'],
    group: 'generic',
    summary: 'Returns the expiration time in milliseconds of a key.',
    since: '2.6.0',
    handler: async ({ server, conn }, args) =>
      integer(await backendOf(server, conn).ttlMs(conn.db, args[1]!)),
  }),
  spec({
    name: 'ttl',
    arity: 2,
    flags: ['readonly', 'fast'],
    group: 'generic',
    summary: 'Returns the expiration time in seconds of a key.',
    since: '1.0.0',
    handler: async ({ server, conn }, args) => {
      const ms = await backendOf(server, conn).ttlMs(conn.db, args[1]!);
      // Redis rounds the remaining time to the nearest second.
      return integer(ms < 0 ? ms : Math.floor((ms + 500) / 1000));
    },
  }),
];
