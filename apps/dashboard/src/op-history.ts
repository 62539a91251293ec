/**
 * The live charts' data: the ops counters and latency percentiles every peer
 * gossips in its node state (`state.ops`), turned into per-peer rate series
 * and a cluster-wide series. Rates come from two consecutive states of one
 * peer (counter difference over the difference of that peer's own publish
 * times), so a missed heartbeat widens a step instead of faking a dip.
 */
import type { Member, OpStats } from '@tessera/coordinator';

/** How far back the charts go. */
export const CHART_WINDOW_MS = 120_000;
/** The cluster series has one point per step. */
export const CLUSTER_STEP_MS = 1_000;
/** A peer's last rate counts towards the cluster for at most this long after it was heard. */
const CLUSTER_HOLD_MS = 5_000;
/** Points kept per peer (a peer heartbeating every 250 ms fills the window with 480). */
const POINTS_PER_PEER_MAX = 600;
/** Peers tracked; past this, peers not heard from for the longest are dropped. */
export const CHART_PEERS_MAX = 64;

/** One interval of one peer, placed at the local time the tab received its closing state. */
export interface RatePoint {
  readonly atMs: number;
  readonly opsPerSec: number;
  readonly quorumFailuresPerSec: number;
  readonly errorsPerSec: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** One peer's series and latest counters. */
export interface PeerSeries {
  readonly id: string;
  readonly role: string;
  readonly points: readonly RatePoint[];
  /** The counters of its latest state. */
  readonly totals: OpStats;
  /** Local time its latest state was first seen. */
  readonly lastAtMs: number;
  /** Not heard from for `staleAfterMs`, or the failure detector no longer calls it alive. */
  readonly stale: boolean;
}

/** The cluster, summed over the peers heard from recently. */
export interface ClusterPoint {
  readonly atMs: number;
  readonly opsPerSec: number;
  readonly quorumFailuresPerSec: number;
  /** The highest p99 among the peers counted (percentiles of different peers do not add up). */
  readonly p99MsMax: number | null;
  /** Peers whose rates were summed. */
  readonly peers: number;
}

export interface ChartData {
  readonly nowMs: number;
  readonly windowMs: number;
  readonly peers: readonly PeerSeries[];
  readonly cluster: readonly ClusterPoint[];
}

interface Tracked {
  role: string;
  incarnation: number;
  version: number;
  /** Publish time (the peer's clock) and counters of the last state, the base for the next rate. */
  baseTimeMs: number;
  totals: OpStats;
  lastAtMs: number;
  liveness: string;
  points: RatePoint[];
}

export class OpHistory {
  readonly #peers = new Map<string, Tracked>();
  #version = 0;

  /** Bumped whenever a new state was folded in. */
  get version(): number {
    return this.#version;
  }

  /** Folds in the members' latest node states (`atMs` = local time now); states already seen change nothing. */
  observe(members: readonly Member[], atMs: number): void {
    for (const member of members) {
      const { state } = member;
      const ops = state.ops;
      const tracked = this.#peers.get(member.id);
      if (tracked !== undefined) tracked.liveness = member.liveness;
      if (ops === undefined) continue;
      if (tracked === undefined) {
        this.#peers.set(member.id, {
          role: member.role,
          incarnation: state.incarnation,
          version: state.version,
          baseTimeMs: state.time,
          totals: ops,
          lastAtMs: atMs,
          liveness: member.liveness,
          points: [],
        });
        this.#version += 1;
        continue;
      }
      if (tracked.incarnation === state.incarnation && tracked.version >= state.version) continue;
      const restarted = tracked.incarnation !== state.incarnation || ops.ops < tracked.totals.ops;
      const elapsedMs = state.time - tracked.baseTimeMs;
      if (!restarted && elapsedMs > 0) {
        const perSec = (delta: number) => Math.max(0, (delta * 1000) / elapsedMs);
        tracked.points.push({
          atMs,
          opsPerSec: perSec(ops.ops - tracked.totals.ops),
          quorumFailuresPerSec: perSec(ops.quorumFailures - tracked.totals.quorumFailures),
          errorsPerSec: perSec(ops.errors - tracked.totals.errors),
          p50Ms: ops.p50Ms,
          p99Ms: ops.p99Ms,
        });
        if (tracked.points.length > POINTS_PER_PEER_MAX)
          tracked.points.splice(0, tracked.points.length - POINTS_PER_PEER_MAX);
      }
      Object.assign(tracked, {
        role: member.role,
        incarnation: state.incarnation,
        version: state.version,
        baseTimeMs: state.time,
        totals: ops,
        lastAtMs: atMs,
      });
      this.#version += 1;
    }
    if (this.#peers.size > CHART_PEERS_MAX) {
      const oldest = [...this.#peers].sort((x, y) => x[1].lastAtMs - y[1].lastAtMs);
      for (const [id] of oldest.slice(0, this.#peers.size - CHART_PEERS_MAX)) this.#peers.delete(id);
    }
  }

  /** The series within the window ending at `nowMs`. */
  view(nowMs: number, staleAfterMs: number): ChartData {
    const sinceMs = nowMs - CHART_WINDOW_MS;
    const peers: PeerSeries[] = [];
    for (const [id, tracked] of [...this.#peers].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      while (tracked.points.length > 0 && (tracked.points[0] as RatePoint).atMs < sinceMs)
        tracked.points.shift();
      peers.push({
        id,
        role: tracked.role,
        points: [...tracked.points],
        totals: tracked.totals,
        lastAtMs: tracked.lastAtMs,
        stale: nowMs - tracked.lastAtMs > staleAfterMs || tracked.liveness !== 'alive',
      });
    }
    return { nowMs, windowMs: CHART_WINDOW_MS, peers, cluster: clusterSeries(peers, sinceMs, nowMs) };
  }
}

/** Sums each peer's latest rate at every step; a peer silent for CLUSTER_HOLD_MS stops counting. */
function clusterSeries(peers: readonly PeerSeries[], sinceMs: number, nowMs: number): ClusterPoint[] {
  const first = Math.min(...peers.map((peer) => peer.points[0]?.atMs ?? Number.POSITIVE_INFINITY));
  if (!Number.isFinite(first)) return [];
  const out: ClusterPoint[] = [];
  const cursors = peers.map(() => -1);
  const startMs = Math.max(sinceMs, Math.ceil(first / CLUSTER_STEP_MS) * CLUSTER_STEP_MS);
  for (let atMs = startMs; atMs <= nowMs; atMs += CLUSTER_STEP_MS) {
    let opsPerSec = 0;
    let quorumFailuresPerSec = 0;
    let p99MsMax: number | null = null;
    let counted = 0;
    peers.forEach((peer, i) => {
      let cursor = cursors[i] as number;
      while (cursor + 1 < peer.points.length && (peer.points[cursor + 1] as RatePoint).atMs <= atMs)
        cursor += 1;
      cursors[i] = cursor;
      const point = peer.points[cursor];
      if (point === undefined || atMs - point.atMs > CLUSTER_HOLD_MS) return;
      counted += 1;
      opsPerSec += point.opsPerSec;
      quorumFailuresPerSec += point.quorumFailuresPerSec;
      if (point.p99Ms !== null) p99MsMax = Math.max(p99MsMax ?? 0, point.p99Ms);
    });
    if (counted > 0) out.push({ atMs, opsPerSec, quorumFailuresPerSec, p99MsMax, peers: counted });
  }
  return out;
}
