/**
 * The dashboard's peer and everything it knows, outside React: starts a
 * browser peer, attaches it to one of the configured cluster peers (redialing
 * with backoff when that connection drops), and keeps a snapshot the views
 * render. All data comes from the peer's own protocols (membership, node
 * state, the coordinator log and job records); there is no side channel.
 */
import {
  type CoordinatorMessage,
  DEFAULT_TIMING,
  type Job,
  type JobSummary,
  type Member,
  type SlotMapService,
} from '@tessera/coordinator';
import { createPeer, type Peer, type PeerRole } from '@tessera/peer';
import { openMemoryStore } from '@tessera/storage';
import { BACKOFF_DEFAULT, type Backoff, backoffDelayMs } from './backoff.ts';
import { type DashboardConfig, peerIdOf } from './config.ts';
import { MessageLog } from './message-log.ts';
import { type ChartData, OpHistory } from './op-history.ts';
import { openOwnerStore } from './owner-store.ts';
import { type SlotMapModel, slotMapModel } from './slot-map-model.ts';
import { type TransportKind, transportOf } from './transport.ts';

/** Where the tab's peer is in its life. */
export type Phase = 'starting' | 'connecting' | 'attached' | 'reconnecting' | 'failed';

/** One row of the Peers view. */
export interface PeerRow {
  readonly member: Member;
  /** This tab's own peer. */
  readonly self: boolean;
  /** How this tab is connected to the peer right now; empty when only heard through others. */
  readonly transports: readonly TransportKind[];
  /** Last ping round trip over this tab's connection, ms. */
  readonly latencyMs: number | undefined;
}

/** A job of any peer, from that peer's node state. */
export interface ClusterJob extends JobSummary {
  /** The peer running it. */
  readonly node: string;
  /** Its peer is no longer heard from (not alive), so the progress shown may be old. */
  readonly stale: boolean;
}

/** Everything the views show, replaced (never mutated) on each change. */
export interface Snapshot {
  readonly config: DashboardConfig;
  readonly storageKind: 'memory' | 'indexeddb';
  readonly selfId: string | undefined;
  readonly phase: Phase;
  /** The address being dialed or attached to. */
  readonly target: string | undefined;
  /** The peer the dashboard is attached to. */
  readonly attached: { readonly address: string; readonly peerId: string } | undefined;
  /** Failed dials since the last successful one. */
  readonly failedDials: number;
  /** When the next dial runs (wall ms), while waiting to retry. */
  readonly retryAtMs: number | undefined;
  readonly error: string | undefined;
  /** True while the tab has an open connection to at least one cluster peer. */
  readonly live: boolean;
  /** Set when the tab lost every connection; `rows` are then as they were at that moment. */
  readonly staleSinceMs: number | undefined;
  /** Open connections of this tab. */
  readonly connections: number;
  readonly rows: readonly PeerRow[];
  readonly log: readonly CoordinatorMessage[];
  readonly jobs: readonly Job[];
  /** Every peer's recent jobs as its node state reports them, newest update first. */
  readonly clusterJobs: readonly ClusterJob[];
  /** Ops, latency and quorum-failure series from every peer's node state. */
  readonly charts: ChartData | undefined;
  /** The tab's peer's slot map; undefined when its peer does not run one. */
  readonly slots: SlotMapModel | undefined;
  /** Wall time of this snapshot, for "last heard" texts. */
  readonly nowMs: number;
}

/** Tuning of a session; every field has a default. */
export interface SessionOptions {
  readonly backoff?: Backoff;
  /** Timeout of one dial to a configured peer. */
  readonly dialTimeoutMs?: number;
  /** How often the snapshot is rebuilt even without events (last-heard times, failure detector). */
  readonly refreshMs?: number;
  /** How often connected peers are pinged. */
  readonly latencyPeriodMs?: number;
}

const DIAL_TIMEOUT_MS_DEFAULT = 5_000;
const REFRESH_MS_DEFAULT = 1_000;
/** Events within this window are folded into one snapshot. */
const EVENT_COALESCE_MS = 100;
const LATENCY_PERIOD_MS_DEFAULT = 3_000;
const PING_TIMEOUT_MS = 2_000;
/** Peers pinged per latency round. */
const PINGS_PER_ROUND_MAX = 32;

export class DashboardSession {
  readonly #options: Required<SessionOptions>;
  readonly #listeners = new Set<() => void>();
  #config: DashboardConfig;
  #snapshot: Snapshot;
  #peer: Peer | undefined;
  #closeStore: (() => Promise<void>) | undefined;
  /** Bumped by start/stop, so work of an older peer never touches a newer one. */
  #generation = 0;
  #cleanups: (() => void)[] = [];
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #dialing = false;
  #log = new MessageLog();
  #logVersion = -1;
  #jobs = new Map<string, Job>();
  #jobsChanged = true;
  #latency = new Map<string, number>();
  #opHistory = new OpHistory();
  #lastLiveRows: readonly PeerRow[] | undefined;
  /** What the last slot model was built from, so an unchanged map is not rebuilt every refresh. */
  #slotsKey = '';
  #stopping: Promise<void> | undefined;

  constructor(config: DashboardConfig, options: SessionOptions = {}) {
    this.#config = config;
    this.#options = {
      backoff: options.backoff ?? BACKOFF_DEFAULT,
      dialTimeoutMs: options.dialTimeoutMs ?? DIAL_TIMEOUT_MS_DEFAULT,
      refreshMs: options.refreshMs ?? REFRESH_MS_DEFAULT,
      latencyPeriodMs: options.latencyPeriodMs ?? LATENCY_PERIOD_MS_DEFAULT,
    };
    this.#snapshot = this.#initialSnapshot();
  }

  /** The running peer (for the browser console and for tests that drive real job records). */
  get peer(): Peer | undefined {
    return this.#peer;
  }

  /** For React's useSyncExternalStore. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): Snapshot => this.#snapshot;

  /** Starts the tab's peer and begins attaching. Errors end in phase `failed`, never a throw. */
  async start(): Promise<void> {
    await this.#stopping;
    const generation = ++this.#generation;
    const config = this.#config;
    this.#update({ ...this.#initialSnapshot(), phase: 'starting' });
    let closeStore: (() => Promise<void>) | undefined;
    try {
      let peer: Peer;
      if (config.role === 'owner') {
        const owner = await openOwnerStore(config.cluster);
        closeStore = owner.close;
        peer = await createPeer({
          storage: owner.store,
          cluster: config.cluster,
          role: 'owner',
          timing: config.timing,
        });
      } else {
        const store = await openMemoryStore();
        closeStore = () => store.close();
        peer = await createPeer({
          storage: store,
          cluster: config.cluster,
          role: 'client',
          timing: config.timing,
        });
      }
      if (generation !== this.#generation) {
        // stop() ran while the peer was starting and could not see it: stop it here.
        await peer.stop();
        await closeStore();
        return;
      }
      this.#peer = peer;
      this.#closeStore = closeStore;
      this.#watch(peer, generation);
      for await (const message of peer.messages()) this.#log.add(message);
      for (const job of await peer.coordinator.jobs.list()) this.#jobs.set(job.id, job);
      if (generation !== this.#generation) return;
      this.#update({ selfId: peer.id });
      this.#refresh();
      if (config.peers.length === 0) {
        this.#update({ phase: 'failed', error: 'no peer address: add ?peer=/ip4/…/ws/p2p/… to the URL' });
        return;
      }
      void this.#dial(generation);
    } catch (err) {
      if (this.#peer === undefined) await closeStore?.().catch(() => undefined);
      if (generation === this.#generation) this.#update({ phase: 'failed', error: messageOf(err) });
    }
  }

  /** Stops the tab's peer and closes its store. */
  stop(): Promise<void> {
    this.#generation += 1;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#refreshTimer);
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    const peer = this.#peer;
    const closeStore = this.#closeStore;
    this.#peer = undefined;
    this.#closeStore = undefined;
    const previous = this.#stopping;
    this.#stopping = (async () => {
      await previous;
      await peer?.stop().catch(() => undefined);
      await closeStore?.().catch(() => undefined);
    })();
    return this.#stopping;
  }

  /** Restarts the tab's peer with another role (owner = IndexedDB storage). */
  async setRole(role: PeerRole): Promise<void> {
    this.#config = { ...this.#config, role };
    await this.stop();
    this.#log = new MessageLog();
    this.#logVersion = -1;
    this.#jobs.clear();
    this.#latency.clear();
    this.#opHistory = new OpHistory();
    this.#lastLiveRows = undefined;
    this.#slotsKey = '';
    await this.start();
  }

  /** Dials now instead of waiting for the backoff timer. */
  retryNow(): void {
    if (this.#peer === undefined || this.#snapshot.attached !== undefined) return;
    clearTimeout(this.#retryTimer);
    void this.#dial(this.#generation);
  }

  #initialSnapshot(): Snapshot {
    return {
      config: this.#config,
      storageKind: this.#config.role === 'owner' ? 'indexeddb' : 'memory',
      selfId: undefined,
      phase: 'starting',
      target: undefined,
      attached: undefined,
      failedDials: 0,
      retryAtMs: undefined,
      error: undefined,
      live: false,
      staleSinceMs: undefined,
      connections: 0,
      rows: [],
      log: [],
      jobs: [],
      clusterJobs: [],
      charts: undefined,
      slots: undefined,
      nowMs: Date.now(),
    };
  }

  #watch(peer: Peer, generation: number): void {
    const soon = () => this.#scheduleRefresh();
    this.#cleanups.push(
      peer.on('member', soon),
      peer.on('message', ({ message }) => {
        if (this.#log.add(message)) soon();
      }),
      peer.on('job', ({ job }) => {
        this.#jobs.set(job.id, job);
        this.#jobsChanged = true;
        soon();
      }),
    );
    const slotMap = slotMapOf(peer);
    if (slotMap !== undefined) {
      this.#cleanups.push(slotMap.on('commit', soon), slotMap.on('prepare', soon), slotMap.on('abort', soon));
    }
    const onDisconnect = (event: CustomEvent<{ toString(): string }>) => {
      const attached = this.#snapshot.attached;
      if (attached !== undefined && event.detail.toString() === attached.peerId) {
        this.#update({ attached: undefined, phase: 'reconnecting', failedDials: 0 });
        this.#scheduleDial(generation, 0);
      }
      soon();
    };
    peer.libp2p.addEventListener('peer:disconnect', onDisconnect);
    peer.libp2p.addEventListener('peer:connect', soon);
    const refresh = setInterval(() => this.#refresh(), this.#options.refreshMs);
    const latency = setInterval(
      () => void this.#measureLatency(peer, generation),
      this.#options.latencyPeriodMs,
    );
    this.#cleanups.push(() => {
      peer.libp2p.removeEventListener('peer:disconnect', onDisconnect);
      peer.libp2p.removeEventListener('peer:connect', soon);
      clearInterval(refresh);
      clearInterval(latency);
    });
  }

  async #dial(generation: number): Promise<void> {
    const peer = this.#peer;
    if (peer === undefined || this.#dialing || generation !== this.#generation) return;
    const peers = this.#config.peers;
    const failedDials = this.#snapshot.failedDials;
    // Rotate through the configured peers, one per attempt.
    const address = peers[failedDials % peers.length] as string;
    const wasAttached = this.#snapshot.phase === 'reconnecting' || this.#lastLiveRows !== undefined;
    this.#dialing = true;
    this.#update({
      phase: wasAttached ? 'reconnecting' : 'connecting',
      target: address,
      retryAtMs: undefined,
    });
    try {
      await peer.dial(address, { timeoutMs: this.#options.dialTimeoutMs });
      if (generation !== this.#generation) return;
      const peerId = peerIdOf(address) as string;
      this.#update({ phase: 'attached', attached: { address, peerId }, failedDials: 0, error: undefined });
      void this.#measureLatency(peer, generation);
      // The connection may have dropped while the dial's promise settled.
      if (peer.libp2p.getConnections().every((connection) => connection.remotePeer.toString() !== peerId)) {
        this.#update({ phase: 'reconnecting', attached: undefined });
        this.#scheduleDial(generation, 0);
      }
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#update({ failedDials: failedDials + 1, error: messageOf(err) });
      this.#scheduleDial(generation, failedDials);
    } finally {
      this.#dialing = false;
      this.#refresh();
    }
  }

  #scheduleDial(generation: number, attempt: number): void {
    clearTimeout(this.#retryTimer);
    const delayMs = backoffDelayMs(attempt, this.#options.backoff, Math.random);
    this.#update({ retryAtMs: Date.now() + delayMs });
    this.#retryTimer = setTimeout(() => void this.#dial(generation), delayMs);
  }

  #scheduleRefresh(): void {
    if (this.#refreshTimer !== undefined) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = undefined;
      this.#refresh();
    }, EVENT_COALESCE_MS);
  }

  async #measureLatency(peer: Peer, generation: number): Promise<void> {
    const remotes = [...new Set(peer.libp2p.getConnections().map((c) => c.remotePeer))].slice(
      0,
      PINGS_PER_ROUND_MAX,
    );
    await Promise.all(
      remotes.map(async (remote) => {
        try {
          const ms = await peer.libp2p.services.ping.ping(remote, {
            signal: AbortSignal.timeout(PING_TIMEOUT_MS),
          });
          if (generation === this.#generation) this.#latency.set(remote.toString(), ms);
        } catch {
          this.#latency.delete(remote.toString());
        }
      }),
    );
  }

  #refresh(): void {
    const peer = this.#peer;
    if (peer === undefined) return;
    const transports = new Map<string, Set<TransportKind>>();
    let connections = 0;
    for (const connection of peer.libp2p.getConnections()) {
      if (connection.status !== 'open') continue;
      connections += 1;
      const id = connection.remotePeer.toString();
      const kinds = transports.get(id) ?? new Set();
      kinds.add(transportOf(connection.remoteAddr.toString(), connection.limits !== undefined));
      transports.set(id, kinds);
    }
    const live = connections > 0;
    const nowMs = Date.now();
    let rows: readonly PeerRow[];
    let staleSinceMs: number | undefined;
    if (live || this.#lastLiveRows === undefined) {
      rows = peer.members().map((member) => ({
        member,
        self: member.id === peer.id,
        transports: [...(transports.get(member.id) ?? [])],
        latencyMs: transports.has(member.id) ? this.#latency.get(member.id) : undefined,
      }));
      if (live) this.#lastLiveRows = rows;
    } else {
      // Lost every connection: keep what was last seen live and say it is stale,
      // rather than let the local failure detector paint the whole cluster down.
      rows = this.#lastLiveRows;
      staleSinceMs = this.#snapshot.staleSinceMs ?? nowMs;
    }
    const log = this.#log.version === this.#logVersion ? this.#snapshot.log : [...this.#log.messages];
    this.#logVersion = this.#log.version;
    const jobs = this.#jobsChanged
      ? [...this.#jobs.values()].sort((a, b) => b.createdMs - a.createdMs || (a.id < b.id ? -1 : 1))
      : this.#snapshot.jobs;
    this.#jobsChanged = false;
    const slots = this.#slotModel(peer, live);
    // Cut off, the charts and jobs stay as last seen live (marked stale by the views), like the rows.
    let { charts, clusterJobs } = this.#snapshot;
    if (live) {
      this.#opHistory.observe(
        rows.map((row) => row.member),
        nowMs,
      );
      const staleAfterMs = this.#config.timing.suspectAfterMs ?? DEFAULT_TIMING.suspectAfterMs;
      charts = this.#opHistory.view(nowMs, staleAfterMs);
      clusterJobs = clusterJobsOf(rows);
    }
    this.#update({ live, staleSinceMs, connections, rows, log, jobs, clusterJobs, charts, slots, nowMs });
  }

  #slotModel(peer: Peer, live: boolean): SlotMapModel | undefined {
    const slotMap = slotMapOf(peer);
    if (slotMap === undefined) return undefined;
    // Cut off, the tab's own failure detector would call every owner down: keep the last live picture.
    if (!live && this.#snapshot.slots !== undefined) return this.#snapshot.slots;
    const map = slotMap.map;
    const next = slotMap.pending()?.next;
    const owners = new Set<string>();
    for (const range of map.ranges) for (const owner of range.owners) owners.add(owner);
    const isUp = (id: string) => slotMap.placement.isUp(id);
    const down = [...owners].filter((id) => !isUp(id)).sort();
    const key = `${map.epoch}|${map.ranges.length}|${next?.epoch ?? ''}|${down.join(',')}`;
    if (key === this.#slotsKey && this.#snapshot.slots !== undefined) return this.#snapshot.slots;
    this.#slotsKey = key;
    return slotMapModel({ map, next, isUp });
  }

  #update(patch: Partial<Snapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...patch, config: this.#config };
    for (const listener of this.#listeners) listener();
  }
}

/** `peer.slotMap` when the peer runs the coordinator's slot map (typed structurally until every peer does). */
function slotMapOf(peer: Peer): SlotMapService | undefined {
  return (peer as Peer & { readonly slotMap?: SlotMapService }).slotMap;
}

function clusterJobsOf(rows: readonly PeerRow[]): ClusterJob[] {
  const jobs: ClusterJob[] = [];
  for (const { member } of rows) {
    for (const job of member.state.jobs ?? []) {
      jobs.push({ ...job, node: member.id, stale: member.liveness !== 'alive' });
    }
  }
  return jobs.sort((a, b) => b.updatedMs - a.updatedMs || (a.id < b.id ? -1 : 1));
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  // A WebSocket dial fails with a bare DOM Event, whose String() is "[object Event]".
  if (typeof Event !== 'undefined' && err instanceof Event) return `${err.type} event from the connection`;
  return String(err);
}
