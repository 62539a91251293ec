/**
 * A running Tessera Node peer as `tessera start` runs it: the filesystem
 * store, the libp2p peer, the RESP server, the HTTP API and the metrics
 * endpoint, started in that order and stopped in reverse.
 */
import type { Member } from '@tessera/coordinator';
import { createPeer, type Peer } from '@tessera/peer';
import type { Store } from '@tessera/storage';
import { openFsStore, StoreLockedError } from '@tessera/storage-fs';
import type { KvBackend } from '../backend/backend.ts';
import { openLocalBackend } from '../backend/local-backend.ts';
import { MembershipSlots } from '../backend/replicated-placement.ts';
import { HttpApi } from '../http/api.ts';
import { instrumentBackend, instrumentRecords, PeerMetrics } from '../http/peer-metrics.ts';
import type { RecordApi } from '../http/records.ts';
import { type HttpServer, startHttpServer } from '../http/server.ts';
import { type RespServer, startRespServer } from '../server/server.ts';
import { prepareDataDir, type StartConfig } from './config.ts';
import { UsageError } from './errors.ts';
import { coordinatorLogger, type Logger } from './logger.ts';

/** What `tessera start` prints (and, with --json, prints as one line). */
export interface StartSummary {
  readonly event: 'started';
  readonly peerId: string;
  readonly cluster: string;
  readonly role: string;
  readonly dataDir: string;
  readonly multiaddrs: readonly string[];
  /** WebSocket multiaddrs (what browsers and the dashboard dial). */
  readonly wsMultiaddrs: readonly string[];
  readonly resp: { readonly host: string; readonly port: number };
  readonly http: { readonly host: string; readonly port: number };
  readonly metrics: { readonly host: string; readonly port: number };
  /** `local`: RESP writes stay on this peer; `replicated`: quorum writes across the cluster. */
  readonly respBackend: 'local' | 'replicated';
  /** `replicated` when the HTTP API runs on the peer's Replicator, `unavailable` otherwise. */
  readonly httpData: 'replicated' | 'unavailable';
  /** Where slot ownership comes from. */
  readonly placement: 'membership (provisional, no migration)' | 'none';
  readonly pid: number;
}

export interface RunningNode {
  readonly peer: Peer;
  readonly summary: StartSummary;
  readonly metrics: PeerMetrics;
  /** Graceful: stop accepting, finish in-flight requests, stop the peer, close the store. Idempotent. */
  stop(): Promise<void>;
}

/** The optional replication surface of a peer (present once the peer wires replication). */
interface ReplicatingPeer {
  readonly replicator?: RecordApi;
  readonly placement?: { slots: { lookup(slot: number): { owners: readonly string[]; epoch: number } } };
  underReplicatedSlots?(): { count: number; slots: readonly number[] };
}

export async function startNode(config: StartConfig, log: Logger): Promise<RunningNode> {
  await prepareDataDir(config.dataDir);
  let store: Store;
  try {
    store = await openFsStore(config.dataDir);
  } catch (error) {
    if (error instanceof StoreLockedError)
      throw new UsageError(`data dir ${config.dataDir} is in use by another peer`);
    throw error;
  }
  const cleanup: (() => Promise<void>)[] = [() => store.close()];
  const unwind = async () => {
    for (const step of cleanup.reverse())
      await step().catch((e: unknown) => log.error({ err: e }, 'shutdown step failed'));
  };
  try {
    const peer = await createPeer({
      storage: store,
      cluster: config.cluster,
      role: config.role,
      host: config.host,
      bootstrap: config.bootstrap,
      listen: [`/ip4/${config.host}/tcp/${config.p2pPort}`, `/ip4/${config.host}/tcp/${config.wsPort}/ws`],
      logger: coordinatorLogger(log),
      replication: {
        defaults: { replicationFactor: config.replicationFactor, consistency: config.consistency },
      },
    } as Parameters<typeof createPeer>[0]);
    cleanup.push(() => peer.stop());
    const replicating = peer as unknown as ReplicatingPeer;
    const slots = new MembershipSlots(() => peer.members());
    const hasReplication = replicating.replicator !== undefined && replicating.placement !== undefined;
    if (hasReplication) replicating.placement!.slots = slots;

    let resp: RespServer | undefined;
    const metrics = new PeerMetrics({
      peersConnected: () => peer.libp2p.getPeers().length,
      memberStatuses: () => peer.members().map((m: Member) => m.status),
      respConnections: () => resp?.connectionCount ?? 0,
    });
    // The replicated RESP backend needs peer.put/get/delete over a slot map; until then RESP stays local.
    const backend: KvBackend = await openLocalBackend({
      store,
      onError: (e) => log.error({ err: e }, 'local backend'),
    });
    cleanup.push(() => backend.close());
    resp = await startRespServer({
      backend: instrumentBackend(backend, metrics),
      host: config.host,
      port: config.respPort,
      onError: (e) => log.error({ err: e }, 'resp server'),
    });
    const respServer = resp;
    cleanup.push(() => respServer.close());

    const api = new HttpApi({
      records: instrumentRecords(replicating.replicator ?? unavailableRecords, metrics),
      status: async () => statusOf(peer, replicating, slots, hasReplication),
    });
    const http = await startHttpServer({
      api,
      host: config.host,
      port: config.httpPort,
      onRequest: (route, status) => metrics.httpRequests.inc({ route, status: String(status) }),
      onError: (e) => log.error({ err: e }, 'http api'),
    });
    cleanup.push(() => http.close());
    const metricsServer: HttpServer = await startHttpServer({
      metrics: metrics.registry,
      host: config.host,
      port: config.metricsPort,
    });
    cleanup.push(() => metricsServer.close());

    const multiaddrs = peer.multiaddrs;
    const summary: StartSummary = {
      event: 'started',
      peerId: peer.id,
      cluster: config.cluster,
      role: config.role,
      dataDir: config.dataDir,
      multiaddrs,
      wsMultiaddrs: multiaddrs.filter((a) => a.includes('/ws/')),
      resp: { host: respServer.host, port: respServer.port },
      http: { host: http.host, port: http.port },
      metrics: { host: metricsServer.host, port: metricsServer.port },
      respBackend: 'local',
      httpData: hasReplication ? 'replicated' : 'unavailable',
      placement: hasReplication ? 'membership (provisional, no migration)' : 'none',
      pid: process.pid,
    };
    let stopping: Promise<void> | undefined;
    return {
      peer,
      summary,
      metrics,
      stop: () => {
        stopping ??= unwind();
        return stopping;
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/** Record API of a peer without replication: every call is an honest 500. */
const unavailableRecords: RecordApi = {
  put: () => Promise.reject(new Error('this peer has no replication layer')),
  get: () => Promise.reject(new Error('this peer has no replication layer')),
  delete: () => Promise.reject(new Error('this peer has no replication layer')),
};

/** Body of GET /v1/status and what `tessera status` prints. */
async function statusOf(
  peer: Peer,
  replicating: ReplicatingPeer,
  slots: MembershipSlots,
  hasReplication: boolean,
) {
  const jobs = await peer.coordinator.jobs.list({ limit: 100 });
  const ranges = hasReplication ? slots.ranges() : [];
  const covered = ranges.reduce((n, r) => n + r.end - r.start + 1, 0);
  return {
    peer_id: peer.id,
    cluster: peer.cluster,
    role: peer.role,
    members: peer.members().map((m) => ({
      id: m.id,
      status: m.status,
      liveness: m.liveness,
      role: m.role,
      incarnation: m.incarnation,
      addresses: m.state.addresses,
    })),
    slots: hasReplication
      ? { source: 'membership (provisional)', covered, total: 16384, ranges }
      : { source: 'not available (no slot map in this peer)' },
    under_replicated: replicating.underReplicatedSlots?.() ?? 'not available',
    jobs: jobs.map((j) => ({ id: j.id, kind: j.kind, status: j.status, progress: j.progress })),
  };
}
