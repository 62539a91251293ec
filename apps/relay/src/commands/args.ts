/** Argument helpers shared by command handlers, with Redis' error texts. */
import { parseInt64 } from '../backend/local-backend.ts';
import { CommandError } from '../errors.ts';

export const SYNTAX_ERROR = 'ERR syntax error';
export const NOT_AN_INTEGER = 'ERR value is not an integer or out of range';

/** The argument as a lower-case ASCII word (for option and subcommand names). */
export function word(arg: Buffer | undefined): string {
  return arg === undefined ? '' : arg.toString('latin1').toLowerCase();
}

/** A signed 64-bit integer argument. @throws CommandError `ERR value is not an integer or out of range` */
export function int64Arg(arg: Buffer | undefined): bigint {
  const n = arg === undefined ? undefined : parseInt64(arg);
  if (n === undefined) throw new CommandError(NOT_AN_INTEGER);
  return n;
}

/** An integer argument that must also be a safe JS number. */
export function intArg(arg: Buffer | undefined): number {
  const n = int64Arg(arg);
  if (n < BigInt(Number.MIN_SAFE_INTEGER) || n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CommandError(NOT_AN_INTEGER);
  }
  return Number(n);
}

/** Redis' arity error. `name` is the full lower-case name (`cluster|keyslot` for subcommands). */
export function arityError(name: string): CommandError {
  return new CommandError(`ERR wrong number of arguments for '${name}' command`);
}

/** Redis quotes at most this many bytes of a client's argument in an error. */
const QUOTED_BYTES_MAX = 128;

/** An argument quoted into an error message, cut and made printable like Redis. */
export function quoted(arg: Buffer): string {
  return arg
    .subarray(0, QUOTED_BYTES_MAX)
    .toString('latin1')
    .replace(/[\r\n]/g, ' ');
}
