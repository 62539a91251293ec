/** Starts N Replicators in one process over a MemoryReplicaNetwork, each with its own memory Store. */
import { openMemoryStore, type Store } from '@tessera/storage';
import type { DatabaseReplication } from '../consistency.ts';
import type { ReplicatorLimits } from '../limits.ts';
import type { Derive } from '../replica-store.ts';
import { Replicator } from '../replicator.ts';
import { type MemoryNetworkOptions, MemoryReplicaNetwork, seededRandom } from './memory-network.ts';
import { StaticPlacement } from './static-placement.ts';
import { type TestTimers, testTimers } from './timers.ts';

export interface TestCluster {
  readonly ids: readonly string[];
  readonly network: MemoryReplicaNetwork;
  readonly placement: StaticPlacement;
  readonly timers: TestTimers;
  readonly replicators: Map<string, Replicator>;
  readonly stores: Map<string, Store>;
  /** The replicator of `id`. */
  at(id: string): Replicator;
  /** Deletes every entry of `id`'s store (a lost disk; the process keeps running). */
  wipe(id: string): Promise<void>;
  /** Replays hints and runs anti-entropy on every peer until a round finds nothing to do (at most `roundsMax`); returns the rounds used. */
  repairUntilQuiet(roundsMax?: number): Promise<number>;
  close(): Promise<void>;
}

export interface TestClusterOptions extends MemoryNetworkOptions {
  readonly peers: number;
  /** Default replication settings (N = 3, quorum). */
  readonly replication?: DatabaseReplication;
  /** Per-database settings by key (see `ReplicatorOptions.databaseReplication`). */
  readonly databaseReplication?: (key: Uint8Array) => DatabaseReplication | undefined;
  /** Owners listed per slot; default the default N. A database with a larger N needs at least that many. */
  readonly ownersPerSlot?: number;
  readonly limits?: Partial<ReplicatorLimits>;
  /** Entries each replica derives from its records (see `ReplicatorOptions.derive`). */
  readonly derive?: Derive;
  /** The routing bytes of a record key (see `ReplicatorOptions.routingKeyOf`). */
  readonly routingKeyOf?: (key: Uint8Array) => string | Uint8Array;
}

export async function startTestCluster(options: TestClusterOptions): Promise<TestCluster> {
  const ids = Array.from({ length: options.peers }, (_, i) => `peer-${i}`);
  const network = new MemoryReplicaNetwork(options);
  const replication = options.replication ?? { replicationFactor: 3, consistency: 'quorum' as const };
  const placement = new StaticPlacement(ids, options.ownersPerSlot ?? replication.replicationFactor);
  const timers = testTimers();
  const random = seededRandom(options.seed ^ 0x5eed);
  const replicators = new Map<string, Replicator>();
  const stores = new Map<string, Store>();
  for (const id of ids) {
    const store = await openMemoryStore();
    stores.set(id, store);
    const replicator = await Replicator.open({
      transport: network.transport(id),
      placement,
      store,
      timers,
      random: { next: random },
      replication,
      ...(options.databaseReplication ? { databaseReplication: options.databaseReplication } : {}),
      ...(options.derive ? { derive: options.derive } : {}),
      ...(options.routingKeyOf ? { routingKeyOf: options.routingKeyOf } : {}),
      // Generous for a loaded CI machine: a stopped peer is marked down where a test waits on it.
      limits: { requestTimeoutMs: 1000, repairTimeoutMs: 5000, ...options.limits },
    });
    replicators.set(id, replicator);
  }
  const at = (id: string) => replicators.get(id)!;
  return {
    ids,
    network,
    placement,
    timers,
    replicators,
    stores,
    at,
    async wipe(id) {
      const store = stores.get(id)!;
      const keys: Uint8Array[] = [];
      for await (const { key } of store.scan()) keys.push(key);
      for (const key of keys) await store.delete(key);
      at(id).forgetDigests();
    },
    async repairUntilQuiet(roundsMax = 5) {
      for (let round = 1; round <= roundsMax; round++) {
        let repaired = 0;
        for (const id of ids) {
          const hints = await at(id).replayHints();
          repaired += hints.delivered + hints.remaining;
        }
        for (const id of ids) {
          const report = await at(id).antiEntropy();
          repaired += report.pulled + report.pushed + report.unreachable.length;
        }
        if (repaired === 0) return round;
      }
      return roundsMax + 1;
    },
    async close() {
      for (const replicator of replicators.values()) await replicator.close();
      for (const store of stores.values()) await store.close();
    },
  };
}
