/**
 * A multi-peer cluster for one test: K Node peer processes and M browser
 * peers, with helpers to kill and restart peers, cut the network between
 * groups, wait for convergence and read any peer's view.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from '@playwright/test';
import type { CoordinatorTiming } from '@tessera/coordinator';
import type { PeerRole } from '@tessera/peer';
import { testReplication, waitFor } from '@tessera/peer/testing';
import type { Consistency } from '@tessera/replication';
import { BrowserPeer } from './browser-peer.ts';
import { NodePeer } from './node-peer.ts';
import type { ReadView } from './peer-commands.ts';
import type { TestPeer } from './test-peer.ts';

/** What the fixture starts before a test; every field has a default. */
export interface ClusterOptions {
  /** Node peer processes (owners). Default 3. */
  readonly nodes: number;
  /** Browser pages as peers. Default 2. */
  readonly browsers: number;
  /** Role of the browser peers. Default `client`. */
  readonly browserRole: PeerRole;
  /** Browser storage. Default `indexeddb` (each page's own, in its own context). */
  readonly browserStorage: 'memory' | 'indexeddb';
  /**
   * `static` (default): every peer routes with a fixed owner set — the Node peers, plus browsers started
   * as owners — so data tests neither wait for nor depend on slot-map formation. `slotMap`: the owners'
   * committed slot map routes, as in production.
   */
  readonly placement: 'static' | 'slotMap';
  /** Copies of every slot (N). Default 3 (capped at the owner count for static placement). */
  readonly replicationFactor: number;
  /** Coordinator timing of every peer. Default `E2E_TIMING`: a killed peer is down after 6 s. */
  readonly timing: Partial<CoordinatorTiming>;
}

/**
 * Failure detection within seconds, with enough slack that a loaded 2-core machine (several peer
 * processes and Chromium per test) does not make live peers look suspect.
 */
export const E2E_TIMING: Partial<CoordinatorTiming> = {
  statePeriodMs: 250,
  suspectAfterMs: 5000,
  downAfterMs: 10_000,
  syncPeriodMs: 1000,
  syncIntervalMinMs: 200,
  requestTimeoutMs: 5000,
};

export const CLUSTER_OPTIONS_DEFAULT: ClusterOptions = {
  nodes: 3,
  browsers: 2,
  browserRole: 'client',
  browserStorage: 'indexeddb',
  placement: 'static',
  replicationFactor: 3,
  timing: E2E_TIMING,
};

const short = (id: string | undefined): string => id?.slice(-6) ?? '?';

/** How long a replica request may take before the owner counts as not acknowledging. */
export const REPLICA_REQUEST_TIMEOUT_MS = 10_000;

/** Bounds of polling waits: generous, because a loaded CI machine is slow, never a timing claim. */
export const CLUSTER_WAIT_MS_DEFAULT = 90_000;

/** Options of `waitForValue`. */
export interface ConvergeOptions {
  /** Peers to read through (default every running peer). */
  readonly peers?: readonly TestPeer[];
  /** Consistency of each read (default `one`, that peer's nearest view). */
  readonly consistency?: Consistency;
  readonly timeoutMs?: number;
}

export class TesseraCluster {
  readonly options: ClusterOptions;
  readonly cluster = `e2e-${crypto.randomUUID()}`;
  readonly nodes: NodePeer[] = [];
  readonly browsers: BrowserPeer[] = [];
  readonly #browser: Browser;
  readonly #harnessUrl: string;
  #workDir: string | undefined;
  #owners: string[] = [];

  constructor(browser: Browser, harnessUrl: string, options: Partial<ClusterOptions> = {}) {
    this.#browser = browser;
    this.#harnessUrl = harnessUrl;
    this.options = { ...CLUSTER_OPTIONS_DEFAULT, ...options };
  }

  /** Every peer started so far, Node peers first. */
  get peers(): TestPeer[] {
    return [...this.nodes, ...this.browsers];
  }

  /** The owner set of static placement. */
  get owners(): readonly string[] {
    return this.#owners;
  }

  /** Starts the configured peers: the Node peers (the first is everyone's bootstrap), then the browsers. */
  async start(): Promise<void> {
    this.#workDir = await mkdtemp(join(tmpdir(), 'tessera-e2e-'));
    if (this.options.nodes > 0) {
      await this.startNode();
      await Promise.all(Array.from({ length: this.options.nodes - 1 }, () => this.startNode()));
    }
    for (let i = 0; i < this.options.browsers; i++) await this.startBrowser();
    await this.#applyPlacement();
    // A test starts once every peer knows every other one (node state holds the addresses data requests dial).
    await this.waitForMembers();
  }

  /** Starts one more Node peer (owner) with its own data dir; joins the static owner set. */
  async startNode(): Promise<NodePeer> {
    if (this.#workDir === undefined) throw new Error('cluster not started');
    const first = this.nodes[0];
    const node = await NodePeer.start({
      cluster: this.cluster,
      dataDir: await mkdtemp(join(this.#workDir, 'node-')),
      timing: this.options.timing,
      replication: this.#replication(),
      replicationFactor: this.options.replicationFactor,
      ...(first === undefined ? {} : { bootstrap: [first.tcpAddress] }),
    });
    this.nodes.push(node);
    this.#owners.push(node.id);
    if (this.browsers.length > 0) await this.#applyPlacement();
    return node;
  }

  /** Starts one more browser peer in its own context; owners join the static owner set. */
  async startBrowser(
    options: { role?: PeerRole; storage?: 'memory' | 'indexeddb' } = {},
  ): Promise<BrowserPeer> {
    const role = options.role ?? this.options.browserRole;
    const browser = await BrowserPeer.start(this.#browser, this.#harnessUrl, {
      cluster: this.cluster,
      bootstrap: this.nodes.filter((node) => node.running).map((node) => node.wsAddress),
      role,
      storage: options.storage ?? this.options.browserStorage,
      idbName: `tessera-${crypto.randomUUID()}`,
      timing: this.options.timing,
      replication: this.#replication(),
      replicationFactor: this.options.replicationFactor,
    });
    this.browsers.push(browser);
    if (role === 'owner') this.#owners.push(browser.id);
    await this.#applyPlacement();
    return browser;
  }

  /** Sends the static owner set to every running peer (a restarted peer gets it again from `restart`). */
  async #applyPlacement(peers: readonly TestPeer[] = this.peers): Promise<void> {
    if (this.options.placement !== 'static' || this.#owners.length === 0) return;
    const ownersPerSlot = Math.min(this.options.replicationFactor, this.#owners.length);
    await Promise.all(
      peers
        .filter((peer) => peer.running)
        .map((peer) => peer.run({ cmd: 'placement', owners: this.#owners, ownersPerSlot })),
    );
  }

  #replication() {
    return {
      ...testReplication,
      defaults: { replicationFactor: this.options.replicationFactor, consistency: 'quorum' as const },
      // Replica requests may wait long on a loaded machine before counting an owner as not acknowledging.
      limits: { requestTimeoutMs: REPLICA_REQUEST_TIMEOUT_MS, repairTimeoutMs: 30_000 },
    };
  }

  /** Kills `peer` abruptly (SIGKILL / context closed). */
  kill(peer: TestPeer): Promise<void> {
    return peer.kill();
  }

  /** Restarts `peer` on its store (and, for Node, its addresses), and gives it the owner set again. */
  async restart(peer: TestPeer): Promise<void> {
    await peer.restart();
    await this.#applyPlacement([peer]);
  }

  /** Reloads a browser peer's page; it starts again from its IndexedDB with the same id. */
  async reload(peer: BrowserPeer): Promise<void> {
    await peer.reload();
    await this.#applyPlacement([peer]);
  }

  /** Cuts every connection between a peer of `left` and a peer of `right`, both ways. */
  async partition(left: readonly TestPeer[], right: readonly TestPeer[]): Promise<void> {
    const ids = (peers: readonly TestPeer[]) => peers.map((peer) => peer.id);
    await Promise.all([
      ...left.map((peer) => peer.block(ids(right))),
      ...right.map((peer) => peer.block(ids(left))),
    ]);
  }

  /** Undoes every partition; the peers' bootstrap and member dialers reconnect them. */
  async heal(): Promise<void> {
    await Promise.all(this.peers.filter((peer) => peer.running).map((peer) => peer.unblock()));
  }

  /** What `peer` reads for `key` (default consistency `one`: its nearest view). */
  read(peer: TestPeer, key: string, consistency: Consistency = 'one'): Promise<ReadView> {
    return peer.get(key, { consistency });
  }

  /** Waits until every given peer reads `value` for `key`; resolves with the reads. */
  async waitForValue(key: string, value: unknown, options: ConvergeOptions = {}): Promise<ReadView[]> {
    const peers = options.peers ?? this.peers.filter((peer) => peer.running);
    const wanted = JSON.stringify(value);
    let last: ReadView[] = [];
    return waitFor(
      async () => {
        last = await Promise.all(peers.map((peer) => this.read(peer, key, options.consistency ?? 'one')));
        return last.every((read) => read.found && JSON.stringify(read.value) === wanted) ? last : undefined;
      },
      {
        timeoutMs: options.timeoutMs ?? CLUSTER_WAIT_MS_DEFAULT,
        intervalMs: 200,
        what: `${peers.length} peers to read ${wanted} for ${key} (last: ${JSON.stringify(last)})`,
      },
    );
  }

  /** Waits until every given peer sees every other given peer as up and alive. */
  async waitForMembers(
    peers: readonly TestPeer[] = this.peers.filter((peer) => peer.running),
  ): Promise<void> {
    const ids = peers.map((peer) => peer.id);
    let missing: string[] = [];
    await waitFor(
      async () => {
        const views = await Promise.all(peers.map((peer) => peer.members()));
        missing = views.flatMap((members, i) =>
          ids
            .filter((id) => !members.some((m) => m.id === id && m.status === 'up' && m.liveness === 'alive'))
            .map((id) => {
              const seen = members.find((m) => m.id === id);
              const state = seen === undefined ? 'not at all' : `${seen.status}/${seen.liveness}`;
              return `${short(peers[i]?.id)} sees ${short(id)} ${state}`;
            }),
        );
        return missing.length === 0;
      },
      {
        timeoutMs: CLUSTER_WAIT_MS_DEFAULT,
        intervalMs: 200,
        what: `${ids.length} peers to see each other up`,
      },
    ).catch((err: Error) => {
      throw new Error(`${err.message} (last: ${missing.join('; ')})`, { cause: err });
    });
  }

  /** Stops every peer and removes every data dir. */
  async close(): Promise<void> {
    await Promise.all(this.browsers.map((peer) => peer.kill()));
    await Promise.all(this.nodes.map((peer) => peer.kill()));
    if (this.#workDir !== undefined) await rm(this.#workDir, { recursive: true, force: true });
  }
}
