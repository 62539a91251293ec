/** Keyspace commands: KEYS, SCAN, DBSIZE. */
import { CommandError } from '../errors.ts';
import { array, bulk, integer } from '../resp/reply.ts';
import { intArg, SYNTAX_ERROR, word } from './args.ts';
import { backendOf } from './backend-of.ts';
import type { CommandSpec } from './types.ts';

/** Keys examined per backend call while KEYS walks the whole database. */
const KEYS_PAGE_KEYS = 1000;
/** COUNT when SCAN is given none (Redis: 10). */
const SCAN_COUNT_DEFAULT = 10;
/** Upper bound on COUNT, so one SCAN cannot turn into a KEYS. */
const SCAN_COUNT_MAX = 100_000;

export const keyspaceCommands: CommandSpec[] = [
  {
    name: 'keys',
    arity: 2,
    flags: ['readonly'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'generic',
    summary: 'Returns all key names that match a pattern.',
    since: '1.0.0',
    handler: async ({ server, conn }, args) => {
      const keys: Uint8Array[] = [];
      let after: Uint8Array | undefined;
      do {
        const page = await backendOf(server, conn).scan(conn.db, {
          after,
          count: KEYS_PAGE_KEYS,
          match: args[1]!,
        });
        keys.push(...page.keys);
        if (keys.length > server.keysReplyMax) {
          throw new CommandError(
            `ERR KEYS would return more than keysReplyMax (${server.keysReplyMax}) keys; use SCAN`,
          );
        }
        after = page.next;
      } while (after !== undefined);
      return array(keys.map(bulk));
    },
  },
  {
    name: 'scan',
    arity: -2,
    flags: ['readonly'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'generic',
    summary: 'Iterates over the key names in the database.',
    since: '2.8.0',
    handler: async ({ server, conn }, args) => {
      const cursorText = args[1]!.toString('latin1');
      let after: Uint8Array | undefined;
      if (cursorText !== '0') {
        after = server.loadCursor(conn.db, cursorText);
        if (after === undefined) throw new CommandError('ERR invalid cursor');
      }
      let count = SCAN_COUNT_DEFAULT;
      let match: Buffer | undefined;
      let onlyStrings = true;
      for (let i = 2; i < args.length; i += 2) {
        const opt = word(args[i]);
        const value = args[i + 1];
        if (value === undefined) throw new CommandError(SYNTAX_ERROR);
        if (opt === 'count') {
          count = intArg(value);
          if (count < 1) throw new CommandError(SYNTAX_ERROR);
          count = Math.min(count, SCAN_COUNT_MAX);
        } else if (opt === 'match') {
          match = value;
        } else if (opt === 'type') {
          // Every key here is a string.
          onlyStrings = word(value) === 'string';
        } else {
          throw new CommandError(SYNTAX_ERROR);
        }
      }
      const page = await backendOf(server, conn).scan(conn.db, { after, count, ...(match ? { match } : {}) });
      const next = page.next === undefined ? '0' : server.saveCursor(conn.db, page.next);
      return array([bulk(next), array(onlyStrings ? page.keys.map(bulk) : [])]);
    },
  },
  {
    name: 'dbsize',
    arity: 1,
    flags: ['readonly', 'fast'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'server',
    summary: 'Returns the number of keys in the database.',
    since: '1.0.0',
    handler: async ({ server, conn }) => integer((await backendOf(server, conn).stats(conn.db)).keys),
  },
];
