/**
 * A running Tessera Node peer as `tessera start` runs it: the filesystem
 * store, the libp2p peer, the RESP server, the HTTP API and the metrics
 * endpoint, started in that order and stopped in reverse.
 */
import type { Member } from '@tessera/coordinator';
import { createPeer, type LeaveResult, type Peer } from '@tessera/peer';
import type { Store } from '@tessera/storage';
import { openFsStore, StoreLockedError } from '@tessera/storage-fs';
import { type NodeAuth, nodeAuth } from '../auth/node-auth.ts';
import type { KvBackend } from '../backend/backend.ts';
import { openLocalBackend } from '../backend/local-backend.ts';
import { openReplicatedBackend } from '../backend/replicated.ts';
import { RespEndpoints } from '../backend/resp-endpoints.ts';
import { HttpApi } from '../http/api.ts';
import { instrumentBackend, instrumentRecords, PeerMetrics } from '../http/peer-metrics.ts';
import { type HttpServer, startHttpServer } from '../http/server.ts';
import { type RespServer, startRespServer } from '../server/server.ts';
import { prepareDataDir, type StartConfig } from './config.ts';
import { UsageError } from './errors.ts';
import { LeaveControl } from './leave-control.ts';
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
  /** `replicated` (default): peer.put/get/delete with the configured consistency; `local`: this peer's store only. */
  readonly respBackend: 'local' | 'replicated';
  /** The HTTP API always runs on the peer's Replicator. */
  readonly httpData: 'replicated';
  /** Where slot ownership comes from: the coordinator's slot map when the peer runs it. */
  readonly placement: 'slot map';
  readonly pid: number;
  /** Membership, client tokens and rate limits in force (the cluster public key, never the private one). */
  readonly auth: NodeAuth['summary'];
}

export interface RunningNode {
  readonly peer: Peer;
  readonly summary: StartSummary;
  readonly metrics: PeerMetrics;
  /** Resolves once `POST /v1/cluster/leave` drained this peer and stopped it (then call `stop`). */
  readonly left: Promise<LeaveResult>;
  /** Graceful: stop accepting, finish in-flight requests, stop the peer, close the store. Idempotent. */
  stop(): Promise<void>;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

export async function startNode(config: StartConfig, log: Logger): Promise<RunningNode> {
  await prepareDataDir(config.dataDir);
  const auth = await nodeAuth(config);
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
      // N of the slot map (how many owners each slot gets) and of every database by default.
      replicationFactor: config.replicationFactor,
      replication: {
        defaults: { replicationFactor: config.replicationFactor, consistency: config.consistency },
      },
      ...(auth.peer === undefined ? {} : { auth: auth.peer }),
    });
    cleanup.push(() => peer.stop());

    let resp: RespServer | undefined;
    const metrics = new PeerMetrics({
      peersConnected: () => peer.libp2p.getPeers().length,
      memberStatuses: () => peer.members().map((m: Member) => m.status),
      respConnections: () => resp?.connectionCount ?? 0,
    });
    const endpoints = new RespEndpoints(peer);
    cleanup.push(async () => endpoints.stop());
    const backend: KvBackend =
      config.backend === 'local'
        ? await openLocalBackend({ store, onError: (e) => log.error({ err: e }, 'local backend') })
        : openReplicatedBackend({ peer, consistency: config.consistency, endpoints });
    cleanup.push(() => backend.close());
    resp = await startRespServer({
      backend: instrumentBackend(backend, metrics),
      host: config.host,
      port: config.respPort,
      ...(auth.guard === undefined ? {} : { guard: auth.guard }),
      onError: (e) => log.error({ err: e }, 'resp server'),
    });
    const respServer = resp;
    cleanup.push(() => respServer.close());
    // Only a replicated RESP server may be named as an owner in other peers' CLUSTER SLOTS; a wildcard
    // listen address is no address to give clients, so such a peer answers for every slot itself.
    if (config.backend === 'replicated') {
      if (WILDCARD_HOSTS.has(config.host)) {
        log.warn({ host: config.host }, 'RESP endpoint not published: --host is a wildcard address');
      } else {
        await endpoints.start({ host: config.host, port: respServer.port });
      }
    }

    const guard = auth.guard;
    const leave = new LeaveControl(peer);
    const api = new HttpApi({
      records: instrumentRecords(peer.replicator, metrics),
      databases: peer,
      status: async () => statusOf(peer),
      rebalance: async (options) => {
        const id = await peer.slotMap.rebalance(options);
        return id === null ? null : `${id[0]}:${id[1]}`;
      },
      leave: { start: (options) => leave.start(options), state: () => leave.state() },
      ...(guard === undefined
        ? {}
        : {
            authorize: (authorization, tenant, access) => guard.authorizeHttp(authorization, tenant, access),
          }),
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
      respBackend: config.backend,
      httpData: 'replicated',
      placement: 'slot map',
      pid: process.pid,
      auth: auth.summary,
    };
    let stopping: Promise<void> | undefined;
    return {
      peer,
      summary,
      metrics,
      left: leave.left,
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

/** Body of GET /v1/status and what `tessera status` prints. */
async function statusOf(peer: Peer) {
  const jobs = await peer.coordinator.jobs.list({ limit: 100 });
  const map = peer.slotMap.map;
  const ranges = map.ranges.map((r) => ({ start: r.start, end: r.end, owners: r.owners }));
  const covered = ranges.reduce((n, r) => n + (r.owners.length > 0 ? r.end - r.start + 1 : 0), 0);
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
    slots: { source: 'slot map', epoch: map.epoch, covered, total: 16384, ranges },
    under_replicated: peer.underReplicatedSlots(),
    jobs: jobs.map((j) => ({ id: j.id, kind: j.kind, status: j.status, progress: j.progress })),
  };
}
