/**
 * CLUSTER SLOTS / SHARDS / NODES / KEYSLOT / INFO / MYID, drawn from the
 * backend's topology so cluster-aware clients (redis-cli -c, ioredis Cluster,
 * redis-benchmark --cluster) learn the slot map and go straight to owners.
 */
import { keySlot, SLOT_COUNT } from '@tessera/core';
import type { ClusterNode, ClusterTopology } from '../backend/backend.ts';
import { array, bulk, integer, type Reply, record, verbatim } from '../resp/reply.ts';
import { container } from './container.ts';
import type { CommandContext, CommandSpec } from './types.ts';

/** Redis' cluster bus port convention: client port + 10000. */
const BUS_PORT_OFFSET = 10_000;

async function topology(ctx: CommandContext): Promise<ClusterTopology> {
  const { announce } = ctx.server;
  return ctx.server.backend.topology({ host: announce.host ?? ctx.conn.localHost, port: announce.port });
}

function busPort(port: number): number {
  return port + BUS_PORT_OFFSET <= 65_535 ? port + BUS_PORT_OFFSET : 0;
}

function nodeEntry(node: ClusterNode): Reply {
  return array([bulk(node.host), integer(node.port), bulk(node.id), record([])]);
}

/** Ranges grouped by their exact owner list: one Redis "shard" per group. */
function shards(t: ClusterTopology): { owners: readonly ClusterNode[]; ranges: [number, number][] }[] {
  const groups = new Map<string, { owners: readonly ClusterNode[]; ranges: [number, number][] }>();
  for (const range of t.ranges) {
    const id = range.owners.map((o) => o.id).join(',');
    let group = groups.get(id);
    if (group === undefined) {
      group = { owners: range.owners, ranges: [] };
      groups.set(id, group);
    }
    group.ranges.push([range.start, range.end]);
  }
  return [...groups.values()];
}

function assignedSlots(t: ClusterTopology): number {
  return t.ranges.reduce((n, r) => n + (r.owners.length > 0 ? r.end - r.start + 1 : 0), 0);
}

function nodesText(t: ClusterTopology): string {
  const nowMs = Date.now();
  return t.nodes
    .map((node) => {
      const slots = t.ranges
        .filter((r) => r.owners[0]?.id === node.id)
        .map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`));
      const flags = node.id === t.self.id ? 'myself,master' : 'master';
      // Every owner takes writes for its ranges (routing happens inside), so each node is a "master".
      return [
        node.id,
        `${node.host}:${node.port}@${busPort(node.port)}`,
        flags,
        '-',
        0,
        nowMs,
        t.epoch,
        'connected',
        ...slots,
      ]
        .join(' ')
        .concat('\n');
    })
    .join('');
}

export const clusterCommands: CommandSpec[] = [
  container(
    { name: 'cluster', group: 'cluster', summary: 'A container for Redis Cluster commands.', since: '3.0.0' },
    {
      slots: {
        arity: 2,
        summary: 'Returns the mapping of cluster slots to nodes.',
        handler: async (ctx) => {
          const t = await topology(ctx);
          return array(
            t.ranges
              .filter((r) => r.owners.length > 0)
              .map((r) => array([integer(r.start), integer(r.end), ...r.owners.map(nodeEntry)])),
          );
        },
      },
      shards: {
        arity: 2,
        summary: 'Returns the mapping of cluster slots to shards.',
        handler: async (ctx) => {
          const t = await topology(ctx);
          return array(
            shards(t)
              .filter((s) => s.owners.length > 0)
              .map((s) =>
                record([
                  ['slots', array(s.ranges.flatMap(([a, b]) => [integer(a), integer(b)]))],
                  [
                    'nodes',
                    array(
                      s.owners.map((node, i) =>
                        record([
                          ['id', bulk(node.id)],
                          ['port', integer(node.port)],
                          ['ip', bulk(node.host)],
                          ['endpoint', bulk(node.host)],
                          ['role', bulk(i === 0 ? 'master' : 'replica')],
                          ['replication-offset', integer(0)],
                          ['health', bulk('online')],
                        ]),
                      ),
                    ),
                  ],
                ]),
              ),
          );
        },
      },
      nodes: {
        arity: 2,
        summary: 'Returns the cluster configuration for a node.',
        handler: async (ctx) => verbatim(nodesText(await topology(ctx))),
      },
      keyslot: {
        arity: 3,
        summary: 'Returns the hash slot for a key.',
        handler: (_ctx, args) => integer(keySlot(args[2]!)),
      },
      info: {
        arity: 2,
        summary: 'Returns information about the state of a node.',
        handler: async (ctx) => {
          const t = await topology(ctx);
          const assigned = assignedSlots(t);
          const primaries = new Set(t.ranges.map((r) => r.owners[0]?.id).filter((id) => id !== undefined));
          const lines = [
            `cluster_state:${assigned === SLOT_COUNT ? 'ok' : 'fail'}`,
            `cluster_slots_assigned:${assigned}`,
            `cluster_slots_ok:${assigned}`,
            'cluster_slots_pfail:0',
            'cluster_slots_fail:0',
            `cluster_known_nodes:${t.nodes.length}`,
            `cluster_size:${primaries.size}`,
            `cluster_current_epoch:${t.epoch}`,
            `cluster_my_epoch:${t.epoch}`,
          ];
          return verbatim(lines.map((l) => `${l}\r\n`).join(''));
        },
      },
      myid: {
        arity: 2,
        summary: 'Returns the ID of a node.',
        handler: async (ctx) => bulk((await topology(ctx)).self.id),
      },
    },
  ),
];
