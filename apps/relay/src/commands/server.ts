/** Server commands: INFO, COMMAND (enough for redis-cli), CONFIG GET. */
import { arch, platform, release } from 'node:os';
import type { KeyspaceStats } from '../backend/backend.ts';
import { globMatch } from '../backend/glob.ts';
import { CommandError, UnsupportedOnReplicatedError } from '../errors.ts';
import { array, bulk, integer, NULL, type Reply, record, simple, verbatim } from '../resp/reply.ts';
import { quoted, word } from './args.ts';
import { REDIS_COMPATIBLE_VERSION } from './connection.ts';
import { container } from './container.ts';
import type { CommandContext, CommandSpec } from './types.ts';

/** Tessera's own version, reported beside the Redis-compatible one. */
export const TESSERA_VERSION = '0.1.0';

const DEFAULT_SECTIONS = [
  'server',
  'clients',
  'memory',
  'persistence',
  'stats',
  'replication',
  'cluster',
  'keyspace',
];

async function infoSection(ctx: CommandContext, section: string): Promise<string[] | undefined> {
  const { server } = ctx;
  const now = Date.now();
  switch (section) {
    case 'server': {
      const uptime = Math.floor((now - server.startedAtMs) / 1000);
      return [
        `redis_version:${REDIS_COMPATIBLE_VERSION}`,
        `tessera_version:${TESSERA_VERSION}`,
        'redis_mode:cluster',
        `os:${platform()} ${release()} ${arch()}`,
        `arch_bits:${arch().includes('64') ? 64 : 32}`,
        `process_id:${process.pid}`,
        `tcp_port:${server.announce.port}`,
        `server_time_usec:${now * 1000}`,
        `uptime_in_seconds:${uptime}`,
        `uptime_in_days:${Math.floor(uptime / 86400)}`,
        `executable:${process.execPath}`,
      ];
    }
    case 'clients': {
      const connections = [...server.connections()];
      return [
        `connected_clients:${connections.length}`,
        `maxclients:${server.connectionsMax}`,
        `client_recent_max_input_buffer:${Math.max(0, ...connections.map((c) => c.queryBufferBytes))}`,
        `client_recent_max_output_buffer:${Math.max(0, ...connections.map((c) => c.outputBufferBytes))}`,
        'blocked_clients:0',
      ];
    }
    case 'memory': {
      const m = process.memoryUsage();
      return [
        `used_memory:${m.heapUsed}`,
        `used_memory_rss:${m.rss}`,
        'maxmemory:0',
        'maxmemory_policy:noeviction',
      ];
    }
    case 'persistence':
      return ['loading:0', 'async_loading:0'];
    case 'stats':
      return [
        `total_connections_received:${server.stats.connectionsReceived}`,
        `total_commands_processed:${server.stats.commandsProcessed}`,
        `rejected_connections:${server.stats.connectionsRejected}`,
      ];
    case 'replication':
      return ['role:master', 'connected_slaves:0'];
    case 'cluster':
      return ['cluster_enabled:1'];
    case 'keyspace': {
      const lines: string[] = [];
      // Counting would walk every owner of every slot, on each client's connect: DBSIZE counts instead.
      if (server.backend.statsScansCluster === true) return lines;
      for (let db = 0; db < server.backend.databases; db++) {
        let s: KeyspaceStats;
        try {
          s = await server.backend.stats(db);
        } catch (e) {
          // The replicated backend cannot count keys across the cluster yet: INFO leaves the section empty
          // (clients such as ioredis send INFO on connect, so it must not fail).
          if (e instanceof UnsupportedOnReplicatedError) return lines;
          throw e;
        }
        if (s.keys > 0) lines.push(`db${db}:keys=${s.keys},expires=${s.expires},avg_ttl=0`);
      }
      return lines;
    }
    default:
      return undefined;
  }
}

async function info(ctx: CommandContext, args: Buffer[]): Promise<Reply> {
  const asked = args.slice(1).map(word);
  let sections: string[];
  if (asked.length === 0 || asked.includes('default')) sections = DEFAULT_SECTIONS;
  else if (asked.includes('all') || asked.includes('everything')) sections = DEFAULT_SECTIONS;
  else sections = DEFAULT_SECTIONS.filter((s) => asked.includes(s));
  const parts: string[] = [];
  for (const section of sections) {
    const lines = await infoSection(ctx, section);
    if (lines === undefined) continue;
    parts.push(
      `# ${section[0]!.toUpperCase()}${section.slice(1)}\r\n${lines.map((l) => `${l}\r\n`).join('')}`,
    );
  }
  return verbatim(parts.join('\r\n'));
}

function commandInfo(spec: CommandSpec): Reply {
  return array([
    bulk(spec.name),
    integer(spec.arity),
    array(spec.flags.map(simple)),
    integer(spec.firstKey),
    integer(spec.lastKey),
    integer(spec.keyStep),
    array([simple(`@${spec.group}`)]),
    array([]),
    array([]),
    array([...(spec.subcommands?.values() ?? [])].map(commandInfo)),
  ]);
}

function commandDocs(spec: CommandSpec): Reply {
  const entries: [string, Reply][] = [
    ['summary', bulk(spec.summary)],
    ['since', bulk(spec.since)],
    ['group', bulk(spec.group)],
  ];
  if (spec.subcommands) {
    entries.push([
      'subcommands',
      record([...spec.subcommands.values()].map((s) => [s.name, commandDocs(s)])),
    ]);
  }
  return record(entries);
}

function lookup(ctx: CommandContext, name: Buffer): CommandSpec | undefined {
  return ctx.server.commands.get(word(name));
}

export const serverCommands: CommandSpec[] = [
  {
    name: 'info',
    arity: -1,
    flags: ['loading', 'stale'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    group: 'server',
    summary: 'Returns information and statistics about the server.',
    since: '1.0.0',
    handler: info,
  },
  {
    ...container(
      {
        name: 'command',
        group: 'server',
        summary: 'Returns detailed information about all commands.',
        since: '2.8.13',
      },
      {
        count: {
          arity: 2,
          summary: 'Returns a count of commands.',
          handler: (ctx) => integer(ctx.server.commands.size),
        },
        list: {
          arity: -2,
          summary: 'Returns a list of command names.',
          handler: (ctx) => array([...ctx.server.commands.keys()].map(bulk)),
        },
        info: {
          arity: -2,
          summary: 'Returns information about one, multiple or all commands.',
          handler: (ctx, args) => {
            const specs =
              args.length > 2 ? args.slice(2).map((n) => lookup(ctx, n)) : [...ctx.server.commands.values()];
            return array(specs.map((s) => (s === undefined ? NULL : commandInfo(s))));
          },
        },
        docs: {
          arity: -2,
          summary: 'Returns documentary information about one, multiple or all commands.',
          handler: (ctx, args) => {
            const specs =
              args.length > 2 ? args.slice(2).map((n) => lookup(ctx, n)) : [...ctx.server.commands.values()];
            return record(specs.filter((s) => s !== undefined).map((s) => [s.name, commandDocs(s)]));
          },
        },
      },
    ),
    arity: -1,
    // COMMAND alone lists every command's info.
    handler: (ctx) => array([...ctx.server.commands.values()].map(commandInfo)),
  },
  container(
    {
      name: 'config',
      group: 'server',
      summary: 'A container for server configuration commands.',
      since: '2.0.0',
    },
    {
      get: {
        arity: -3,
        summary: 'Returns the effective values of configuration parameters (read-only here).',
        handler: (ctx, args) => {
          const entries: [string, Reply][] = [];
          for (const [name, value] of Object.entries(ctx.server.config)) {
            if (
              args
                .slice(2)
                .some((p) => globMatch(Buffer.from(p.toString('latin1').toLowerCase()), Buffer.from(name)))
            ) {
              entries.push([name, bulk(value)]);
            }
          }
          return record(entries);
        },
      },
      set: {
        arity: -4,
        summary: 'Not supported: configuration is set when the server starts.',
        handler: (_ctx, args) => {
          throw new CommandError(
            `ERR Unknown option or number of arguments for CONFIG SET - '${quoted(args[2]!)}'`,
          );
        },
      },
    },
  ),
];
