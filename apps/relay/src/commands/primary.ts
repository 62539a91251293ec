/**
 * TESSERA.PRIMARY: how one peer runs a read-modify-write at the key's
 * primary (see `ReplicatedKvBackend`). Internal, but an ordinary command
 * (it needs AUTH like any other):
 * `TESSERA.PRIMARY <consistency> <db> SET key value [NX|XX] [GET] [KEEPTTL|PXAT ms]`
 * answers `[written 0|1, previous or nil]`;
 * `TESSERA.PRIMARY <consistency> <db> INCRBY key delta` answers the new value.
 * The receiving peer runs it itself, never forwarding again.
 */
import type { ConditionalOp } from '../backend/backend.ts';
import { CommandError } from '../errors.ts';
import { array, bulkOrNull, integer, type Reply } from '../resp/reply.ts';
import { int64Arg, intArg, SYNTAX_ERROR, word } from './args.ts';
import { parseSetOptions } from './strings.ts';
import type { CommandSpec } from './types.ts';

export const primaryCommands: CommandSpec[] = [
  {
    name: 'tessera.primary',
    arity: -6,
    flags: ['write', 'denyoom'],
    firstKey: 4,
    lastKey: 4,
    keyStep: 1,
    group: 'string',
    summary: "Runs a read-modify-write forwarded by another peer at this peer, the key's primary (internal).",
    since: '7.0.0',
    handler: async ({ server }, args): Promise<Reply> => {
      const level = word(args[1]);
      if (level !== 'one' && level !== 'quorum' && level !== 'all') {
        throw new CommandError('ERR consistency must be one, quorum or all');
      }
      const base = server.backend.withConsistency?.(level);
      if (base?.conditionalHere === undefined) {
        throw new CommandError('ERR TESSERA.PRIMARY needs the replicated backend');
      }
      const db = intArg(args[2]);
      if (db < 0 || db >= server.backend.databases) throw new CommandError('ERR DB index is out of range');
      const inner = args.slice(3);
      const name = word(inner[0]);
      let op: ConditionalOp;
      if (name === 'incrby' && inner.length === 3) {
        op = { kind: 'incr', key: inner[1]!, delta: int64Arg(inner[2]) };
      } else if (name === 'set') {
        op = { kind: 'set', key: inner[1]!, value: inner[2]!, options: parseSetOptions(inner, Date.now()) };
      } else {
        throw new CommandError(SYNTAX_ERROR);
      }
      const result = await base.conditionalHere(db, op);
      if (typeof result === 'bigint') return integer(result);
      return array([integer(result.written ? 1 : 0), bulkOrNull(result.previous)]);
    },
  },
];
