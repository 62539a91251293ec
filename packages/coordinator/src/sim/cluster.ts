/**
 * A cluster of coordinators over one `Simulation`, with the convergence
 * checks the simulation tests and the benchmark share.
 */
import { type Coordinator, createCoordinator } from '../coordinator.ts';
import { messagePrefix } from '../keys.ts';
import type { CoordinatorLimits, CoordinatorTiming } from '../options.ts';
import type { CoordinatorLogger, NodeRole } from '../types.ts';
import type { Prng } from './prng.ts';
import type { SimPeer, Simulation } from './simulation.ts';

export interface SimClusterOptions {
  readonly peers: number;
  readonly cluster?: string;
  readonly role?: NodeRole;
  readonly timing?: Partial<CoordinatorTiming>;
  readonly limits?: Partial<CoordinatorLimits>;
  readonly logger?: CoordinatorLogger;
}

/** Peer ids the cluster uses: `p000`, `p001`, … (sorted as numbers sort). */
export const simPeerId = (i: number): string => `p${String(i).padStart(3, '0')}`;

export class SimCluster {
  readonly sim: Simulation;
  readonly #options: SimClusterOptions;
  readonly #peers = new Map<string, SimPeer>();
  readonly #coordinators = new Map<string, Coordinator>();
  readonly #random: Prng;

  private constructor(sim: Simulation, options: SimClusterOptions) {
    this.sim = sim;
    this.#options = options;
    this.#random = sim.fork();
  }

  /** Adds `options.peers` peers to `sim` with coordinators built but not started. */
  static async create(sim: Simulation, options: SimClusterOptions): Promise<SimCluster> {
    const cluster = new SimCluster(sim, options);
    for (let i = 0; i < options.peers; i++) {
      const peer = await sim.addPeer(simPeerId(i));
      cluster.#peers.set(peer.id, peer);
      cluster.#coordinators.set(peer.id, cluster.#build(peer));
    }
    return cluster;
  }

  get ids(): string[] {
    return [...this.#coordinators.keys()];
  }

  coordinator(id: string): Coordinator {
    const c = this.#coordinators.get(id);
    if (!c) throw new Error(`no peer ${id}`);
    return c;
  }

  /** Running coordinators. */
  running(): Coordinator[] {
    return [...this.#coordinators.values()].filter((c) => c.running);
  }

  /** Starts every coordinator, each at a random simulated moment within `staggerMs`. */
  async startAll(staggerMs = 0): Promise<void> {
    const starts: Promise<void>[] = [];
    for (const c of this.#coordinators.values()) {
      starts.push(
        new Promise((resolve, reject) => {
          this.sim.scheduler.after(this.#random.int(staggerMs + 1), () => {
            c.start().then(resolve, reject);
          });
        }),
      );
    }
    await this.sim.runFor(staggerMs + 1);
    await Promise.all(starts);
  }

  /** Kills a peer without a goodbye; its store survives. */
  crash(id: string): void {
    this.sim.crash(id);
  }

  /** Restarts a crashed peer with the same id and store (`wiped`: an empty store); resolves once started. */
  async restart(id: string, options: { wiped?: boolean; expectPeers?: boolean } = {}): Promise<Coordinator> {
    const peer = await this.sim.restart(id, options);
    this.#peers.set(id, peer);
    const c = this.#build(peer, options.expectPeers ?? false);
    this.#coordinators.set(id, c);
    const started = c.start();
    await this.sim.runFor(1);
    await started;
    return c;
  }

  /** Stops every running coordinator. */
  async stopAll(): Promise<void> {
    for (const c of this.running()) {
      const stopped = c.stop();
      await this.sim.runFor(1);
      await stopped;
    }
  }

  /** Each running peer's membership view as one comparable line. */
  views(): string[] {
    return this.running().map((c) =>
      c
        .members()
        .map((m) => `${m.id}:${m.status}:${m.role}:${m.incarnation}`)
        .join(' '),
    );
  }

  /** True when every running peer sees every running peer `up` and they all agree. */
  membershipConverged(): boolean {
    const running = this.running();
    const views = this.views();
    if (views.length === 0 || views.some((v) => v !== views[0])) return false;
    const members = running[0]!.members();
    return (
      members.length === running.length &&
      members.every((m) => m.status === 'up' && running.some((c) => c.nodeId === m.id))
    );
  }

  /** True when every running peer's log summary is the same. */
  logsAgree(): boolean {
    const sums = this.running().map((c) => {
      const s = c.logSummary();
      return `${s.count}:${s.hash}:${s.clock}`;
    });
    return sums.length > 0 && sums.every((s) => s === sums[0]);
  }

  /** Every running peer's stored M keys, in order, as hex lines (the full comparison). */
  async logScans(): Promise<string[][]> {
    const out: string[][] = [];
    for (const c of this.running()) {
      const peer = this.#peers.get(c.nodeId)!;
      const keys: string[] = [];
      for await (const entry of peer.store.scan({ prefix: messagePrefix() })) {
        keys.push(Array.from(entry.key, (b) => b.toString(16).padStart(2, '0')).join(''));
      }
      out.push(keys);
    }
    return out;
  }

  #build(peer: SimPeer, expectPeers = false): Coordinator {
    return createCoordinator({
      expectPeers,
      network: peer.network,
      timers: peer.timers,
      random: peer.random,
      store: peer.store,
      cluster: this.#options.cluster ?? 'sim',
      role: this.#options.role ?? 'owner',
      addresses: [`/sim/${peer.id}`],
      ...(this.#options.timing ? { timing: this.#options.timing } : {}),
      ...(this.#options.limits ? { limits: this.#options.limits } : {}),
      ...(this.#options.logger ? { logger: this.#options.logger } : {}),
    });
  }
}
