/**
 * The coordinator's slot-map service inside a peer: owners propose and ack
 * (copying the slots they gain before acking), clients only follow the
 * committed map. After a commit, a new owner copies its gained slots once
 * more from the previous owners, for writes that reached only them between
 * its copy and the commit.
 */
import {
  type Coordinator,
  type CoordinatorLogger,
  createSlotMap,
  jobSlotRangesMax,
  type PendingChange,
  type QuotaRule,
  type SlotMap,
  type SlotMapService,
  type SlotMapTiming,
} from '@tessera/coordinator';
import { SLOT_COUNT } from '@tessera/core';
import {
  type Consistency,
  decodeReply,
  encodeRequest,
  type ReplicaOp,
  type Replicator,
  requiredCount,
} from '@tessera/replication';
import type { Store } from '@tessera/storage';
import { SlotCopyError } from './errors.ts';
import type { Libp2pReplicaTransport } from './replica-transport.ts';
import { copySlots, type SlotCopyDeps, type SlotCopyReport, slotsOf } from './slot-copy.ts';

/** Slot-map tunables of a peer. */
export interface PeerSlotMapOptions {
  /** Protocol timing (`prepareTimeoutMs`, `ackHoldMs`, `settleMs`, `checkPeriodMs`). */
  readonly timing?: Partial<SlotMapTiming>;
  /** How a browser owner's storage quota limits the slots it is given. */
  readonly quotaRule?: QuotaRule;
}

/** `slotcopy` jobs record a new owner's copy of the slots it gains. */
export const SLOT_COPY_JOB_KIND = 'slotcopy';
/** Least time between two progress updates of a `slotcopy` job. */
const SLOT_COPY_PROGRESS_PERIOD_MS = 250;

interface Timers {
  now(): number;
  setTimeout(fn: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PeerSlotMapInit {
  readonly coordinator: Coordinator;
  readonly store: Store;
  readonly timers: Timers;
  readonly role: 'owner' | 'client';
  readonly replicas: number;
  readonly consistency: Consistency;
  readonly options: PeerSlotMapOptions;
  /** Whether this peer was given bootstrap peers (it then proposes no first map alone). */
  readonly expectPeers?: boolean;
  readonly logger?: CoordinatorLogger;
  /** The Replicator and transport, once they are open (proposals arrive only after `start`). */
  readonly replication: () => {
    replicator: Replicator;
    transport: Libp2pReplicaTransport;
    requestTimeoutMs: number;
  };
  /** Whether the membership view has a peer serving. */
  readonly isUp: (peer: string) => boolean;
  /** Called after a commit (the peer runs anti-entropy). */
  readonly onCommit?: () => void;
}

/** A running peer slot map: the service plus the background copies to wait for on stop. */
export interface PeerSlotMap {
  readonly service: SlotMapService;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function sourcesNeeded(consistency: Consistency, owners: number): number {
  if (owners === 0) return 0;
  try {
    return owners - requiredCount(consistency, owners, 'write') + 1;
  } catch {
    return owners; // a per-database W this peer cannot see: ask every owner
  }
}

/** Inclusive ranges of slots, at most `jobSlotRangesMax` (one covering range beyond that). */
function jobSlots(ranges: readonly { start: number; end: number }[]): [number, number][] {
  const out = ranges.map((r) => [r.start, r.end] as [number, number]);
  if (out.length <= jobSlotRangesMax) return out;
  return [[out[0]![0], out[out.length - 1]![1]]];
}

/** Slots `peer` owns in `next` but not in `current`. */
function gainedSlots(peer: string, current: SlotMap, next: SlotMap): number[] {
  const owned = (map: SlotMap) => {
    const set = new Uint8Array(SLOT_COUNT);
    for (const r of map.ranges) if (r.owners.includes(peer)) set.fill(1, r.start, r.end + 1);
    return set;
  };
  const before = owned(current);
  const after = owned(next);
  const out: number[] = [];
  for (let s = 0; s < SLOT_COUNT; s++) if (after[s] === 1 && before[s] === 0) out.push(s);
  return out;
}

export function createPeerSlotMap(init: PeerSlotMapInit): PeerSlotMap {
  const { coordinator } = init;
  const selfId = coordinator.nodeId;
  const logger = init.logger ?? { debug() {}, warn() {} };
  const background = new Set<Promise<unknown>>();
  const stopped = new AbortController();

  const deps: SlotCopyDeps = {
    selfId,
    isUp: init.isUp,
    sourcesNeeded: (owners) => sourcesNeeded(init.consistency, owners),
    async call(peer: string, ops: readonly ReplicaOp[]) {
      const { replicator, transport, requestTimeoutMs } = init.replication();
      const frame = encodeRequest(replicator.clock.tick(), ops);
      const bytes =
        peer === selfId
          ? await transport.requestLocal(frame)
          : await transport.request(peer, frame, { timeoutMs: requestTimeoutMs, idempotent: true });
      const reply = decodeReply(bytes, ops.length);
      replicator.clock.receive(reply.clock);
      if ('error' in reply) throw new SlotCopyError(`${peer} refused the frame: ${reply.error.code}`);
      return reply.results;
    },
    applyLocal: (ops) => init.replication().replicator.applyLocal(ops),
  };

  /** Copies `slots` from their owners in `current`, recorded as a `slotcopy` job. */
  const copyWithJob = async (
    current: SlotMap,
    slots: number[],
    ranges: readonly { start: number; end: number }[],
    signal: AbortSignal,
  ): Promise<SlotCopyReport> => {
    const job = await coordinator.jobs
      .create({ kind: SLOT_COPY_JOB_KIND, slots: jobSlots(ranges), total: slots.length, status: 'running' })
      .catch(() => null);
    let updates = Promise.resolve();
    const update = (patch: Parameters<Coordinator['jobs']['update']>[1]) => {
      if (job === null) return updates;
      updates = updates.then(() =>
        coordinator.jobs.update(job.id, patch).then(
          () => undefined,
          () => undefined,
        ),
      );
      return updates;
    };
    // Progress arrives per frame of slots; each update is a store write and a gossiped job, so at most
    // one per progressPeriodMs (the final update below carries the end state).
    let progressAtMs = 0;
    const progress = (done: number) => {
      const now = Date.now();
      if (now - progressAtMs < SLOT_COPY_PROGRESS_PERIOD_MS) return;
      progressAtMs = now;
      void update({ done });
    };
    try {
      const report = await copySlots(deps, current, slots, signal, progress);
      await update({ status: 'done', done: slots.length });
      return report;
    } catch (error) {
      await update({ status: signal.aborted ? 'cancelled' : 'failed', error: String(error) });
      throw error;
    }
  };

  const prepareData = async (change: PendingChange): Promise<void> => {
    const slots = slotsOf(change.gained);
    // Before the first map no slot has owners, so nothing can have been written.
    if (slots.length === 0 || change.current.epoch === 0) return;
    const signal = AbortSignal.any([change.signal, stopped.signal]);
    const report = await copyWithJob(change.current, slots, change.gained, signal);
    logger.debug('slot map: copied gained slots', { epoch: change.epoch, ...report });
  };

  const service = createSlotMap({
    coordinator,
    timers: init.timers,
    random: { next: () => Math.random() },
    store: init.store,
    replicas: init.replicas,
    // Clients never propose; the service itself never lets them ack.
    auto: init.role === 'owner',
    expectPeers: init.expectPeers ?? false,
    ...(init.options.timing === undefined ? {} : { timing: init.options.timing }),
    ...(init.options.quotaRule === undefined ? {} : { quotaRule: init.options.quotaRule }),
    ...(init.logger === undefined ? {} : { logger: init.logger }),
    prepareData,
  });

  const unsubscribe = service.on('commit', ({ head, previous }) => {
    init.onCommit?.();
    if (init.role !== 'owner' || previous.map.epoch === 0) return;
    const slots = gainedSlots(selfId, previous.map, head.map);
    if (slots.length === 0) return;
    const ranges: { start: number; end: number }[] = [];
    for (const s of slots) {
      const last = ranges[ranges.length - 1];
      if (last && last.end === s - 1) last.end = s;
      else ranges.push({ start: s, end: s });
    }
    const task = copyWithJob(previous.map, slots, ranges, stopped.signal).then(
      (report) => logger.debug('slot map: caught up gained slots after commit', { ...report }),
      (error: unknown) => {
        if (!stopped.signal.aborted)
          logger.warn('slot map: catch-up copy failed (anti-entropy heals)', { error: String(error) });
      },
    );
    background.add(task);
    void task.finally(() => background.delete(task));
  });

  return {
    service,
    start: () => service.start(),
    async stop() {
      unsubscribe();
      stopped.abort();
      await service.stop();
      await Promise.allSettled([...background]);
    },
  };
}
