/**
 * createPeer's platform-independent half: identity from the store, the
 * libp2p node from the platform, the coordinator `Network`, bootstrap dials.
 */
import type { PrivateKey } from '@libp2p/interface';
import { ClusterAuthority, requireAccess } from '@tessera/auth';
import {
  type Coordinator,
  type CoordinatorEvents,
  type CoordinatorLimits,
  type CoordinatorLogger,
  type CoordinatorMessage,
  type CoordinatorTiming,
  createCoordinator,
  type Member,
  type PublishInput,
  type SlotMapService,
} from '@tessera/coordinator';
import { InvalidArgumentError } from '@tessera/core';
import {
  Catalog,
  type Database as DocumentDatabase,
  Documents,
  deriveIndexEntries,
} from '@tessera/documents';
import {
  type DatabaseReplication,
  defaultReplicatorLimits,
  Replicator,
  type ReplicatorLimits,
  type UnderReplication,
} from '@tessera/replication';
import type { Store } from '@tessera/storage';
import { BOOTSTRAP_RETRY_DEFAULT, Bootstrapper, type BootstrapRetry, parseBootstrap } from './bootstrap.ts';
import {
  checkDatabase,
  type Database,
  type DataChange,
  type DataReadOptions,
  type DataReadResult,
  type DataWriteOptions,
  type DataWriteResult,
  DEFAULT_DATABASE,
  KvData,
  kvChangeOf,
  routingKeyOfRecord,
  type WatchOptions,
} from './data.ts';
import { DatabaseSettings } from './database-settings.ts';
import { PeerStoppedError } from './errors.ts';
import { loadOrCreateIdentity } from './identity.ts';
import { type LeaveOptions, type LeaveResult, leaveCluster } from './leave.ts';
import type { TesseraLibp2p } from './libp2p-services.ts';
import { MembershipPlacement, type SlotLookup, servingMember } from './liveness.ts';
import { MEMBER_DIALING_DEFAULT, MemberDialer, type MemberDialing } from './member-dialer.ts';
import { Libp2pNetwork } from './network.ts';
import { GOSSIP_BYTES_MAX_DEFAULT } from './network-limits.ts';
import { instrumentReplicator, OpStatsRecorder } from './op-stats.ts';
import { PeerAuth, type PeerAuthOptions } from './peer-auth.ts';
import { createPeerSlotMap, type PeerSlotMapOptions } from './peer-slot-map.ts';
import { REPAIR_PERIODS_DEFAULT, type RepairPeriods, RepairScheduler } from './repair-scheduler.ts';
import { Libp2pReplicaTransport, type ReplicaTransportOptions } from './replica-transport.ts';

/** `owner` holds slots; `client` routes to owners. */
export type PeerRole = 'owner' | 'client';

/** Limits and timeouts of the libp2p network. */
export interface PeerNetworkOptions {
  /** End-to-end timeout of one request, ms. Default 5000. */
  readonly requestTimeoutMs?: number;
  /** Largest request or response frame, bytes. Default 1 MiB. */
  readonly frameBytesMax?: number;
  /** Largest gossip message, bytes. Default 256 KiB. */
  readonly gossipBytesMax?: number;
  /** Inbound request streams open at once per connection. Default 32. */
  readonly inboundStreamsMax?: number;
}

/** The data plane: where slots live, defaults, limits and repair periods. */
export interface PeerReplicationOptions {
  /**
   * Slot ownership. Default: the committed slot map (`peer.slotMap.placement`).
   * A fixed lookup (replication's `StaticPlacement`) overrides it for tests;
   * the slot map still runs. It can be swapped later through `peer.placement.slots`.
   */
  readonly slots?: SlotLookup;
  /** Default replication factor N and consistency. Default `{ replicationFactor: <peer replicationFactor>, consistency: 'quorum' }`. */
  readonly defaults?: DatabaseReplication;
  /** Replicator tunables (`requestTimeoutMs`, `hintsMax`, `tombstoneGraceMs`, …). */
  readonly limits?: Partial<ReplicatorLimits>;
  /** Bounds of the `/tessera/replication/1.0.0` transport. */
  readonly transport?: ReplicaTransportOptions;
  /** Periods of hint replay, anti-entropy and tombstone reaping. */
  readonly repair?: Partial<RepairPeriods>;
  /**
   * How long a database's D record (its N and default consistency) is used
   * before it is read again in the background, ms. Default 1000.
   */
  readonly databaseRefreshMs?: number;
}

/** Options common to Node and browser peers. */
export interface PeerOptions {
  /** Where the peer keeps its identity and records. The caller opens and closes it. */
  readonly storage: Store;
  /** Cluster name; the gossip topic is per cluster. */
  readonly cluster: string;
  /** Multiaddrs to dial and keep dialing (with backoff). */
  readonly bootstrap?: readonly string[];
  /** Multiaddrs to listen on; platform default when omitted. */
  readonly listen?: readonly string[];
  /** Node default `owner`, browser default `client`. */
  readonly role?: PeerRole;
  /** Human-readable host name published in node state. */
  readonly host?: string;
  readonly network?: PeerNetworkOptions;
  readonly bootstrapRetry?: Partial<BootstrapRetry>;
  readonly memberDialing?: Partial<MemberDialing>;
  /** Coordinator timing: state period, failure detection (`suspectAfterMs`, `downAfterMs`), catch-up. */
  readonly timing?: Partial<CoordinatorTiming>;
  /** Coordinator bounds on messages, catch-up pages and membership. */
  readonly limits?: Partial<CoordinatorLimits>;
  /** Where dropped frames and failures are reported; silent by default. */
  readonly logger?: CoordinatorLogger;
  /** The replication data plane (`put`, `get`, `delete`). */
  readonly replication?: PeerReplicationOptions;
  /** Copies of every slot the slot map asks for (N), 1..16. Default 3. */
  readonly replicationFactor?: number;
  /** Slot-map protocol timing and quota rule. */
  readonly slotMap?: PeerSlotMapOptions;
  /**
   * Cluster membership and client capabilities (docs/security.md). Off when
   * omitted (library use, tests); `tessera start` turns it on.
   */
  readonly auth?: PeerAuthOptions;
}

/** What each platform entry supplies. */
export interface Platform {
  readonly defaultRole: PeerRole;
  createLibp2p(init: {
    privateKey: PrivateKey;
    listen?: readonly string[];
    gossipBytesMax: number;
  }): Promise<TesseraLibp2p>;
}

/** A running peer. */
export interface Peer {
  /** This peer's id (libp2p PeerId string). */
  readonly id: string;
  readonly role: PeerRole;
  readonly cluster: string;
  /** Addresses other peers can dial now (changes as relay reservations come and go). */
  readonly multiaddrs: string[];
  /** The membership view, this peer included, sorted by id. */
  members(): Member[];
  /** Subscribes to coordinator events (`member`, `message`, `dropped`, `job`, `synced`); returns an unsubscribe function. */
  on<K extends keyof CoordinatorEvents>(type: K, listener: (event: CoordinatorEvents[K]) => void): () => void;
  /** Publishes a coordinator message: Lamport-stamped, stored, gossiped. */
  publish(input: PublishInput): Promise<CoordinatorMessage>;
  /** The stored coordinator log in total order (clock, then origin). */
  messages(options?: Parameters<Coordinator['messages']>[0]): AsyncIterable<CoordinatorMessage>;
  /** The coordinator itself (jobs, node state, stats). */
  readonly coordinator: Coordinator;
  /** The coordinator's network, for protocols layered on this peer. */
  readonly network: Libp2pNetwork;
  /** The underlying libp2p node (advanced use). */
  readonly libp2p: TesseraLibp2p;
  /** Writes `value` (any CBOR value) under `key`; resolves once W owners hold it durably. */
  put(key: string | Uint8Array, value: unknown, options?: DataWriteOptions): Promise<DataWriteResult>;
  /** Reads `key` from R owners; the newest version wins, behind owners are repaired. */
  get(key: string | Uint8Array, options?: DataReadOptions): Promise<DataReadResult>;
  /** Writes a tombstone for `key`; resolves once W owners hold it durably. */
  delete(key: string | Uint8Array, options?: DataWriteOptions): Promise<DataWriteResult>;
  /**
   * Calls `listener` whenever this peer's replica durably stores a new
   * winning version of a key-value key: a write through any peer, or repair
   * bringing one. Only owners store replicas, so a client peer sees nothing.
   * Each owner reports a change once, when it holds it; listeners run inside
   * the replica's write path, so keep them short. Returns the unsubscribe function.
   */
  watch(listener: (change: DataChange) => void, options?: WatchOptions): () => void;
  /**
   * The document API of a database: `database('shop').collection('users', { fields, primaryKey, indexes })`
   * (see @tessera/documents). Not yet behind the client token check of `put`/`get`.
   */
  database(name: string | number): DocumentDatabase;
  /**
   * N and default consistency this peer uses for a database: its D record
   * (`database(name).setOptions`, an HTTP tenant), else the peer defaults.
   * Reads the D record when this peer has not cached it yet.
   */
  databaseReplication(name: Database): Promise<DatabaseReplication>;
  /** Slots where some co-owner may be missing data, as this peer knows it (heals through repair). */
  underReplicatedSlots(): UnderReplication;
  /** The Replicator (record-level API, hint and repair reports). */
  readonly replicator: Replicator;
  /** The replication transport (with `stats`). */
  readonly replicaTransport: Libp2pReplicaTransport;
  /** Slot lookup plus liveness from the membership view; `placement.slots` can be replaced. */
  readonly placement: MembershipPlacement;
  /**
   * The coordinator's slot-map service: the committed map (`map`, `head`),
   * `placement` (`lookup`, `isUp`, `pending`), `pending()`, `rebalance()`,
   * events `prepare`/`commit`/`abort`/`rejected`, `stats()`. Owners propose
   * and ack (after copying the slots they gain); clients only follow.
   */
  readonly slotMap: SlotMapService;
  /** The repair task scheduler (`runNow`, `stats`). */
  readonly repair: RepairScheduler;
  /** Membership and capability checks; undefined when auth is off. */
  readonly auth: PeerAuth | undefined;
  /** Dials a multiaddr once (no retry); rejects on failure. */
  dial(address: string, options?: { timeoutMs?: number }): Promise<void>;
  /** Stops everything this peer started; the store stays open. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Drains this peer's slots to the other owners (status `leaving`, then a
   * committed map without it), then stops. Rejects with `LeaveRefusedError`
   * or `LeaveAbortedError` and keeps serving when it cannot. A second call
   * while one runs returns the same promise.
   */
  leave(options?: LeaveOptions): Promise<LeaveResult>;
}

export const DIAL_TIMEOUT_MS_DEFAULT = 10_000;

const realTimers = {
  now: () => Date.now(),
  setTimeout: (fn: () => void, delayMs: number) => setTimeout(fn, delayMs),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Builds a peer with the given platform's transports. */
export async function createPeerOn(platform: Platform, options: PeerOptions): Promise<Peer> {
  if (typeof options.cluster !== 'string' || options.cluster.length === 0) {
    throw new InvalidArgumentError('cluster must be a non-empty string');
  }
  const role = options.role ?? platform.defaultRole;
  if (role !== 'owner' && role !== 'client') throw new InvalidArgumentError(`unknown role ${String(role)}`);
  const bootstrap = parseBootstrap(options.bootstrap ?? []);
  const authority =
    options.auth === undefined
      ? undefined
      : await ClusterAuthority.create({
          clusterPublicKey: options.auth.clusterPublicKey,
          cluster: options.cluster,
          ...(options.auth.clockSkewMs === undefined ? {} : { clockSkewMs: options.auth.clockSkewMs }),
        });
  const privateKey = await loadOrCreateIdentity(options.storage);
  const gossipBytesMax = options.network?.gossipBytesMax ?? GOSSIP_BYTES_MAX_DEFAULT;
  const node = await platform.createLibp2p({
    privateKey,
    gossipBytesMax,
    ...(options.listen === undefined ? {} : { listen: options.listen }),
  });
  let auth: PeerAuth | undefined;
  if (authority !== undefined && options.auth !== undefined) {
    try {
      auth = await PeerAuth.create(node, authority, options.auth, role);
      await auth.start();
    } catch (err) {
      await node.stop();
      throw err;
    }
  }
  const peerAuth = auth;
  const network = new Libp2pNetwork(node, {
    cluster: options.cluster,
    ...options.network,
    gossipBytesMax,
    ...(peerAuth === undefined
      ? {}
      : {
          auth: {
            validate: (data, from) => peerAuth.validateGossip(data, from),
            isMember: (peer) => peerAuth.isMember(peer),
          },
        }),
  });
  const bootstrapper = new Bootstrapper(node, bootstrap, {
    ...BOOTSTRAP_RETRY_DEFAULT,
    ...options.bootstrapRetry,
  });
  // The coordinator compares its addresses every few dozen ms (to announce a new one at once);
  // libp2p rebuilds the list on each call, so keep it until libp2p says this peer changed.
  // (At most a second old as well, should some address change not raise that event.)
  let multiaddrsCache: { list: string[]; atMs: number } | null = null;
  node.addEventListener('self:peer:update', () => {
    multiaddrsCache = null;
  });
  const multiaddrs = (): string[] => {
    if (multiaddrsCache === null || Date.now() - multiaddrsCache.atMs >= 1000) {
      multiaddrsCache = { list: node.getMultiaddrs().map((address) => address.toString()), atMs: Date.now() };
    }
    return multiaddrsCache.list;
  };
  // Ops, quorum failures and latencies ride in this peer's node state (the dashboard's live charts).
  const opStats = new OpStatsRecorder();
  const coordinator = createCoordinator({
    report: () => ({ ops: opStats.snapshot() }),
    network,
    timers: realTimers,
    random: { next: () => Math.random() },
    store: options.storage,
    cluster: options.cluster,
    role,
    addresses: multiaddrs,
    expectPeers: bootstrap.length > 0,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.timing === undefined ? {} : { timing: options.timing }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(peerAuth?.certificate === undefined ? {} : { credential: peerAuth.certificate }),
  });
  const memberDialer = new MemberDialer(node, coordinator, {
    ...MEMBER_DIALING_DEFAULT,
    ...options.memberDialing,
  });
  try {
    await network.start();
    await coordinator.start();
  } catch (err) {
    await coordinator.stop().catch(() => undefined);
    await network.stop();
    await node.stop();
    throw err;
  }
  const replicationOptions = options.replication ?? {};
  const replicationFactor = options.replicationFactor ?? 3;
  const defaults = replicationOptions.defaults ?? { replicationFactor, consistency: 'quorum' as const };
  let replicator: Replicator | undefined;
  const settingsLog = node.logger.forComponent('tessera:database-settings');
  // D records drive each database's N and default consistency (the Replicator asks synchronously).
  const databaseSettings = new DatabaseSettings({
    read: async (db) => {
      if (replicator === undefined) throw new PeerStoppedError();
      return (await new Catalog(replicator).readDatabase(db)).value;
    },
    defaults,
    ...(replicationOptions.databaseRefreshMs === undefined
      ? {}
      : { refreshMs: replicationOptions.databaseRefreshMs }),
    onChange: () => replicator?.forgetDigests(),
    onError: (db, err) => settingsLog('reading the D record of %s: %e', String(db), err),
  });
  const replicaTransport = new Libp2pReplicaTransport(node, {
    addressesOf: (peer) => coordinator.members().find((member) => member.id === peer)?.state.addresses ?? [],
    ...replicationOptions.transport,
  });
  let placement: MembershipPlacement | undefined;
  let slotMap: ReturnType<typeof createPeerSlotMap>;
  try {
    slotMap = createPeerSlotMap({
      coordinator,
      store: options.storage,
      timers: realTimers,
      role,
      replicas: replicationFactor,
      consistency: defaults.consistency,
      options: options.slotMap ?? {},
      expectPeers: bootstrap.length > 0,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      replication: () => {
        if (replicator === undefined) throw new PeerStoppedError();
        return {
          replicator,
          transport: replicaTransport,
          requestTimeoutMs:
            replicationOptions.limits?.repairTimeoutMs ?? defaultReplicatorLimits.repairTimeoutMs,
        };
      },
      isUp: (peer) => placement?.isUp(peer) ?? true,
      onCommit: () => repair.runNow('antiEntropy'),
    });
  } catch (err) {
    await coordinator.stop().catch(() => undefined);
    await network.stop();
    await node.stop();
    throw err;
  }
  placement = new MembershipPlacement(
    coordinator,
    node.peerId.toString(),
    replicationOptions.slots ?? slotMap.service.placement,
  );
  const livePlacement = placement;
  try {
    await replicaTransport.start();
    replicator = await Replicator.open({
      transport: peerAuth === undefined ? replicaTransport : peerAuth.gateReplicaTransport(replicaTransport),
      placement,
      store: options.storage,
      timers: realTimers,
      routingKeyOf: routingKeyOfRecord,
      // Index entries are derived from each object record on every replica, in the record's batch.
      derive: deriveIndexEntries,
      replication: defaults,
      databaseReplication: (key) => databaseSettings.settingsOf(key),
      ...(replicationOptions.limits === undefined ? {} : { limits: replicationOptions.limits }),
    });
  } catch (err) {
    placement.close();
    await replicaTransport.stop();
    await coordinator.stop().catch(() => undefined);
    await network.stop();
    await node.stop();
    throw err;
  }
  const openReplicator = replicator;
  instrumentReplicator(openReplicator, opStats);
  const repairLog = node.logger.forComponent('tessera:repair');
  const repair = new RepairScheduler(
    realTimers,
    { ...REPAIR_PERIODS_DEFAULT, ...replicationOptions.repair },
    {
      hintReplay: () => openReplicator.replayHints(),
      antiEntropy: () => openReplicator.antiEntropy(),
      tombstoneReap: () => openReplicator.reapTombstones(),
      reclaim: () => openReplicator.reclaimUnowned(),
    },
    (message, err) => repairLog('%s: %e', message, err),
  );
  // An owner that comes back gets its hints at once and is compared, instead of at the next period.
  const stopWatchingReturns = coordinator.on('member', ({ member, previous }) => {
    if (previous !== null && servingMember(member) && !servingMember(previous)) {
      repair.runNow('hintReplay');
      repair.runNow('antiEntropy');
    }
  });
  const data = new KvData(
    () => openReplicator,
    (db) => databaseSettings.ensure(db),
  );
  const documents = new Documents({ replicator: openReplicator, jobs: coordinator.jobs });
  // The coordinating-peer check of a non-member client: its own token must allow the operation
  // (owners check it again when the request arrives).
  const checkAccess = async (database: Database | undefined, access: 'read' | 'write') => {
    if (peerAuth === undefined || peerAuth.selfCertificate !== undefined || !peerAuth.requireClientTokens)
      return;
    requireAccess(await peerAuth.authority.capability(peerAuth.token), database ?? DEFAULT_DATABASE, access);
  };
  try {
    await slotMap.start();
  } catch (err) {
    stopWatchingReturns();
    await openReplicator.close();
    livePlacement.close();
    await replicaTransport.stop();
    await coordinator.stop().catch(() => undefined);
    await network.stop();
    await node.stop();
    throw err;
  }
  repair.start();
  bootstrapper.start();
  memberDialer.start();

  let stopping: Promise<void> | undefined;
  let leaving: Promise<LeaveResult> | undefined;
  const peer: Peer = {
    id: node.peerId.toString(),
    role,
    cluster: options.cluster,
    get multiaddrs() {
      return [...multiaddrs()];
    },
    members: () => coordinator.members(),
    on: (type, listener) => coordinator.on(type, listener),
    publish: (input) => coordinator.publish(input),
    messages: (messageOptions) => coordinator.messages(messageOptions),
    coordinator,
    network,
    libp2p: node,
    put: async (key, value, putOptions) => {
      await checkAccess(putOptions?.database, 'write');
      return data.put(key, value, putOptions);
    },
    get: async (key, getOptions) => {
      await checkAccess(getOptions?.database, 'read');
      return data.get(key, getOptions);
    },
    delete: async (key, deleteOptions) => {
      await checkAccess(deleteOptions?.database, 'write');
      return data.delete(key, deleteOptions);
    },
    watch: (listener, watchOptions) => {
      const only = watchOptions?.database === undefined ? undefined : checkDatabase(watchOptions.database);
      if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function');
      return openReplicator.watch((recordChange) => {
        const change = kvChangeOf(recordChange);
        if (change && (only === undefined || change.database === only)) listener(change);
      });
    },
    database: (name) => {
      const database = documents.database(name);
      void databaseSettings.ensure(database.name);
      // This peer's next writes use the new options at once; other peers within databaseRefreshMs.
      const setOptions = database.setOptions.bind(database);
      database.setOptions = async (databaseOptions) => {
        await setOptions(databaseOptions);
        databaseSettings.remember(database.name, databaseOptions);
      };
      return database;
    },
    databaseReplication: (name) => databaseSettings.ensure(name),
    underReplicatedSlots: () => openReplicator.underReplicatedSlots(),
    replicator: openReplicator,
    replicaTransport,
    placement: livePlacement,
    slotMap: slotMap.service,
    repair,
    auth: peerAuth,
    async dial(address, dialOptions) {
      if (stopping !== undefined) throw new PeerStoppedError();
      const [target] = parseBootstrap([address]);
      await node.dial(target as NonNullable<typeof target>, {
        signal: AbortSignal.timeout(dialOptions?.timeoutMs ?? DIAL_TIMEOUT_MS_DEFAULT),
      });
    },
    stop() {
      stopping ??= (async () => {
        bootstrapper.stop();
        memberDialer.stop();
        stopWatchingReturns();
        await slotMap.stop();
        await repair.stop();
        databaseSettings.close();
        await openReplicator.close();
        livePlacement.close();
        await replicaTransport.stop();
        // The coordinator says goodbye (an `exiting` state) while the network is up.
        await coordinator.stop();
        await network.stop();
        await peerAuth?.stop();
        await node.stop();
      })();
      return stopping;
    },
    leave(leaveOptions) {
      if (stopping !== undefined) return Promise.reject(new PeerStoppedError());
      leaving ??= leaveCluster(
        { coordinator, slotMap: slotMap.service, role, replicationFactor, stop: () => peer.stop() },
        leaveOptions,
      ).finally(() => {
        if (stopping === undefined) leaving = undefined;
      });
      return leaving;
    },
  };
  return peer;
}
