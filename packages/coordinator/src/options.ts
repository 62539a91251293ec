/** Coordinator options, their defaults, and the named limits. */
import type { Store } from '@tessera/storage';
import type { Network, PeerIdString, Random, Timers } from './env.ts';
import type { OpStats } from './node-report.ts';
import type { CoordinatorLogger, NodeRole } from './types.ts';

/** Timing of publishing, catch-up and failure detection. All in milliseconds. */
export interface CoordinatorTiming {
  /**
   * Shortest period of a peer's node-state heartbeat (jittered ±10%). The
   * period used grows with the cluster: see `heartbeatsPerPeriodTarget`.
   */
  readonly statePeriodMs: number;
  /**
   * Heartbeats the whole cluster should send per `statePeriodMs`. A peer that
   * sees `live` members (not down, itself included) heartbeats every
   * `statePeriodMs * max(1, live / heartbeatsPerPeriodTarget)`, so the states a
   * peer receives per second stay flat as the cluster grows. Must be > 0.
   */
  readonly heartbeatsPerPeriodTarget: number;
  /**
   * A member not heard from for this long is suspect (effective status
   * `unreachable`). A minimum: it is multiplied by the same factor as the
   * heartbeat period, so suspicion always needs the same number of missed heartbeats.
   */
  readonly suspectAfterMs: number;
  /** A member not heard from for this long is down (a minimum, scaled like `suspectAfterMs`). Must be >= `suspectAfterMs`. */
  readonly downAfterMs: number;
  /** How often a peer runs a catch-up round with a random peer, even with no gap seen. */
  readonly syncPeriodMs: number;
  /** Least time between two catch-up rounds started by gap detection. */
  readonly syncIntervalMinMs: number;
  /** Timeout of one catch-up request. */
  readonly requestTimeoutMs: number;
  /**
   * Longest a peer that started without its own stored state and expects
   * peers holds its publishes while no catch-up round has succeeded (see
   * `CoordinatorOptions.expectPeers`).
   */
  readonly joinWaitMs: number;
}

/**
 * The factor applied to `statePeriodMs`, `suspectAfterMs` and `downAfterMs`
 * when `liveMembers` members (not down, this peer included) are known: 1 up
 * to `heartbeatsPerPeriodTarget` members, then linear in the member count.
 */
export function heartbeatScale(timing: CoordinatorTiming, liveMembers: number): number {
  return Math.max(1, liveMembers / timing.heartbeatsPerPeriodTarget);
}

/** Bounds on everything that comes from the network or grows with it. */
export interface CoordinatorLimits {
  /** Largest gossip frame or stored message accepted, in bytes. */
  readonly messageBytesMax: number;
  /** Largest payload this peer publishes, after CBOR encoding, in bytes (must leave room in `messageBytesMax`). */
  readonly payloadBytesMax: number;
  /** Largest catch-up request accepted, in bytes. */
  readonly requestBytesMax: number;
  /** Largest catch-up response accepted, in bytes. */
  readonly responseBytesMax: number;
  /** Messages per catch-up page. */
  readonly pageMessagesMax: number;
  /** Digest buckets per digest page. */
  readonly digestBucketsMax: number;
  /** Tries of one catch-up request before the round gives up on that peer. */
  readonly requestAttemptsMax: number;
  /** Requests (digest and page) per catch-up round; the next round continues. */
  readonly syncRequestsMax: number;
  /** Inbound frames waiting to be applied; beyond it frames are dropped (`overloaded`). */
  readonly inboxFramesMax: number;
  /** Members tracked; states from further unknown nodes are ignored. */
  readonly membersMax: number;
  /** Largest Lamport clock jump accepted from a message. */
  readonly clockJumpMax: number;
  /** Longest `messageType`, `eventType`, node id, cluster name, address, host, in characters. */
  readonly nameCharsMax: number;
  /** Most addresses in a node state. */
  readonly addressesMax: number;
}

export const DEFAULT_TIMING: CoordinatorTiming = {
  statePeriodMs: 1000,
  heartbeatsPerPeriodTarget: 10,
  suspectAfterMs: 4000,
  downAfterMs: 10_000,
  syncPeriodMs: 5000,
  syncIntervalMinMs: 500,
  requestTimeoutMs: 3000,
  joinWaitMs: 30_000,
};

export const DEFAULT_LIMITS: CoordinatorLimits = {
  messageBytesMax: 64 * 1024,
  payloadBytesMax: 60 * 1024,
  requestBytesMax: 4 * 1024,
  responseBytesMax: 1024 * 1024,
  pageMessagesMax: 256,
  digestBucketsMax: 1024,
  requestAttemptsMax: 3,
  syncRequestsMax: 64,
  inboxFramesMax: 4096,
  membersMax: 4096,
  clockJumpMax: 2 ** 32,
  nameCharsMax: 256,
  addressesMax: 32,
};

/** What `createCoordinator` takes. */
export interface CoordinatorOptions {
  readonly network: Network;
  readonly timers: Timers;
  readonly random: Random;
  readonly store: Store;
  /** Cluster name; frames naming another cluster are dropped. */
  readonly cluster: string;
  /** Must equal `network.selfId` when given (the transport verifies senders by that id). */
  readonly nodeId?: PeerIdString;
  readonly role: NodeRole;
  /** Addresses to advertise; a function is read at each publish. */
  readonly addresses?: readonly string[] | (() => readonly string[]);
  readonly host?: string;
  readonly logger?: CoordinatorLogger;
  readonly timing?: Partial<CoordinatorTiming>;
  readonly limits?: Partial<CoordinatorLimits>;
  /** Read at each state publish: operation stats to gossip in this node's state. */
  readonly report?: () => { readonly ops?: OpStats };
  /**
   * The peer has bootstrap peers to reach. When it also starts without its
   * own stored state (new, or a wiped store under a kept identity), `publish`
   * waits for its first successful catch-up round (at most
   * `timing.joinWaitMs`): its Lamport clock restarted at the log it holds,
   * and a message published before it has caught up could take the
   * (clock, origin) id of one an earlier run published, which peers holding
   * that one would drop as a duplicate. Default false.
   */
  readonly expectPeers?: boolean;
}

export const silentLogger: CoordinatorLogger = {
  debug() {},
  warn() {},
};
