/**
 * The coordinator: one peer's side of the cluster's control plane. It
 * publishes and receives Lamport-clocked messages on the gossip topic,
 * stores each under its M key, catches up by pulling from peers, publishes
 * its node state on change and as a heartbeat whose period grows with the
 * member count (so each peer receives a flat number of states per second),
 * runs the failure detector on the same scale, and
 * keeps job records. It talks only to `Network`, `Timers`, `Random` and a
 * `Store`, so the same code runs over libp2p and in the simulator.
 */
import {
  ClockJumpError,
  compareBytes,
  decodeValue,
  encodeValue,
  InvalidArgumentError,
  LamportClock,
  LimitExceededError,
} from '@tessera/core';
import { type CatchUpContext, runCatchUp, serveCatchUp } from './catch-up.ts';
import type { PeerIdString, TimerHandle } from './env.ts';
import { CoordinatorNotRunningError } from './errors.ts';
import { Emitter, type TypedEvents } from './events.ts';
import { createJobs, type Jobs } from './jobs.ts';
import { keySuccessor, messageEnd, messageKey, messagePrefix, nodeStateKey } from './keys.ts';
import { MessageLog } from './log.ts';
import { Membership } from './membership.ts';
import { RecentJobs } from './node-report.ts';
import {
  type CoordinatorLimits,
  type CoordinatorOptions,
  type CoordinatorTiming,
  DEFAULT_LIMITS,
  DEFAULT_TIMING,
  heartbeatScale,
  silentLogger,
} from './options.ts';
import { SerialQueue } from './serial-queue.ts';
import type {
  CoordinatorEvents,
  CoordinatorMessage,
  DropReason,
  LogSummary,
  Member,
  NodeState,
  NodeStatus,
  PublishInput,
} from './types.ts';
import {
  decodeGossip,
  decodeMessage,
  encodeFrame,
  type MessageFrame,
  type MessageId,
  WIRE_VERSION,
} from './wire.ts';

/** Counters for what the coordinator did with traffic. */
export interface CoordinatorStats {
  /** Frames dropped as bad input (or overload), by reason. */
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** Messages newly stored from gossip. */
  readonly gossipAccepted: number;
  /** Messages newly stored from catch-up. */
  readonly pulled: number;
  /** Messages received that were already stored. */
  readonly duplicates: number;
  /** Of those, how many held other bytes than the stored message of their id (see `applyMessage`). */
  readonly idCollisions: number;
  readonly syncRounds: number;
  readonly syncFailures: number;
  /** Node-state frames and bytes this peer broadcast. */
  readonly statesSent: number;
  readonly stateBytesSent: number;
}

/** One peer's coordinator. */
export interface Coordinator extends TypedEvents<CoordinatorEvents> {
  readonly nodeId: PeerIdString;
  readonly cluster: string;
  /** This run's incarnation (0 before the first start). */
  readonly incarnation: number;
  /** The current Lamport clock. */
  readonly clock: number;
  readonly running: boolean;
  /** Job records (`J`). */
  readonly jobs: Jobs;
  /** Loads the log, bumps and persists the incarnation, starts publishing and catching up. */
  start(): Promise<void>;
  /** Publishes a last `exiting` state (best effort), stops every timer, waits for queued work. */
  stop(): Promise<void>;
  /** Stamps, stores and broadcasts a message. */
  publish(input: PublishInput): Promise<CoordinatorMessage>;
  /** The membership view, this peer included, sorted by id. */
  members(): Member[];
  /** This peer's current node state. */
  self(): NodeState;
  /** Changes this peer's reported status (e.g. `leaving`) and publishes at once. */
  setStatus(status: NodeStatus): void;
  /** The stored log in total order (clock, then origin), after `after`, at most `limit`. */
  messages(options?: { after?: MessageId; limit?: number }): AsyncIterable<CoordinatorMessage>;
  /** Clock, count and hash of the stored log. */
  logSummary(): LogSummary;
  /** Runs one catch-up round with `peer` now; resolves with the messages newly stored. */
  syncWith(peer: PeerIdString): Promise<number>;
  stats(): CoordinatorStats;
}

const DROP_REASONS: readonly DropReason[] = [
  'oversized',
  'malformed',
  'wrongCluster',
  'spoofedSender',
  'clockJump',
  'overloaded',
];

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function toMessage(frame: MessageFrame): CoordinatorMessage {
  const { from, cluster, clock, incarnation, time, messageType, eventType, payload } = frame;
  return { from, cluster, clock, incarnation, time, messageType, eventType, payload };
}

/**
 * Builds a coordinator; nothing happens until `start`. `credential` (a
 * membership certificate from `@tessera/auth`) rides in every node state
 * this peer publishes as `cert`, for peers that check membership.
 */
export function createCoordinator(
  options: CoordinatorOptions & { readonly credential?: Uint8Array },
): Coordinator {
  const { network, timers, random, store, cluster, role } = options;
  const nodeId = network.selfId;
  if (options.nodeId !== undefined && options.nodeId !== nodeId) {
    throw new InvalidArgumentError(`nodeId ${options.nodeId} is not network.selfId ${nodeId}`);
  }
  if (typeof cluster !== 'string' || cluster.length === 0)
    throw new InvalidArgumentError('cluster name required');
  if (role !== 'owner' && role !== 'client') throw new InvalidArgumentError(`unknown role ${String(role)}`);
  const timing: CoordinatorTiming = { ...DEFAULT_TIMING, ...options.timing };
  const limits: CoordinatorLimits = { ...DEFAULT_LIMITS, ...options.limits };
  if (timing.downAfterMs < timing.suspectAfterMs) {
    throw new InvalidArgumentError('downAfterMs must be >= suspectAfterMs');
  }
  if (!(timing.heartbeatsPerPeriodTarget > 0) || !Number.isFinite(timing.heartbeatsPerPeriodTarget)) {
    throw new InvalidArgumentError('heartbeatsPerPeriodTarget must be a positive number');
  }
  if (limits.payloadBytesMax >= limits.messageBytesMax) {
    throw new InvalidArgumentError('payloadBytesMax must be < messageBytesMax');
  }
  const logger = options.logger ?? silentLogger;
  const addresses = () => [
    ...(typeof options.addresses === 'function' ? options.addresses() : (options.addresses ?? [])),
  ];

  const emitter = new Emitter<CoordinatorEvents>((error) =>
    logger.warn('coordinator: event listener threw', { error: String(error) }),
  );
  const log = new MessageLog(store, limits);
  const membership = new Membership(nodeId, {
    suspectAfterMs: timing.suspectAfterMs,
    downAfterMs: timing.downAfterMs,
    membersMax: limits.membersMax,
  });
  const inbox = new SerialQueue();
  const timerHandles = new Set<TimerHandle>();
  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  const counters = {
    gossipAccepted: 0,
    pulled: 0,
    duplicates: 0,
    idCollisions: 0,
    syncRounds: 0,
    syncFailures: 0,
    statesSent: 0,
    stateBytesSent: 0,
  };

  let running = false;
  let handlersInstalled = false;
  let incarnation = 0;
  let clock = new LamportClock(0, { clockJumpMax: limits.clockJumpMax });
  let status: NodeStatus = 'idle';
  let version = 0;
  let storage: NodeState['storage'] = { usedBytes: 0, quotaBytes: null };
  let syncing = false;
  let syncPending: PeerIdString | null = null;
  let syncTimer: TimerHandle | null = null;
  let lastSyncEndMs = Number.NEGATIVE_INFINITY;

  const schedule = (fn: () => void, delayMs: number): TimerHandle => {
    const handle = timers.setTimeout(() => {
      timerHandles.delete(handle);
      if (running) fn();
    }, delayMs);
    timerHandles.add(handle);
    return handle;
  };
  const jitter = (ms: number) => ms * (0.9 + 0.2 * random.next());
  /** While set, `publish` waits (see `CoordinatorOptions.expectPeers`); opened by a catch-up round, a timeout or stop. */
  let publishGate: { readonly promise: Promise<void>; readonly open: () => void } | null = null;
  const openPublishGate = () => {
    publishGate?.open();
    publishGate = null;
  };
  // Read from this peer's own view; views agree within a heartbeat or two,
  // and suspicion needs several missed heartbeats, so small differences are harmless.
  const scale = () => heartbeatScale(timing, membership.liveCount());
  let publishedAddresses = '';
  let lastPublishMs = Number.NEGATIVE_INFINITY;
  // Sorted: a transport may list the same addresses in another order.
  const addressKey = (list: readonly string[]) => JSON.stringify([...list].sort());

  const drop = (reason: DropReason, from: PeerIdString, detail: string) => {
    dropped[reason] += 1;
    logger.warn('coordinator: dropped input', { reason, from, detail });
    emitter.emit('dropped', { reason, from, detail });
  };

  const buildSelf = (): NodeState => ({
    id: nodeId,
    cluster,
    host: options.host ?? '',
    addresses: addresses().slice(0, limits.addressesMax),
    clock: clock.value,
    time: timers.now(),
    status,
    role,
    incarnation,
    version,
    storage,
    log: log.summary(),
    ...reportOf(),
    ...(options.credential === undefined ? {} : { cert: options.credential }),
  });

  const recentJobs = new RecentJobs();
  const reportOf = () => {
    const ops = options.report?.().ops;
    const jobs = recentJobs.list(timers.now());
    return { ...(ops === undefined ? {} : { ops }), ...(jobs.length === 0 ? {} : { jobs }) };
  };

  const emitMemberChange = (change: { member: Member; previous: Member | null } | null) => {
    if (change) emitter.emit('member', change);
  };

  const persistState = async (state: NodeState, durable: boolean) => {
    try {
      await store.put(nodeStateKey(cluster, state.id), encodeValue(state), { durable });
    } catch (error) {
      logger.warn('coordinator: could not store node state', { id: state.id, error: String(error) });
    }
  };

  const publishState = async () => {
    lastPublishMs = timers.now();
    try {
      const estimate = await store.estimateSize();
      storage = { usedBytes: estimate.usedBytes, quotaBytes: estimate.quotaBytes ?? null };
    } catch {
      // Keep the last estimate; a failing estimate must not stop the heartbeat.
    }
    // stop() may have run while the estimate was read: its `exiting` state is the last word, and the
    // network is gone (a broadcast now throws, and every caller of this function ignores its promise).
    if (!running) return;
    version += 1;
    const state = buildSelf();
    publishedAddresses = addressKey(state.addresses);
    emitMemberChange(membership.setSelf(state, timers.now()));
    const bytes = encodeFrame({ v: WIRE_VERSION, kind: 'state', ...state });
    counters.statesSent += 1;
    counters.stateBytesSent += bytes.byteLength;
    try {
      network.broadcast(bytes);
    } catch (error) {
      // Best effort like all gossip: the next period publishes again.
      logger.warn('coordinator: could not publish node state', { error: String(error) });
    }
    await persistState(state, false);
  };

  const stateLoop = () => {
    schedule(
      () => {
        void publishState();
        stateLoop();
        // ±50%, not the ±10% of other loops: peers that grew their period together
        // would otherwise heartbeat in bursts for many periods; this spreads them in one or two.
      },
      timing.statePeriodMs * scale() * (0.5 + random.next()),
    );
  };

  const checkLoop = () => {
    schedule(
      () => {
        for (const change of membership.check(timers.now(), scale())) {
          emitter.emit('member', change);
          void inbox.run(() => persistState(change.member.state, false));
        }
        // Heartbeats can be far apart in a large cluster, so a new address goes
        // out at once — at most once per statePeriodMs, should addresses flap.
        if (
          timers.now() - lastPublishMs >= timing.statePeriodMs &&
          addressKey(addresses().slice(0, limits.addressesMax)) !== publishedAddresses
        ) {
          void publishState();
        }
        checkLoop();
      },
      Math.max(1, Math.min(timing.suspectAfterMs, timing.statePeriodMs) / 4),
    );
  };

  const randomPeer = (): PeerIdString | null => {
    const connected = network.connectedPeers().filter((p) => p !== nodeId);
    if (connected.length === 0) return null;
    return connected[Math.floor(random.next() * connected.length)]!;
  };

  const applyMessage = async (
    frame: MessageFrame,
    bytes: Uint8Array,
    source: 'gossip' | 'catchUp',
    sender: PeerIdString,
  ): Promise<boolean> => {
    const held = await log.get(frame.clock, frame.from);
    if (held !== undefined) {
      counters.duplicates += 1;
      // Ids are (clock, origin): the same id with other bytes means the origin published twice from the
      // same clock (an earlier run of its identity, before its store was lost). Logs then differ under
      // one key and digests cannot see it: make it visible.
      if (compareBytes(held, bytes) !== 0) {
        counters.idCollisions += 1;
        logger.warn('coordinator: message id reused with other content', {
          clock: frame.clock,
          origin: frame.from,
          messageType: frame.messageType,
          eventType: frame.eventType,
        });
      }
      return false;
    }
    try {
      clock.receive(frame.clock);
    } catch (error) {
      // LimitExceededError: the clock would pass CLOCK_MAX; as harmful as a jump.
      if (error instanceof ClockJumpError || error instanceof LimitExceededError) {
        drop('clockJump', sender, `clock ${frame.clock} from local ${clock.value}`);
        return false;
      }
      throw error;
    }
    if (!(await log.append(frame.clock, frame.from, bytes))) return false;
    emitter.emit('message', { message: toMessage(frame), source });
    return true;
  };

  const catchUpContext: CatchUpContext = {
    network,
    cluster,
    limits,
    requestTimeoutMs: timing.requestTimeoutMs,
    log,
    drop,
    apply: (frames) =>
      inbox.run(async () => {
        let added = 0;
        for (const { frame, bytes } of frames) {
          if (!running) break;
          if (await applyMessage(frame, bytes, 'catchUp', frame.from)) added += 1;
        }
        counters.pulled += added;
        return added;
      }),
  };

  const syncWith = async (peer: PeerIdString): Promise<number> => {
    counters.syncRounds += 1;
    try {
      const { pulled, complete } = await runCatchUp(catchUpContext, peer);
      // Caught up with a peer's whole log: the clock is past every message of it, this identity's
      // earlier ones included as far as that peer holds them.
      if (complete) openPublishGate();
      emitter.emit('synced', { peer, pulled, complete });
      return pulled;
    } catch (error) {
      counters.syncFailures += 1;
      logger.debug('coordinator: catch-up round failed', { peer, error: String(error) });
      throw error;
    }
  };

  const runSync = async (peer: PeerIdString) => {
    syncing = true;
    try {
      await syncWith(peer);
    } catch {
      // Counted and logged in syncWith; the next round tries again, maybe with another peer.
    } finally {
      syncing = false;
      lastSyncEndMs = timers.now();
      if (status === 'joining' && running) setStatus('up');
    }
    if (syncPending !== null && running) {
      const next = syncPending;
      syncPending = null;
      requestSync(next);
    }
  };

  /** Starts a round with `peer` now, or once the running round ends and `syncIntervalMinMs` has passed. */
  const requestSync = (peer: PeerIdString) => {
    if (!running) return;
    if (syncing || syncTimer !== null) {
      syncPending = peer;
      return;
    }
    const waitMs = lastSyncEndMs + timing.syncIntervalMinMs - timers.now();
    if (waitMs > 0) {
      syncPending = peer;
      syncTimer = schedule(() => {
        syncTimer = null;
        const next = syncPending;
        syncPending = null;
        if (next !== null) requestSync(next);
      }, waitMs);
      return;
    }
    void runSync(peer);
  };

  const syncLoop = () => {
    schedule(() => {
      const peer = randomPeer();
      if (peer !== null) requestSync(peer);
      syncLoop();
    }, jitter(timing.syncPeriodMs));
  };

  const onState = async (state: NodeState) => {
    const observation = membership.observe(state, timers.now());
    if (observation.kind === 'full') {
      logger.debug('coordinator: membersMax reached, state ignored', { id: state.id });
      return;
    }
    if (observation.kind === 'stale') return;
    if (observation.change) {
      emitter.emit('member', observation.change);
      await persistState(state, false);
    }
    const mine = log.summary();
    const theirs = state.log;
    // Pull at once only when the peer may hold what we lack; other differences
    // heal when that peer pulls from us, or in the periodic round.
    if (
      (theirs.count !== mine.count || theirs.hash !== mine.hash) &&
      (theirs.count > mine.count || theirs.clock > mine.clock)
    ) {
      requestSync(state.id);
    }
  };

  const onGossip = async (data: Uint8Array, sender: PeerIdString) => {
    const checked = decodeGossip(data, limits);
    if (!checked.ok) {
      drop(checked.reason, sender, checked.detail);
      return;
    }
    const frame = checked.value;
    if (frame.cluster !== cluster) {
      drop('wrongCluster', sender, `cluster ${frame.cluster}`);
      return;
    }
    if (frame.kind === 'message') {
      if (frame.from !== sender) {
        drop('spoofedSender', sender, `message claims to be from ${frame.from}`);
        return;
      }
      if (await applyMessage(frame, data, 'gossip', sender)) counters.gossipAccepted += 1;
      return;
    }
    if (frame.id !== sender) {
      drop('spoofedSender', sender, `state claims to be from ${frame.id}`);
      return;
    }
    const { v: _v, kind: _kind, ...state } = frame;
    await onState(state);
  };

  const installHandlers = () => {
    if (handlersInstalled) return;
    handlersInstalled = true;
    network.onBroadcast((data, sender) => {
      if (!running) return;
      // Checked before queueing so an oversized frame costs no decode and no queue slot.
      if (data.byteLength > limits.messageBytesMax) {
        drop('oversized', sender, `${data.byteLength} bytes > messageBytesMax ${limits.messageBytesMax}`);
        return;
      }
      if (inbox.length >= limits.inboxFramesMax) {
        drop('overloaded', sender, `inbox holds ${inbox.length} frames`);
        return;
      }
      void inbox.run(async () => {
        if (!running) return;
        try {
          await onGossip(data, sender);
        } catch (error) {
          logger.warn('coordinator: failed to apply gossip', { from: sender, error: String(error) });
        }
      });
    });
    network.onRequest(async (data, sender) => {
      if (!running) return encodeFrame({ v: WIRE_VERSION, kind: 'error', reason: 'notRunning' });
      try {
        return await serveCatchUp(catchUpContext, data, sender);
      } catch (error) {
        logger.warn('coordinator: failed to serve catch-up', { from: sender, error: String(error) });
        return encodeFrame({ v: WIRE_VERSION, kind: 'error', reason: 'internal' });
      }
    });
  };

  const setStatus = (next: NodeStatus) => {
    if (!running) throw new CoordinatorNotRunningError();
    if (next === status) return;
    status = next;
    void publishState();
  };

  const jobs = createJobs({
    store,
    nodeId,
    nowMs: () => timers.now(),
    idPrefix: () => `${nodeId}/${incarnation}`,
    onChange: (job) => {
      recentJobs.add(job);
      emitter.emit('job', { job });
    },
  });

  const coordinator: Coordinator = {
    nodeId,
    cluster,
    get incarnation() {
      return incarnation;
    },
    get clock() {
      return clock.value;
    },
    get running() {
      return running;
    },
    jobs,
    on: (type, listener) => emitter.on(type, listener),
    off: (type, listener) => emitter.off(type, listener),

    async start() {
      if (running) throw new InvalidArgumentError('coordinator already running');
      let previous: Partial<NodeState> | undefined;
      const stored = await store.get(nodeStateKey(cluster, nodeId));
      if (stored !== undefined) {
        try {
          previous = decodeValue<Partial<NodeState>>(stored);
        } catch {
          logger.warn('coordinator: own stored node state unreadable; incarnation taken from the clock');
        }
      }
      await log.load(logger);
      const previousClock = isNat(previous?.clock) ? previous.clock : 0;
      // Without its own stored state (a new peer, or a wiped or corrupt store under a kept identity) the
      // peer cannot know the incarnation others last heard from it, and they ignore states of an older one:
      // the wall clock is past every incarnation an earlier run of this identity could have used.
      incarnation = isNat(previous?.incarnation)
        ? previous.incarnation + 1
        : Math.max(1, Math.floor(timers.now()));
      clock = new LamportClock(Math.max(previousClock, log.summary().clock), {
        clockJumpMax: limits.clockJumpMax,
      });
      version = 0;
      status = 'joining';
      // The new incarnation is on disk before anyone hears of it, so a crash
      // right after cannot reuse it.
      await persistState(buildSelf(), true);
      running = true;
      // A peer whose own state is gone but whose log is not (a corrupt state record) holds every message
      // it published (they are stored before they are sent), and its clock starts past them: no wait.
      if (previous === undefined && log.summary().count === 0 && options.expectPeers === true) {
        let open = () => {};
        const promise = new Promise<void>((resolve) => {
          open = resolve;
        });
        publishGate = { promise, open };
        schedule(openPublishGate, timing.joinWaitMs);
      }
      installHandlers();
      await publishState();
      stateLoop();
      checkLoop();
      syncLoop();
      const peer = randomPeer();
      if (peer === null) setStatus('up');
      else requestSync(peer);
    },

    async stop() {
      if (!running) return;
      status = 'exiting';
      version += 1;
      const state = buildSelf();
      try {
        network.broadcast(encodeFrame({ v: WIRE_VERSION, kind: 'state', ...state }));
      } catch (error) {
        logger.debug('coordinator: could not publish exiting state', { error: String(error) });
      }
      running = false;
      // Publishes still waiting to join now fail with CoordinatorNotRunningError.
      openPublishGate();
      for (const handle of timerHandles) timers.clearTimeout(handle);
      timerHandles.clear();
      syncTimer = null;
      syncPending = null;
      await inbox.idle();
      await persistState(state, true);
    },

    async publish(input) {
      if (!running) throw new CoordinatorNotRunningError();
      const { messageType, eventType } = input;
      for (const [name, value] of [
        ['messageType', messageType],
        ['eventType', eventType],
      ] as const) {
        if (typeof value !== 'string' || value.length === 0 || value.length > limits.nameCharsMax) {
          throw new InvalidArgumentError(`${name} must be 1..${limits.nameCharsMax} characters`);
        }
      }
      const payload = input.payload ?? null;
      const payloadBytes = encodeValue(payload).byteLength;
      if (payloadBytes > limits.payloadBytesMax) {
        throw new LimitExceededError('payloadBytesMax', limits.payloadBytesMax, payloadBytes);
      }
      if (publishGate !== null) {
        await publishGate.promise;
        if (!running) throw new CoordinatorNotRunningError();
      }
      const frame: MessageFrame = {
        v: WIRE_VERSION,
        kind: 'message',
        from: nodeId,
        cluster,
        clock: clock.tick(),
        incarnation,
        time: timers.now(),
        messageType,
        eventType,
        payload,
      };
      const bytes = encodeFrame(frame);
      if (bytes.byteLength > limits.messageBytesMax) {
        throw new LimitExceededError('messageBytesMax', limits.messageBytesMax, bytes.byteLength);
      }
      // Stored before it is sent: a peer that asks us right after must find it.
      await log.append(frame.clock, nodeId, bytes);
      const message = toMessage(frame);
      emitter.emit('message', { message, source: 'local' });
      network.broadcast(bytes);
      return message;
    },

    members: () => membership.list(),
    self: buildSelf,
    setStatus,

    async *messages(opts = {}) {
      const limit = opts.limit ?? Number.POSITIVE_INFINITY;
      const start = opts.after ? keySuccessor(messageKey(opts.after[0], opts.after[1])) : messagePrefix();
      let yielded = 0;
      for await (const entry of store.scan({ start, end: messageEnd() })) {
        if (yielded >= limit) return;
        const checked = decodeMessage(entry.value, limits);
        if (!checked.ok) continue;
        yielded += 1;
        yield toMessage(checked.value);
      }
    },

    logSummary: () => log.summary(),
    syncWith: (peer) => {
      if (!running) return Promise.reject(new CoordinatorNotRunningError());
      return syncWith(peer);
    },
    stats: () => ({ dropped: { ...dropped }, ...counters }),
  };
  return coordinator;
}
