/** What the harness page exposes as `window.tesseraHarness` (types only, safe for Node and browser code). */
import type { CoordinatorTiming } from '@tessera/coordinator';
import type { DataWriteOptions, PeerReplicationOptions, PeerRole } from '@tessera/peer';
import type { PeerCommand } from '../peer-commands.ts';

/** How a browser peer starts. */
export interface BrowserPeerConfig {
  readonly cluster: string;
  readonly bootstrap: readonly string[];
  readonly role: PeerRole;
  /** `indexeddb` keeps data and identity across reloads (database `idbName`). */
  readonly storage: 'memory' | 'indexeddb';
  readonly idbName: string;
  readonly timing?: Partial<CoordinatorTiming>;
  readonly replication?: Omit<PeerReplicationOptions, 'slots'>;
  readonly replicationFactor?: number;
}

/** A record of a data write landing in this page's own store (the replica), for propagation timing. */
export interface ArrivedWrite {
  /** The user key the write was for. */
  readonly key: string;
  /** `performance.timeOrigin + performance.now()` at the peer's change event (ms, comparable across pages). */
  readonly atMs: number;
}

export interface HarnessApi {
  start(config: BrowserPeerConfig): Promise<{ id: string; multiaddrs: string[] }>;
  run(command: PeerCommand): Promise<unknown>;
  /** Puts through the page's write queue: `{ queued }` at once; the write is retried until acknowledged. */
  queuedPut(key: string, value: unknown, options?: DataWriteOptions): Promise<{ queued: boolean }>;
  /** Writes still waiting in the queue. */
  queuedWrites(): number;
  /** Starts recording the peer's change events (`peer.watch`) of kv keys that begin with `prefix`. */
  watchArrivals(prefix: string): void;
  /** Recorded arrivals since the last call. */
  takeArrivals(): ArrivedWrite[];
  /**
   * Writes `count` keys `<prefix><i>` one after the other (each awaited) and returns when each started,
   * on the same clock as `ArrivedWrite.atMs`; for propagation benchmarks. `gapMs` between writes
   * (open loop at a fixed rate) keeps a backlog from turning latency into queueing time.
   */
  timedPuts(prefix: string, count: number, options?: DataWriteOptions, gapMs?: number): Promise<TimedPut[]>;
  stop(): Promise<void>;
}

/** One write of `timedPuts`. */
export interface TimedPut {
  readonly key: string;
  readonly startMs: number;
  readonly ackMs: number;
}

declare global {
  interface Window {
    tesseraHarness?: HarnessApi;
  }
}
