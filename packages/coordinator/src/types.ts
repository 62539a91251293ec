/** The coordinator's public data types: messages, node state, members, jobs, events. */
import type { PeerIdString } from './env.ts';
import type { JobSummary, OpStats } from './node-report.ts';

/** A node's lifecycle status (seed 001's statuses). */
export type NodeStatus =
  | 'unknown'
  | 'idle'
  | 'joining'
  | 'up'
  | 'down'
  | 'leaving'
  | 'exiting'
  | 'removed'
  | 'aborted'
  | 'unreachable';

/** Every `NodeStatus`, for validation. */
export const NODE_STATUSES: readonly NodeStatus[] = [
  'unknown',
  'idle',
  'joining',
  'up',
  'down',
  'leaving',
  'exiting',
  'removed',
  'aborted',
  'unreachable',
];

/** `owner` holds slots; `client` routes to owners. */
export type NodeRole = 'owner' | 'client';

/** Summary of a peer's message log, so others can tell they miss messages. */
export interface LogSummary {
  /** Highest message clock held. */
  readonly clock: number;
  /** Messages held. */
  readonly count: number;
  /** XOR of the 32-bit hashes of every held message id. */
  readonly hash: number;
}

/** A node's state as it publishes it (stored under `S, 'N', cluster, nodeId`). */
export interface NodeState {
  readonly id: PeerIdString;
  readonly cluster: string;
  /** Human-readable host, if any (seed field). */
  readonly host: string;
  /** Addresses other peers can dial (multiaddrs in production). */
  readonly addresses: readonly string[];
  /** The node's Lamport clock when it published this state. */
  readonly clock: number;
  /** The node's wall time (ms) when it published this state. */
  readonly time: number;
  readonly status: NodeStatus;
  readonly role: NodeRole;
  /** Bumped on every start, so a restarted node is told apart from its old self. */
  readonly incarnation: number;
  /** Bumped on every publish within an incarnation; orders states of one incarnation. */
  readonly version: number;
  readonly storage: { readonly usedBytes: number; readonly quotaBytes: number | null };
  readonly log: LogSummary;
  /** Operations this node coordinated (absent on nodes that do not report them). */
  readonly ops?: OpStats;
  /** This node's recent jobs with progress (absent when it has none). */
  readonly jobs?: readonly JobSummary[];
}

/** A coordinator message (seed 000), stored under `M, clock, from`. */
export interface CoordinatorMessage {
  /** Origin node id. */
  readonly from: PeerIdString;
  readonly cluster: string;
  /** Lamport clock of the origin when it sent the message. Total order = (clock, from). */
  readonly clock: number;
  /** The origin's incarnation when it sent the message. */
  readonly incarnation: number;
  /** Origin wall time (ms), informational only. */
  readonly time: number;
  /** What the message is about, e.g. `object`, `database`, `collection`, `user`, `slotMap`. */
  readonly messageType: string;
  /** What happened, e.g. `created`, `updated`, `deleted`. */
  readonly eventType: string;
  /** Any CBOR-encodable value. */
  readonly payload: unknown;
}

/** What a peer asks to publish. */
export interface PublishInput {
  readonly messageType: string;
  readonly eventType: string;
  readonly payload?: unknown;
}

/** What the local failure detector thinks of a member. */
export type Liveness = 'alive' | 'suspect' | 'down';

/** One entry of the membership view. */
export interface Member {
  readonly id: PeerIdString;
  /**
   * Effective status: `down` when the failure detector says down,
   * `unreachable` while suspect, otherwise the status the member reports.
   */
  readonly status: NodeStatus;
  readonly liveness: Liveness;
  readonly role: NodeRole;
  readonly incarnation: number;
  /** Local time (ms, `Timers.now()`) the member was last heard from directly. */
  readonly lastHeardMs: number;
  /** The last state it published. */
  readonly state: NodeState;
}

/** Job lifecycle. `done`, `failed` and `cancelled` are final. */
export type JobStatus = 'pending' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';

/** A long-running piece of work (slot migration, repair, rebalance), stored under `J, id`. */
export interface Job {
  readonly id: string;
  /** e.g. `migrate`, `repair`, `rebalance`. */
  readonly kind: string;
  readonly status: JobStatus;
  /** Units done out of total (total 0 = unknown). */
  readonly progress: { readonly done: number; readonly total: number };
  /** Slot ranges the job covers, inclusive `[first, last]`. */
  readonly slots: readonly (readonly [number, number])[];
  /** Node that runs the job. */
  readonly node: PeerIdString;
  readonly createdMs: number;
  readonly updatedMs: number;
  /** Why a job failed. */
  readonly error: string | null;
}

/** Why a frame from another peer was dropped. */
export type DropReason =
  | 'oversized'
  | 'malformed'
  | 'wrongCluster'
  | 'spoofedSender'
  | 'clockJump'
  | 'overloaded';

/** Payload of the `message` event. */
export interface MessageEvent {
  readonly message: CoordinatorMessage;
  /** `local` = published here; `gossip` = received on the topic; `catchUp` = pulled from a peer. */
  readonly source: 'local' | 'gossip' | 'catchUp';
}

/** Payload of the `member` event: a member appeared or its effective status, role or incarnation changed. */
export interface MemberEvent {
  readonly member: Member;
  readonly previous: Member | null;
}

/** Payload of the `dropped` event. */
export interface DroppedEvent {
  readonly reason: DropReason;
  readonly from: PeerIdString;
  readonly detail: string;
}

/** Payload of the `job` event. */
export interface JobEvent {
  readonly job: Job;
}

/** Payload of the `synced` event: one catch-up round with a peer finished. */
export interface SyncedEvent {
  readonly peer: PeerIdString;
  /** Messages pulled and newly stored. */
  readonly pulled: number;
  /** Whether the round pulled every range that differed (false: it ran out of requests first). */
  readonly complete: boolean;
}

/** Every event a coordinator emits. */
export interface CoordinatorEvents {
  message: MessageEvent;
  member: MemberEvent;
  dropped: DroppedEvent;
  job: JobEvent;
  synced: SyncedEvent;
}

/** Where the coordinator reports what it drops and why. */
export interface CoordinatorLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}
