/**
 * Runs one command: finds it, checks arity and authentication, calls the
 * handler and turns any failure into a Redis-format error reply. Nothing a
 * client sends makes this throw.
 */
import { LimitExceededError, TesseraError } from '@tessera/core';
import { respAuthError } from '../auth/errors.ts';
import { arityError, quoted, word } from '../commands/args.ts';
import type { CommandContext, CommandSpec } from '../commands/types.ts';
import { CommandError } from '../errors.ts';
import { error, type Reply } from '../resp/reply.ts';

/** Redis lists at most this many bytes of arguments after an unknown command. */
const UNKNOWN_ARGS_BYTES_MAX = 128;

function arityOk(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}

function unknownCommand(args: Buffer[]): Reply {
  let listed = '';
  for (let i = 1; i < args.length && listed.length < UNKNOWN_ARGS_BYTES_MAX; i++) {
    listed += `'${quoted(args[i]!).slice(0, UNKNOWN_ARGS_BYTES_MAX - listed.length)}' `;
  }
  return error(`ERR unknown command '${quoted(args[0]!)}', with args beginning with: ${listed}`);
}

/** The spec that will run, or an error reply. */
function resolve(commands: ReadonlyMap<string, CommandSpec>, args: Buffer[]): CommandSpec | Reply {
  const spec = commands.get(word(args[0]));
  if (spec === undefined) return unknownCommand(args);
  if (spec.subcommands === undefined || (args.length === 1 && arityOk(spec.arity, 1))) {
    return arityOk(spec.arity, args.length) ? spec : error(arityError(spec.name).message);
  }
  if (args.length < 2) return error(arityError(spec.name).message);
  const sub = spec.subcommands.get(word(args[1]));
  if (sub === undefined) {
    return error(`ERR unknown subcommand '${quoted(args[1]!)}'. Try ${spec.name.toUpperCase()} HELP.`);
  }
  return arityOk(sub.arity, args.length) ? sub : error(arityError(sub.name).message);
}

/** Maps a thrown error to its reply; `report` hears about the ones that are bugs or I/O failures. */
export function errorReply(e: unknown, report: (error: unknown) => void): Reply {
  if (e instanceof CommandError) return error(e.message);
  const auth = respAuthError(e);
  if (auth !== undefined) return error(auth);
  if (e instanceof LimitExceededError) return error(`ERR ${e.message}`);
  if (e instanceof TesseraError) {
    report(e);
    return error(`ERR ${e.code} ${e.message}`);
  }
  report(e);
  return error('ERR internal error');
}

/** Commands that read or write a database's keys (those that name keys, and the keyspace-wide ones). */
const KEYSPACE_COMMANDS = new Set(['keys', 'scan', 'dbsize', 'flushdb', 'flushall', 'randomkey']);
function touchesData(spec: CommandSpec): boolean {
  return spec.firstKey > 0 || KEYSPACE_COMMANDS.has(spec.name);
}

/** Runs `args` in `ctx`; returns the reply and the spec's full name (for CLIENT INFO `cmd=`). */
export async function dispatch(
  ctx: CommandContext,
  args: Buffer[],
  report: (error: unknown) => void,
): Promise<{ reply: Reply; name: string }> {
  const resolved = resolve(ctx.server.commands, args);
  if (!('handler' in resolved)) return { reply: resolved, name: 'NULL' };
  // CLIENT INFO run by this very command reports it, as in Redis.
  ctx.conn.lastCommand = resolved.name;
  if (
    !ctx.conn.authenticated &&
    !resolved.noAuth &&
    !ctx.server.commands.get(resolved.name.split('|')[0]!)?.noAuth
  ) {
    return { reply: error('NOAUTH Authentication required.'), name: resolved.name };
  }
  try {
    const guard = ctx.server.guard;
    if (guard !== undefined && touchesData(resolved)) {
      guard.check(ctx.conn.capability, ctx.conn.db, resolved.flags.includes('write') ? 'write' : 'read');
    }
    return { reply: await resolved.handler(ctx, args), name: resolved.name };
  } catch (e) {
    return { reply: errorReply(e, report), name: resolved.name };
  }
}
