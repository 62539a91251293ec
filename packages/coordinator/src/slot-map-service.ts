/**
 * One peer's slot-map service on top of its coordinator: it folds the
 * `slotmap` messages into the committed map, acknowledges proposals it is
 * an owner in (after the data hook says the data is in place), proposes
 * changes on join, leave, failover or an explicit rebalance, and records
 * each of its proposals as a job. Protocol: docs/spec/slot-map.md.
 */
import { compareNodeIds, encodeValue, InvalidArgumentError, SLOT_COUNT, type SlotRange } from '@tessera/core';
import type { Store } from '@tessera/storage';
import type { Coordinator } from './coordinator.ts';
import type { PeerIdString, Random, TimerHandle, Timers } from './env.ts';
import { Emitter, type TypedEvents } from './events.ts';
import { jobSlotRangesMax } from './jobs.ts';
import { SerialQueue } from './serial-queue.ts';
import {
  changedRanges,
  EMPTY_SLOT_MAP,
  mapOwners,
  ownersBySlot,
  rangeOf,
  type SlotMap,
  sameAssignment,
  slotMapKey,
  toWire,
  validateSlotMap,
} from './slot-map.ts';
import { assignSlots, capacityFromQuota, DEFAULT_QUOTA_RULE, type QuotaRule } from './slot-map-assign.ts';
import { InvalidSlotMapError, SlotMapProposalError } from './slot-map-errors.ts';
import {
  compareProposals,
  type Proposal,
  type ProposalId,
  preparePayload,
  proposalKey,
  readAck,
  readEnd,
  readPrepare,
  reasonCharsMax,
  SLOT_MAP_MESSAGE_TYPE,
  type SlotMapHead,
  SlotMapLedger,
} from './slot-map-protocol.ts';
import type { CoordinatorLogger, CoordinatorMessage, Member, MessageEvent } from './types.ts';

/** Timing of the protocol, in milliseconds. */
export interface SlotMapTiming {
  /** A proposer aborts a proposal whose acks have not all arrived by then. */
  readonly prepareTimeoutMs: number;
  /** An owner that acked a proposal acks no other on the same base for this long, unless it ends. */
  readonly ackHoldMs: number;
  /** Quiet time after a membership change before the designated proposer proposes. */
  readonly settleMs: number;
  /** Period of the check that proposes when the map does not match membership. */
  readonly checkPeriodMs: number;
  /**
   * With `expectPeers`, how long a peer that has caught up with nobody yet
   * waits before it may propose a first map alone.
   */
  readonly joinWaitMs: number;
  /** Longest wait between proposals when consecutive ones keep aborting (backoff cap). */
  readonly retryDelayMsMax: number;
}

export const DEFAULT_SLOT_MAP_TIMING: SlotMapTiming = {
  prepareTimeoutMs: 30_000,
  ackHoldMs: 60_000,
  settleMs: 2000,
  checkPeriodMs: 5000,
  joinWaitMs: 30_000,
  retryDelayMsMax: 30_000,
};

/** Failed catch-up rounds with one peer after which the automatic proposer stops waiting for it. */
export const catchUpAttemptsMax = 3;

/** A change in flight, as replication sees it: the map now, the map being prepared, and this peer's part. */
export interface PendingChange {
  readonly proposal: ProposalId;
  readonly epoch: number;
  readonly current: SlotMap;
  readonly next: SlotMap;
  /** Slots this peer owns in `next` but not in `current`: copy them before acking. */
  readonly gained: readonly SlotRange[];
  /** Slots this peer owns in `current` but not in `next`: keep serving them until the commit. */
  readonly lost: readonly SlotRange[];
  /** Aborted when the proposal ends or this peer stops waiting for it. */
  readonly signal: AbortSignal;
}

/** The owners of one slot (same shape as `@tessera/replication`'s `SlotOwners`). */
export interface SlotOwnersView {
  readonly owners: readonly PeerIdString[];
  readonly epoch: number;
}

/** Implements `@tessera/replication`'s `Placement` structurally, plus the pending owners during a move. */
export interface SlotPlacement {
  /** Committed owners of `slot`, primary first, and the epoch of that assignment. */
  lookup(slot: number): SlotOwnersView;
  /** Whether the membership view has `peer` alive and not down. */
  isUp(peer: PeerIdString): boolean;
  /** Owners of `slot` in the pending map when a change in flight moves it, else null. */
  pending(slot: number): SlotOwnersView | null;
  /** Changes whenever the committed map (so some `lookup` answer) may have changed. */
  generation(): number;
}

export interface SlotMapCommitEvent {
  readonly head: SlotMapHead;
  readonly previous: SlotMapHead;
}
export interface SlotMapPrepareEvent {
  readonly proposal: Proposal;
}
export interface SlotMapAbortEvent {
  readonly proposal: ProposalId;
  readonly reason: string;
}
/** A slot-map message refused as bad input (it changes nothing). */
export interface SlotMapRejectedEvent {
  readonly from: PeerIdString;
  readonly reason: string;
  readonly detail: string;
}

export interface SlotMapEvents {
  prepare: SlotMapPrepareEvent;
  commit: SlotMapCommitEvent;
  abort: SlotMapAbortEvent;
  rejected: SlotMapRejectedEvent;
}

export interface SlotMapOptions {
  readonly coordinator: Coordinator;
  readonly timers: Timers;
  readonly random: Random;
  /** Where the committed map is kept under `slotMapKey(cluster)` (the coordinator's store). */
  readonly store: Store;
  /** Requested copies of every slot (N), default 3. */
  readonly replicas?: number;
  /** Propose on membership changes when this peer is the designated proposer (default true). */
  readonly auto?: boolean;
  /**
   * This peer was given other peers to join (bootstrap addresses): it
   * proposes no first map before it has caught up with one of them (or
   * `joinWaitMs` passed), so a peer slow to connect does not commit a map
   * of its own that the cluster then has to reconcile.
   */
  readonly expectPeers?: boolean;
  readonly timing?: Partial<SlotMapTiming>;
  readonly quotaRule?: QuotaRule;
  /**
   * Called on an owner of a proposed map before it acks; resolve once the
   * `gained` slots' data is in place (replication copies it here). A throw
   * rejects the proposal. Default: resolves at once.
   */
  readonly prepareData?: (change: PendingChange) => Promise<void>;
  readonly logger?: CoordinatorLogger;
}

/** Counters for tests and the dashboard. */
export interface SlotMapStats {
  readonly proposed: number;
  readonly committed: number;
  readonly aborted: number;
  readonly acked: number;
  readonly refused: number;
  readonly rejected: number;
}

export interface SlotMapService extends TypedEvents<SlotMapEvents> {
  /** Replays the slot-map messages in the log and starts reacting; call after `coordinator.start()`. */
  start(): Promise<void>;
  /** Stops timers and listeners; waits for queued work. */
  stop(): Promise<void>;
  /** The committed map (epoch 0 and no ranges before the first commit). */
  readonly map: SlotMap;
  readonly head: SlotMapHead;
  /** The best open proposal on the committed map, if any. */
  pending(): PendingChange | null;
  readonly placement: SlotPlacement;
  /**
   * Proposes the map assignment gives for the current membership; resolves
   * with its id once published, or null when the map already matches.
   * Rejects with `SlotMapProposalError` when a proposal of this peer is in
   * flight, or (without `force`) when fewer than a majority of the map's
   * owners are alive in this peer's view.
   */
  rebalance(options?: { readonly replicas?: number; readonly force?: boolean }): Promise<ProposalId | null>;
  stats(): SlotMapStats;
}

const sameId = (a: ProposalId | null, b: ProposalId | null) =>
  a === b || (a !== null && b !== null && a[0] === b[0] && a[1] === b[1]);

/** Slots `peer` holds in `b` but not in `a`. */
function gainedBy(peer: PeerIdString, a: SlotMap, b: SlotMap): SlotRange[] {
  const before = ownersBySlot(a);
  const after = ownersBySlot(b);
  const out: SlotRange[] = [];
  for (let s = 0; s < SLOT_COUNT; s++) {
    if (!after[s]!.includes(peer) || before[s]!.includes(peer)) continue;
    const last = out[out.length - 1];
    if (last && last.end === s - 1) out[out.length - 1] = { start: last.start, end: s };
    else out.push({ start: s, end: s });
  }
  return out;
}

/** Builds the service; nothing happens until `start`. */
export function createSlotMap(options: SlotMapOptions): SlotMapService {
  const { coordinator, timers, random, store } = options;
  const me = coordinator.nodeId;
  const timing: SlotMapTiming = { ...DEFAULT_SLOT_MAP_TIMING, ...options.timing };
  const replicasDefault = options.replicas ?? 3;
  if (!Number.isInteger(replicasDefault) || replicasDefault < 1)
    throw new InvalidArgumentError('replicas must be >= 1');
  const auto = options.auto ?? true;
  const expectPeers = options.expectPeers ?? false;
  const quotaRule = options.quotaRule ?? DEFAULT_QUOTA_RULE;
  const prepareData = options.prepareData ?? (async () => {});
  const logger = options.logger ?? { debug() {}, warn() {} };
  const emitter = new Emitter<SlotMapEvents>((error) =>
    logger.warn('slot map: event listener threw', { error: String(error) }),
  );
  const ledger = new SlotMapLedger();
  const queue = new SerialQueue();
  const counters = { proposed: 0, committed: 0, aborted: 0, acked: 0, refused: 0, rejected: 0 };

  let running = false;
  let head: SlotMapHead = { map: EMPTY_SLOT_MAP, proposal: null };
  let unsubscribe: (() => void)[] = [];
  const timerHandles = new Set<TimerHandle>();
  let checkTimer: TimerHandle | null = null;
  /** This peer's own open proposal. */
  let mine: { proposal: Proposal; timer: TimerHandle; jobId: string | null; acked: number } | null = null;
  /** The proposal this peer is preparing or has acked, and until when it holds. */
  let hold: {
    id: ProposalId;
    untilMs: number;
    controller: AbortController;
    /** Set when the membership view saw the proposer go down after the hold began. */
    proposerWentDown: boolean;
  } | null = null;
  /** Proposals this peer has already answered. */
  const answered = new Set<string>();
  /** Peers this peer finished a catch-up round with since `start`, and failed rounds per peer. */
  const synced = new Set<PeerIdString>();
  /** Whether this peer's own stored log held a committed map when it started (not a wiped or new peer). */
  let startedWithMap = false;
  /**
   * Members this peer saw go down (a transition, since start) and not come back: a proposal of one
   * of them will never end, so it gets no hold. (A hold taken before the transition is released by it.)
   */
  const wentDown = new Set<PeerIdString>();
  const syncFailures = new Map<PeerIdString, number>();
  let catchingUp = false;
  /** Proposals whose base this peer chased with a catch-up from their proposer. */
  const chased = new Set<string>();
  /** This peer's proposals aborted in a row (the retry delay doubles with each). */
  let abortStreak = 0;
  /** Why owners refused this peer's proposals (proposal key -> reason), for the abort reason. */
  const refusals = new Map<string, string>();
  let startedMs = 0;
  /** Proposal inputs (head, N, eligible owners) last found to assign exactly the committed map. */
  let matchedInputs: string | null = null;

  const schedule = (fn: () => void, delayMs: number): TimerHandle => {
    const handle = timers.setTimeout(() => {
      timerHandles.delete(handle);
      if (running) fn();
    }, delayMs);
    timerHandles.add(handle);
    return handle;
  };
  const cancel = (handle: TimerHandle | null) => {
    if (handle === null) return;
    timers.clearTimeout(handle);
    timerHandles.delete(handle);
  };

  const memberMap = () => new Map(coordinator.members().map((m) => [m.id, m]));
  const isAlive = (m: Member | undefined) =>
    m !== undefined && (m.id === me || (m.liveness === 'alive' && m.status !== 'down'));
  const knownOwner = (members: Map<PeerIdString, Member>) => (id: PeerIdString) =>
    members.get(id)?.role === 'owner';

  const reject = (from: PeerIdString, reason: string, detail: string) => {
    counters.rejected += 1;
    logger.warn('slot map: rejected message', { from, reason, detail });
    emitter.emit('rejected', { from, reason, detail });
  };

  const publish = (eventType: string, payload: unknown) =>
    coordinator.publish({ messageType: SLOT_MAP_MESSAGE_TYPE, eventType, payload });

  /** Feeds one message into the ledger (synchronous, so replay and live messages share one path). */
  const ingest = (message: CoordinatorMessage): boolean => {
    if (message.messageType !== SLOT_MAP_MESSAGE_TYPE) return false;
    try {
      switch (message.eventType) {
        case 'prepare': {
          const proposal = readPrepare(message);
          ledger.addPrepare(proposal);
          emitter.emit('prepare', { proposal });
          return true;
        }
        case 'ack': {
          const ack = readAck(message);
          ledger.addAck(message.from, message.clock, ack);
          // An owner that calls this peer's proposal stale holds a map this peer lacks:
          // catch up with it again before the next proposal instead of repeating the same one.
          if (!ack.ok && ack.proposal[1] === me) {
            refusals.set(proposalKey(ack.proposal), ack.reason ?? '');
            if (ack.reason?.startsWith('stale')) {
              synced.delete(message.from);
              syncFailures.delete(message.from);
            }
          }
          return true;
        }
        case 'commit':
        case 'abort': {
          const end = readEnd(message);
          if (!ledger.addEnd(message.from, message.clock, message.eventType, end)) {
            reject(message.from, 'notProposer', `${message.eventType} of another peer's proposal`);
            return false;
          }
          if (message.eventType === 'abort') {
            emitter.emit('abort', { proposal: end.proposal, reason: end.reason ?? '' });
          }
          return true;
        }
        default:
          reject(message.from, 'malformed', `unknown eventType ${message.eventType}`);
          return false;
      }
    } catch (error) {
      if (error instanceof InvalidSlotMapError) {
        reject(message.from, error.reason, error.message);
        return false;
      }
      throw error;
    }
  };

  const persistHead = async () => {
    try {
      await store.put(
        slotMapKey(coordinator.cluster),
        encodeValue({ map: toWire(head.map), proposal: head.proposal }),
      );
    } catch (error) {
      logger.warn('slot map: could not store the map', { error: String(error) });
    }
  };

  const endMine = async (kind: 'commit' | 'abort', reason: string) => {
    if (!mine) return;
    const { proposal, timer, jobId, acked } = mine;
    mine = null;
    cancel(timer);
    if (kind === 'commit') {
      abortStreak = 0;
      await publish('commit', { proposal: proposal.id });
    } else {
      counters.aborted += 1;
      abortStreak += 1;
      await publish('abort', { proposal: proposal.id, reason });
      // Back off: whatever made this one fail (a copy that cannot finish yet, a view still
      // converging) usually needs time, and each round costs every owner a copy attempt.
      const delayMs = Math.min(timing.retryDelayMsMax, timing.settleMs * 2 ** (abortStreak - 1));
      requestCheck(delayMs * (1 + random.next()));
    }
    if (jobId !== null) {
      const status = kind === 'commit' ? 'done' : reason === 'yielded' ? 'cancelled' : 'failed';
      await coordinator.jobs
        .update(jobId, { status, done: acked, error: kind === 'abort' ? reason : null })
        .catch((error: unknown) => logger.debug('slot map: job update failed', { error: String(error) }));
    }
  };

  /** Reacts to whatever changed in the ledger or membership. Runs on the queue only. */
  const react = async () => {
    if (!running) return;
    const next = ledger.head();
    if (!sameId(next.proposal, head.proposal)) {
      const previous = head;
      head = next;
      counters.committed += 1;
      await persistHead();
      emitter.emit('commit', { head, previous });
      requestCheck(timing.settleMs);
    }
    await advanceMine();
    await answer();
  };

  const advanceMine = async () => {
    if (!mine) return;
    const { proposal } = mine;
    if (ledger.ended(proposal.id) !== null) {
      mine = null;
      return;
    }
    if (!sameId(proposal.base, head.proposal)) {
      await endMine('abort', 'superseded');
      return;
    }
    const acks = ledger.acks(proposal.id);
    const refusal = proposal.required.find((o) => acks.get(o) === false);
    if (refusal !== undefined) {
      const why = refusals.get(proposalKey(proposal.id)) ?? '';
      refusals.clear();
      await endMine('abort', `refused by ${refusal}: ${why}`.slice(0, reasonCharsMax));
      return;
    }
    const ok = proposal.required.filter((o) => acks.get(o) === true).length;
    if (ok !== mine.acked) {
      mine.acked = ok;
      if (mine.jobId !== null) await coordinator.jobs.update(mine.jobId, { done: ok }).catch(() => {});
    }
    if (ok === proposal.required.length) {
      await endMine('commit', '');
      return;
    }
    // Yield to a better open proposal on the same base that this peer would accept itself.
    const members = memberMap();
    const better = ledger
      .proposals()
      .some(
        (p) =>
          ledger.ended(p.id) === null &&
          sameId(p.base, proposal.base) &&
          compareProposals(p, proposal) > 0 &&
          p.required.every(knownOwner(members)),
      );
    if (better) await endMine('abort', 'yielded');
  };

  /**
   * A peer given bootstrap peers that started without a map and has caught up with
   * nobody yet, while it sees other owners (or `joinWaitMs` has not passed).
   */
  const waitingToJoin = (): boolean => {
    // Whether it had a map when it started, not now: a map folded halfway through the first catch-up
    // round (the first commit before the next map's acks) is no licence to answer yet.
    if (startedWithMap || !expectPeers || synced.size > 0) return false;
    return otherOwnersAlive().length > 0 || timers.now() - startedMs < timing.joinWaitMs;
  };

  /** Owners other than this peer that the membership view has alive. */
  const otherOwnersAlive = (): PeerIdString[] =>
    coordinator
      .members()
      .filter((m) => m.id !== me && m.role === 'owner' && m.liveness === 'alive')
      .map((m) => m.id);

  /** Answers open proposals this peer is a required owner of. */
  const answer = async () => {
    if (coordinator.self().role !== 'owner') return;
    // A joining peer that has caught up with nobody yet answers nothing. It knows too little to judge
    // (the proposal may be long committed, its owners not yet heard from), and its Lamport clock may
    // still be below messages an earlier run of the same identity published (a wiped store): an ack
    // now could take one of their (clock, origin) ids, so peers holding the old ack would drop it as
    // a duplicate and the logs would differ under one key (seen: a rebuilt owner whose refusal
    // replaced its own old ok-ack could never fold the committed map).
    if (waitingToJoin()) return;
    const held = hold ? ledger.proposal(hold.id) : undefined;
    const members = memberMap();
    const release = !hold
      ? null
      : ledger.ended(hold.id) !== null
        ? 'ended'
        : timers.now() >= hold.untilMs
          ? 'ackHoldMs passed'
          : !held || !sameId(held.base, head.proposal)
            ? 'map moved on'
            : // A proposer seen going down will not end its proposal: waiting out ackHoldMs only
              // delays the next. (A transition, not the status: a joiner's view starts with members
              // it has not heard from yet as down.)
              hold.proposerWentDown
              ? 'proposer went down'
              : null;
    if (hold && release !== null) {
      logger.debug('slot map: hold released', { proposal: hold.id, why: release });
      hold.controller.abort(new Error(`hold released: ${release}`));
      hold = null;
    }
    const open = ledger
      .proposals()
      .filter(
        (p) =>
          p.required.includes(me) &&
          ledger.ended(p.id) === null &&
          !answered.has(proposalKey(p.id)) &&
          !ledger.acks(p.id).has(me),
      );
    let best: Proposal | null = null;
    for (const p of open) {
      let refusal: string | null = null;
      const onOtherBase =
        p.epoch > head.map.epoch + 1 || (p.epoch === head.map.epoch + 1 && !sameId(p.base, head.proposal));
      // The proposer holds a map this peer lacks (or another history at this epoch):
      // pull its log now rather than at the next periodic sync, so both sides fold the same head.
      if (onOtherBase && !chased.has(proposalKey(p.id))) {
        chased.add(proposalKey(p.id));
        void catchUp([p.id[1]]);
      }
      if (p.epoch <= head.map.epoch) refusal = 'stale';
      else if (p.epoch === head.map.epoch + 1 && !sameId(p.base, head.proposal)) refusal = 'staleBase';
      else if (p.epoch > head.map.epoch + 1)
        continue; // this peer is behind; catch-up brings the base
      else if (!p.required.every(knownOwner(members))) refusal = 'unknownOwner';
      if (refusal !== null) {
        answered.add(proposalKey(p.id));
        counters.refused += 1;
        await publish('ack', { proposal: p.id, ok: false, reason: refusal });
        continue;
      }
      // Seen going down before this peer got to its proposal (e.g. the PREPARE came by catch-up): holding
      // it would block every other proposal for ackHoldMs, since no transition is left to release it.
      if (wentDown.has(p.id[1])) continue;
      if (!best || compareProposals(p, best) > 0) best = p;
    }
    if (!best || hold) return;
    const chosen = best;
    const controller = new AbortController();
    hold = { id: chosen.id, untilMs: timers.now() + timing.ackHoldMs, controller, proposerWentDown: false };
    schedule(() => void queue.run(react), timing.ackHoldMs);
    answered.add(proposalKey(chosen.id));
    const change: PendingChange = {
      proposal: chosen.id,
      epoch: chosen.epoch,
      current: head.map,
      next: chosen.map,
      gained: gainedBy(me, head.map, chosen.map),
      lost: gainedBy(me, chosen.map, head.map),
      signal: controller.signal,
    };
    // The data hook may take long (a copy): it runs off the queue, and the ack goes back through it.
    void prepareData(change).then(
      () =>
        queue.run(async () => {
          if (!running || controller.signal.aborted || ledger.ended(chosen.id) !== null) return;
          counters.acked += 1;
          await publish('ack', { proposal: chosen.id, ok: true, reason: null });
        }),
      (error: unknown) =>
        queue.run(async () => {
          if (!running || ledger.ended(chosen.id) !== null) return;
          counters.refused += 1;
          if (hold?.id === chosen.id) hold = null;
          await publish('ack', {
            proposal: chosen.id,
            ok: false,
            reason: `data not ready: ${String(error)}`,
          });
        }),
    );
  };

  /** Owners assignment may use: up and alive, or already in the map and only briefly away (joining after a restart, or suspect). */
  const eligibleMembers = (members: Map<PeerIdString, Member>) => {
    const inMap = new Set(mapOwners(head.map));
    const eligible = (m: Member) => {
      if (m.role !== 'owner') return false;
      if (m.id === me) {
        // A leaving peer is no owner of the next map, even in its own proposals.
        const status = coordinator.self().status;
        return status === 'up' || (inMap.has(me) && status !== 'leaving');
      }
      if (m.status === 'up' && m.liveness === 'alive') return true;
      return inMap.has(m.id) && (m.status === 'joining' || m.status === 'unreachable');
    };
    return [...members.values()]
      .filter(eligible)
      .map((m) => ({ id: m.id, capacitySlots: capacityFromQuota(m.state.storage.quotaBytes, quotaRule) }));
  };

  const propose = async (replicas: number, force: boolean): Promise<ProposalId | null> => {
    if (!running) throw new SlotMapProposalError('notRunning', 'slot map service is not running');
    if (mine) throw new SlotMapProposalError('busy', 'a proposal of this peer is in flight');
    const members = memberMap();
    if (!force && head.map.epoch > 0) {
      const owners = mapOwners(head.map);
      const alive = owners.filter((o) => isAlive(members.get(o))).length;
      if (alive * 2 <= owners.length) {
        throw new SlotMapProposalError(
          'noMajority',
          `only ${alive} of ${owners.length} owners alive in view`,
        );
      }
    }
    const eligible = eligibleMembers(members);
    // The periodic check lands here every checkPeriodMs; assignment is deterministic, so the same
    // map, members and N need not be assigned again to learn that nothing moves.
    const inputs = JSON.stringify([head.proposal, replicas, eligible]);
    if (inputs === matchedInputs) return null;
    const next = assignSlots({ current: head.map, members: eligible, replicas });
    if (sameAssignment(next, head.map)) {
      matchedInputs = inputs;
      return null;
    }
    validateSlotMap(next);
    const proposalInput = {
      epoch: head.map.epoch + 1,
      base: head.proposal,
      map: next,
      required: mapOwners(next),
    };
    const message = await publish('prepare', preparePayload(proposalInput));
    const proposal: Proposal = { id: [message.clock, message.from], ...proposalInput };
    counters.proposed += 1;
    mine = {
      proposal,
      timer: schedule(() => void queue.run(() => endMine('abort', 'timeout')), timing.prepareTimeoutMs),
      jobId: null,
      acked: 0,
    };
    let slots = changedRanges(head.map, next).map((r) => [r.start, r.end] as const);
    if (slots.length > jobSlotRangesMax) slots = [[slots[0]![0], slots[slots.length - 1]![1]]];
    try {
      const job = await coordinator.jobs.create({
        kind: 'slotmap',
        slots,
        total: proposal.required.length,
        status: 'running',
      });
      if (mine?.proposal === proposal) mine.jobId = job.id;
    } catch (error) {
      logger.debug('slot map: could not create job', { error: String(error) });
    }
    return proposal.id;
  };

  /** The designated proposer is the lowest id among owners this peer sees up and alive. */
  const designated = (): boolean => {
    if (coordinator.self().status !== 'up') return false;
    const ups = coordinator
      .members()
      .filter((m) => m.role === 'owner' && isAlive(m) && (m.id === me || m.status === 'up'))
      .map((m) => m.id)
      .sort(compareNodeIds);
    return ups[0] === me;
  };

  /**
   * Up owners whose log may hold slot-map messages this peer lacks: not
   * caught up with since start, and advertising a different log. A map
   * committed before this peer joined reaches it only through catch-up
   * (gossip is live only), so proposing before that builds on a stale map.
   */
  const unsyncedOwners = (): PeerIdString[] => {
    const mine = coordinator.logSummary();
    return coordinator
      .members()
      .filter(
        (m) =>
          m.id !== me &&
          m.role === 'owner' &&
          m.status === 'up' &&
          m.liveness === 'alive' &&
          !synced.has(m.id) &&
          (syncFailures.get(m.id) ?? 0) < catchUpAttemptsMax &&
          (m.state.log.count !== mine.count || m.state.log.hash !== mine.hash),
      )
      .map((m) => m.id);
  };

  /** Catches up with `peers` off the queue (pulled messages come back through `onMessage`), then checks again. */
  const catchUp = async (peers: readonly PeerIdString[]) => {
    if (catchingUp) return;
    catchingUp = true;
    try {
      for (const peer of peers) {
        if (!running) return;
        try {
          // Bounded: a round that never answers must not stop this peer from proposing.
          let timer: TimerHandle | null = null;
          const timedOut = new Promise<never>((_, reject) => {
            timer = schedule(() => reject(new Error('catch-up round timed out')), timing.prepareTimeoutMs);
          });
          try {
            await Promise.race([coordinator.syncWith(peer), timedOut]);
          } finally {
            cancel(timer);
          }
          synced.add(peer);
        } catch (error) {
          syncFailures.set(peer, (syncFailures.get(peer) ?? 0) + 1);
          logger.debug('slot map: catch-up before proposing failed', { peer, error: String(error) });
        }
      }
    } finally {
      catchingUp = false;
    }
    requestCheck(0);
  };

  const check = async () => {
    if (!running || !auto || mine || !designated()) return;
    // A joining peer that has caught up with nobody yet would commit a map of its own, which the
    // fold may then prefer over the cluster's (it has the higher clock). While it sees other owners
    // it keeps trying to catch up with them, however often that fails; alone, it waits joinWaitMs.
    if (waitingToJoin()) {
      const others = otherOwnersAlive();
      if (others.length > 0) void catchUp(others);
      return;
    }
    const behind = unsyncedOwners();
    if (behind.length > 0) {
      void catchUp(behind);
      return;
    }
    try {
      await propose(replicasDefault, false);
    } catch (error) {
      logger.debug('slot map: no proposal', { error: String(error) });
    }
  };

  function requestCheck(delayMs: number): void {
    if (!running) return;
    cancel(checkTimer);
    checkTimer = schedule(() => {
      checkTimer = null;
      void queue.run(check);
    }, delayMs);
  }

  const checkLoop = () => {
    schedule(
      () => {
        if (checkTimer === null) void queue.run(check);
        checkLoop();
      },
      timing.checkPeriodMs * (0.9 + 0.2 * random.next()),
    );
  };

  /** Live messages that arrive while `start` replays the stored log wait here (see `startedWithMap`). */
  let replayed: CoordinatorMessage[] | null = null;
  const onMessage = (event: MessageEvent) => {
    if (!running) return;
    if (replayed !== null) {
      replayed.push(event.message);
      return;
    }
    if (ingest(event.message)) void queue.run(react);
  };

  const placement: SlotPlacement = {
    generation: () => counters.committed,
    lookup(slot) {
      const r = rangeOf(head.map, slot);
      return r ? { owners: r.owners, epoch: r.epoch } : { owners: [], epoch: 0 };
    },
    isUp(peer) {
      return isAlive(coordinator.members().find((m) => m.id === peer));
    },
    pending(slot) {
      const change = service.pending();
      if (!change) return null;
      const now = rangeOf(change.current, slot);
      const next = rangeOf(change.next, slot);
      if (!next) return null;
      if (now && now.owners.length === next.owners.length && now.owners.every((o, i) => o === next.owners[i]))
        return null;
      return { owners: next.owners, epoch: next.epoch };
    },
  };

  const service: SlotMapService = {
    on: (type, listener) => emitter.on(type, listener),
    off: (type, listener) => emitter.off(type, listener),
    get map() {
      return head.map;
    },
    get head() {
      return head;
    },
    placement,

    async start() {
      if (running) throw new InvalidArgumentError('slot map service already running');
      if (!coordinator.running) throw new InvalidArgumentError('start the coordinator first');
      running = true;
      startedMs = timers.now();
      replayed = [];
      unsubscribe = [
        coordinator.on('message', onMessage),
        coordinator.on('member', ({ member, previous }) => {
          if (member.status === 'down') {
            if (previous !== null && previous.status !== 'down') wentDown.add(member.id);
          } else {
            wentDown.delete(member.id);
          }
          requestCheck(timing.settleMs);
          // A held proposal whose proposer went down is released by `answer`.
          if (
            hold !== null &&
            hold.id[1] !== me &&
            member.id === hold.id[1] &&
            member.status === 'down' &&
            previous !== null &&
            previous.status !== 'down'
          ) {
            hold.proposerWentDown = true;
            void queue.run(react);
          }
        }),
        coordinator.on('synced', ({ peer, complete }) => {
          // A round cut short by syncRequestsMax may have left the newest messages behind.
          if (!complete) return;
          const first = synced.size === 0;
          synced.add(peer);
          // A joining peer answers nothing before its first round: answer what arrived meanwhile now.
          if (first) void queue.run(react);
        }),
      ];
      for await (const message of coordinator.messages()) ingest(message);
      // From the stored log alone: a map folded from a catch-up running meanwhile does not count.
      startedWithMap = ledger.head().map.epoch !== 0;
      const arrived = replayed;
      replayed = null;
      for (const message of arrived) ingest(message);
      await queue.run(async () => {
        // Proposals this peer left open before a restart can never finish: end them so owners stop holding.
        for (const p of ledger.proposals()) {
          if (p.id[1] === me && ledger.ended(p.id) === null) {
            await publish('abort', { proposal: p.id, reason: 'restarted' });
          }
        }
      });
      await queue.run(react);
      requestCheck(timing.settleMs);
      checkLoop();
    },

    async stop() {
      if (!running) return;
      running = false;
      for (const off of unsubscribe) off();
      unsubscribe = [];
      for (const handle of timerHandles) timers.clearTimeout(handle);
      timerHandles.clear();
      checkTimer = null;
      hold?.controller.abort();
      hold = null;
      await queue.idle();
    },

    pending() {
      const open = ledger
        .proposals()
        .filter(
          (p) =>
            ledger.ended(p.id) === null && sameId(p.base, head.proposal) && p.epoch === head.map.epoch + 1,
        )
        .sort((a, b) => compareProposals(b, a));
      const p = open[0];
      if (!p) return null;
      const signal = hold && sameId(hold.id, p.id) ? hold.controller.signal : new AbortController().signal;
      return {
        proposal: p.id,
        epoch: p.epoch,
        current: head.map,
        next: p.map,
        gained: gainedBy(me, head.map, p.map),
        lost: gainedBy(me, p.map, head.map),
        signal,
      };
    },

    rebalance(opts = {}) {
      const replicas = opts.replicas ?? replicasDefault;
      return queue.run(() => propose(replicas, opts.force ?? false));
    },

    stats: () => ({ ...counters }),
  };
  return service;
}
