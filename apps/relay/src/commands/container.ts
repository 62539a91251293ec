/** Commands with subcommands (CLIENT, CLUSTER, COMMAND, CONFIG) and their HELP. */
import { array, simple } from '../resp/reply.ts';
import type { CommandHandler, CommandSpec } from './types.ts';

export type SubSpec = Pick<CommandSpec, 'arity' | 'summary' | 'handler'> & {
  readonly flags?: readonly string[];
  readonly noAuth?: boolean;
};

/** A parent command whose handler is never called: dispatch picks the subcommand. */
export function container(
  parent: Pick<CommandSpec, 'name' | 'group' | 'summary' | 'since'> & { readonly noAuth?: boolean },
  subs: Record<string, SubSpec>,
): CommandSpec {
  const map = new Map<string, CommandSpec>();
  const upper = parent.name.toUpperCase();
  const help: CommandHandler = () =>
    array([
      simple(`${upper} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`),
      ...[...map.values()].flatMap((s) => [
        simple(s.name.split('|')[1]!.toUpperCase()),
        simple(`    ${s.summary}`),
      ]),
    ]);
  const all: Record<string, SubSpec> = {
    ...subs,
    help: { arity: 2, summary: 'Prints this help.', handler: help },
  };
  for (const [name, sub] of Object.entries(all)) {
    map.set(name, {
      name: `${parent.name}|${name}`,
      arity: sub.arity,
      flags: sub.flags ?? [],
      firstKey: 0,
      lastKey: 0,
      keyStep: 0,
      group: parent.group,
      summary: sub.summary,
      since: parent.since,
      ...(sub.noAuth ? { noAuth: true } : {}),
      handler: sub.handler,
    });
  }
  return {
    ...parent,
    arity: -2,
    flags: [],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    subcommands: map,
    handler: help,
  };
}
