/** Every command the RESP server knows, by lower-case name. */
import { clusterCommands } from './cluster.ts';
import { connectionCommands } from './connection.ts';
import { keyspaceCommands } from './keyspace.ts';
import { primaryCommands } from './primary.ts';
import { serverCommands } from './server.ts';
import { stringCommands } from './strings.ts';
import type { CommandSpec } from './types.ts';

export function commandTable(): ReadonlyMap<string, CommandSpec> {
  const all = [
    ...connectionCommands,
    ...stringCommands,
    ...keyspaceCommands,
    ...serverCommands,
    ...clusterCommands,
    ...primaryCommands,
  ];
  return new Map(all.map((c) => [c.name, c]));
}
