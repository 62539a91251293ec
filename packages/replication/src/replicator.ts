/**
 * The Replicator: one per peer. Coordinates quorum writes and reads for any
 * key from any peer, serves replication frames for the keys this peer owns,
 * and runs the repair machinery (hints, anti-entropy, tombstone reaping).
 */
import type { Random, Timers } from '@tessera/coordinator';
import {
  InvalidArgumentError,
  joinContext,
  keySlot,
  LamportClock,
  LimitExceededError,
  parseVersionVector,
  REPLICA_ID_LENGTH_MAX,
  SLOT_COUNT,
  TesseraError,
  type VersionVector,
} from '@tessera/core';
import type { Store } from '@tessera/storage';
import { type AntiEntropyReport, runAntiEntropy } from './anti-entropy.ts';
import { equalBytes } from './bytes.ts';
import {
  type Consistency,
  checkDatabaseReplication,
  type DatabaseReplication,
  requiredCount,
} from './consistency.ts';
import type { ReplicatorContext } from './context.ts';
import { IdempotencyKeyConflictError, QuorumNotReachedError, ReplicatorClosedError } from './errors.ts';
import type { ApplyOp, IdempotentResult, OpResult, ReplicaOp } from './frames.ts';
import { type HintReplayReport, replayHints, storeHint } from './hints.ts';
import { defaultReplicatorLimits, idempotencyKeyLengthMax, type ReplicatorLimits } from './limits.ts';
import { createPeerCaller, type PeerCaller } from './peer-call.ts';
import type { Placement } from './placement.ts';
import { type ReapReport, reapTombstones } from './reaper.ts';
import { type ReclaimReport, reclaimUnowned, type UnownedSince } from './reclaim.ts';
import { losersOf, merge, type ReplicaRecord, type Sibling, versionHash, winnerOf } from './record.ts';
import { checkIdempotencyKey, checkRecordInput, type RecordLimits, recordLimitsOf } from './record-limits.ts';
import { contentHash, ReplicaService } from './replica.ts';
import { type Derive, type RecordChange, ReplicaStore } from './replica-store.ts';
import { type ScanRequest, type ScanResult, scanRequestProblem, scanSlots } from './scan.ts';
import type { PeerId, ReplicaTransport } from './transport.ts';

/** A version's total-order stamp: the minting owner's Lamport clock, then its actor id. */
export interface Version {
  readonly clock: number;
  readonly node: string;
}

/** What an acknowledged write returns. */
export interface WriteResult {
  /** The version this write created (or, for a duplicate, the one the original created). */
  readonly version: Version;
  /** Owners that had the write durably when the call resolved (≥ required). */
  readonly acknowledged: number;
  /** W. */
  readonly required: number;
  /** True when this call was a retry of an idempotency key already written: nothing new was written. */
  readonly isDuplicate: boolean;
}

/** One concurrent version seen by a read. */
export interface SiblingView {
  readonly deleted: boolean;
  readonly value?: Uint8Array;
  readonly version: Version;
}

/** What a read returns. */
export interface ReadResult {
  /** True when the winning version is a value (not a tombstone, not absent). */
  readonly found: boolean;
  readonly value?: Uint8Array;
  /** The winning version, absent when no owner had the key. */
  readonly version?: Version;
  /** The losing concurrent versions, highest first (tombstones included). */
  readonly siblings: readonly SiblingView[];
  /** The causal context; pass it to `put` to replace exactly what this read saw. */
  readonly context: VersionVector;
  /** Owners that answered (≥ required). */
  readonly answered: number;
  /** R. */
  readonly required: number;
}

export interface WriteOptions {
  readonly consistency?: Consistency;
  /** Makes a retry a no-op returning the original result (scoped to this key). */
  readonly idempotencyKey?: string;
  /** The context of a previous read; default: everything the coordinating owner has seen. */
  readonly context?: VersionVector;
  /** The bytes the slot is computed from; default: the Replicator's `routingKeyOf(key)`. */
  readonly routingKey?: string | Uint8Array;
}

export interface ReadOptions {
  readonly consistency?: Consistency;
  readonly routingKey?: string | Uint8Array;
}

export interface ReplicatorOptions {
  readonly transport: ReplicaTransport;
  readonly placement: Placement;
  /** This peer's local store (records, hints, idempotency records). */
  readonly store: Store;
  readonly timers: Timers;
  /** Used only to pick an incarnation when none is given. */
  readonly random?: Random;
  /** Distinguishes this run of the peer in version dots; default: random. */
  readonly incarnation?: string;
  /** Default replication settings (N = 3, quorum). */
  readonly replication?: DatabaseReplication;
  /** Per-database settings for a key (from D records, once they land); undefined means the default. */
  readonly databaseReplication?: (key: Uint8Array) => DatabaseReplication | undefined;
  /** The routing bytes of a record key; default: the key bytes themselves. */
  readonly routingKeyOf?: (key: Uint8Array) => string | Uint8Array;
  readonly limits?: Partial<ReplicatorLimits>;
  readonly clock?: LamportClock;
  /**
   * Entries every replica stores beside each record, in the same durable
   * batch, replacing those of the record it supersedes (e.g. secondary-index
   * entries from the winning sibling). Must be a deterministic function of
   * the key and record; read them back with `scan({ mode: 'derived' })`.
   */
  readonly derive?: Derive;
}

/** Counts of slots some co-owner may be missing data for. */
export interface UnderReplication {
  readonly count: number;
  readonly slots: readonly number[];
}

function versionOf(sibling: Sibling): Version {
  return { clock: sibling.stamp.clock, node: sibling.stamp.node };
}

export class Replicator {
  readonly selfId: PeerId;
  readonly #placement: Placement;
  readonly #replicaStore: ReplicaStore;
  readonly #replica: ReplicaService;
  readonly #caller: PeerCaller;
  readonly #timers: Timers;
  readonly #limits: ReplicatorLimits;
  readonly #replication: DatabaseReplication;
  readonly #databaseReplication: ((key: Uint8Array) => DatabaseReplication | undefined) | undefined;
  readonly #routingKeyOf: (key: Uint8Array) => string | Uint8Array;
  readonly #underReplicated = new Map<number, Set<PeerId>>();
  readonly #unownedSince: UnownedSince = new Map();
  readonly #background = new Set<Promise<unknown>>();
  /** Fan-out sends to other owners in flight (see `ReplicatorLimits.fanOutInFlightMax`). */
  #fanOutInFlight = 0;
  /** Writes waiting for the fan-out to drain. */
  #fanOutWaiters: (() => void)[] = [];
  readonly #context: ReplicatorContext;
  /** The actor id this replica mints versions as. */
  readonly actor: string;
  readonly clock: LamportClock;
  /**
   * Largest key and value `put` accepts: the local store's limits minus the
   * replication wrapper (record envelope, version context, slot index, hint).
   * Owners are expected to run stores with the same limits.
   */
  readonly limits: RecordLimits;
  readonly #storeKeyBytesMax: number;
  #closed = false;

  /** Opens a Replicator: counts stored hints and registers the frame handler. */
  static async open(options: ReplicatorOptions): Promise<Replicator> {
    const replicator = new Replicator(options);
    await replicator.#replicaStore.open();
    options.transport.handle((frame, from) => replicator.#replica.handleFrame(frame, from));
    return replicator;
  }

  private constructor(options: ReplicatorOptions) {
    this.selfId = options.transport.selfId;
    this.#placement = options.placement;
    this.#timers = options.timers;
    this.#limits = { ...defaultReplicatorLimits, ...options.limits };
    this.#replication = options.replication ?? { replicationFactor: 3, consistency: 'quorum' };
    checkDatabaseReplication(this.#replication);
    this.#databaseReplication = options.databaseReplication;
    this.#routingKeyOf = options.routingKeyOf ?? ((key) => key);
    this.clock = options.clock ?? new LamportClock(0, { clockJumpMax: this.#limits.clockJumpMax });
    const random = options.random?.next() ?? Math.random();
    const incarnation = options.incarnation ?? Math.floor(random * 2 ** 32).toString(36);
    this.actor = `${this.selfId}~${incarnation}`;
    if (this.actor.length > REPLICA_ID_LENGTH_MAX) {
      throw new InvalidArgumentError(
        `peer id plus incarnation must be at most ${REPLICA_ID_LENGTH_MAX} chars`,
      );
    }
    this.limits = recordLimitsOf(options.store.limits);
    this.#storeKeyBytesMax = options.store.limits.keyBytesMax;
    this.#replicaStore = new ReplicaStore(
      options.store,
      (key) => this.#replicationFactorOf(key),
      options.derive,
    );
    this.#replica = new ReplicaService({
      slotOf: (key) => this.#slotOf(key, undefined),
      store: this.#replicaStore,
      actor: this.actor,
      clock: this.clock,
      now: () => this.#timers.now(),
      idempotencyTtlMs: this.#limits.idempotencyTtlMs,
    });
    this.#caller = createPeerCaller(
      options.transport,
      this.#replica,
      this.clock,
      () => this.#limits.requestTimeoutMs,
    );
    this.#context = {
      selfId: this.selfId,
      caller: this.#caller,
      placement: this.#placement,
      replicaStore: this.#replicaStore,
      replica: this.#replica,
      limits: this.#limits,
      now: () => this.#timers.now(),
      ownersOfKey: (key, slot) => this.#ownersOf(key, slot).owners,
      slotOwners: (slot) => this.#placement.lookup(slot).owners,
      defaultReplicationFactor: this.#replication.replicationFactor,
      markUnderReplicated: (slot, peer) => {
        const peers = this.#underReplicated.get(slot) ?? new Set();
        peers.add(peer);
        this.#underReplicated.set(slot, peers);
      },
      markVerified: (slot, peer) => {
        const peers = this.#underReplicated.get(slot);
        peers?.delete(peer);
        if (peers?.size === 0) this.#underReplicated.delete(slot);
      },
    };
  }

  #settings(key: Uint8Array): DatabaseReplication {
    const settings = this.#databaseReplication?.(key) ?? this.#replication;
    checkDatabaseReplication(settings);
    return settings;
  }

  /** The replication settings (N, default consistency) that apply to `key`. */
  replicationOf(key: Uint8Array): DatabaseReplication {
    return this.#settings(key);
  }

  /** N of the key's database for digests; a key the settings callback refuses counts under the default. */
  #replicationFactorOf(key: Uint8Array): number {
    try {
      return this.#settings(key).replicationFactor;
    } catch {
      return this.#replication.replicationFactor;
    }
  }

  #ownersOf(key: Uint8Array, slot: number): { owners: readonly PeerId[]; settings: DatabaseReplication } {
    const settings = this.#settings(key);
    return { owners: this.#placement.lookup(slot).owners.slice(0, settings.replicationFactor), settings };
  }

  #slotOf(key: Uint8Array, routingKey: string | Uint8Array | undefined): number {
    return keySlot(routingKey ?? this.#routingKeyOf(key));
  }

  #checkKey(key: Uint8Array): void {
    if (this.#closed) throw new ReplicatorClosedError();
    if (!(key instanceof Uint8Array) || key.length === 0)
      throw new InvalidArgumentError('key must be non-empty bytes');
    checkRecordInput(this.limits, key, null);
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#background.add(promise);
    void promise.then(
      () => this.#background.delete(promise),
      () => this.#background.delete(promise),
    );
    return promise;
  }

  /** Writes `value` under `key`; resolves once W owners hold it durably. */
  async put(key: Uint8Array, value: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    this.#checkKey(key);
    if (!(value instanceof Uint8Array)) throw new InvalidArgumentError('value must be bytes');
    checkRecordInput(this.limits, key, value);
    return this.#write(key, value, options);
  }

  /** Deletes `key` by writing a tombstone; resolves once W owners hold the tombstone durably. */
  async delete(key: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    this.#checkKey(key);
    return this.#write(key, null, options);
  }

  /** Record sends to other owners in flight from this peer's writes. */
  get fanOutInFlight(): number {
    return this.#fanOutInFlight;
  }

  /** Resolves at once below `fanOutInFlightMax`, else once half of the fan-out has drained. */
  #fanOutRoom(): Promise<void> | undefined {
    if (this.#fanOutInFlight < this.#limits.fanOutInFlightMax) return undefined;
    return new Promise((resolve) => this.#fanOutWaiters.push(resolve));
  }

  #fanOutSettled(): void {
    this.#fanOutInFlight -= 1;
    if (this.#fanOutWaiters.length > 0 && this.#fanOutInFlight <= this.#limits.fanOutInFlightMax / 2) {
      const waiters = this.#fanOutWaiters;
      this.#fanOutWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  async #write(key: Uint8Array, value: Uint8Array | null, options: WriteOptions): Promise<WriteResult> {
    const ik = options.idempotencyKey ?? null;
    if (ik !== null && (typeof ik !== 'string' || ik.length === 0 || ik.length > idempotencyKeyLengthMax)) {
      throw new InvalidArgumentError(`idempotencyKey must be a string of 1..${idempotencyKeyLengthMax}`);
    }
    if (ik !== null) checkIdempotencyKey(this.#storeKeyBytesMax, key, ik);
    const context = options.context === undefined ? null : checkContext(options.context);
    const room = this.#fanOutRoom();
    if (room) await room;
    if (this.#closed) throw new ReplicatorClosedError();
    const slot = this.#slotOf(key, options.routingKey);
    const { owners, settings } = this.#ownersOf(key, slot);
    const required = requiredCount(
      options.consistency ?? settings.consistency,
      settings.replicationFactor,
      'write',
    );
    if (owners.length < required) {
      throw new QuorumNotReachedError(required, 0, `the slot has only ${owners.length} owners`);
    }
    // The coordinating owner mints the version: this peer when it is an up owner, else the first up owner.
    const up = owners.filter((peer) => peer === this.selfId || this.#placement.isUp(peer));
    const mintOrder = [
      ...up.filter((peer) => peer === this.selfId),
      ...up.filter((peer) => peer !== this.selfId),
    ];
    const mintOp: ReplicaOp = {
      op: 'mint',
      key,
      slot,
      deleted: value === null,
      value,
      context,
      idempotencyKey: ik,
    };
    let minted:
      | { minter: PeerId; record: ReplicaRecord; acknowledged: PeerId[]; minterHolds: boolean }
      | undefined;
    const othersOf = (minter: PeerId) => owners.filter((peer) => peer !== minter);
    // An owner whose merge outgrew its store: the write can never reach quorum there, retried or not.
    let refusal: LimitExceededError | undefined;
    const onRefused = (error: LimitExceededError) => {
      refusal ??= error;
    };
    for (const peer of mintOrder) {
      let result: Awaited<ReturnType<PeerCaller['call']>>[number] | undefined;
      // Minting here: the other owners get the record while this replica's own write is in flight.
      let fanOut: Promise<PeerId[]> | undefined;
      let early: ReplicaRecord | undefined;
      try {
        if (peer === this.selfId) {
          result = await this.#replica.execute(mintOp, (record) => {
            early = record;
            fanOut = this.#fanOut(key, slot, record, othersOf(peer), required - 1, onRefused);
          });
        } else {
          [result] = await this.#caller.call(peer, [mintOp]);
        }
      } catch {
        continue;
      }
      if (fanOut && early && !(result?.ok && 'record' in result && result.record)) {
        // The record went out but this replica could not keep it: only the others can acknowledge.
        minted = { minter: peer, record: early, acknowledged: await fanOut, minterHolds: false };
        break;
      }
      if (!result) continue;
      if (!result.ok) {
        if (result.code === 'ERR_IDEMPOTENCY_KEY_CONFLICT') throw new IdempotencyKeyConflictError(ik ?? '');
        // The merged record outgrew the owner's store: retrying elsewhere or later cannot help.
        if (result.code === 'ERR_LIMIT_EXCEEDED') throw limitErrorOf(result.message);
        continue;
      }
      if ('duplicate' in result && result.duplicate) return this.#duplicateResult(result.duplicate);
      if ('record' in result && result.record) {
        const acknowledged = await (fanOut ??
          this.#fanOut(key, slot, result.record, othersOf(peer), required - 1, onRefused));
        minted = { minter: peer, record: result.record, acknowledged, minterHolds: true };
        break;
      }
    }
    if (!minted) throw new QuorumNotReachedError(required, 0, 'no owner could coordinate the write');
    const { minter, record, acknowledged, minterHolds } = minted;
    const holders = minterHolds ? [minter, ...acknowledged] : acknowledged;
    const total = holders.length;
    if (total < required) throw refusal ?? new QuorumNotReachedError(required, total);
    const version = versionOf(winnerOf(record));
    if (ik !== null) {
      const remembered: IdempotentResult = {
        contentHash: contentHash(value === null, value),
        actor: version.node,
        counter: version.clock,
        acknowledged: total,
        required,
      };
      const op: ReplicaOp = { op: 'remember', key, idempotencyKey: ik, result: remembered };
      await Promise.allSettled(holders.map((peer) => this.#caller.call(peer, [op])));
    }
    return { version, acknowledged: total, required, isDuplicate: false };
  }

  #duplicateResult(duplicate: IdempotentResult): WriteResult {
    return {
      version: { clock: duplicate.counter, node: duplicate.actor },
      acknowledged: duplicate.acknowledged,
      required: duplicate.required,
      isDuplicate: true,
    };
  }

  /**
   * Sends the record to `peers` in parallel and resolves with the peers that
   * acknowledged as soon as `needed` did, or when all have answered. Owners
   * that are down or fail get a durable hint (in the background once the
   * quorum is in).
   */
  #fanOut(
    key: Uint8Array,
    slot: number,
    record: ReplicaRecord,
    peers: readonly PeerId[],
    needed: number,
    onRefused: (error: LimitExceededError) => void,
  ) {
    return new Promise<PeerId[]>((resolve) => {
      const acked: PeerId[] = [];
      let settled = 0;
      let resolved = false;
      const finish = () => {
        if (!resolved && (acked.length >= needed || settled === peers.length)) {
          resolved = true;
          resolve([...acked]);
        }
      };
      finish();
      for (const peer of peers) {
        this.#fanOutInFlight += 1;
        const attempt = async () => {
          if (this.#placement.isUp(peer)) {
            try {
              const [result] = await this.#caller.call(peer, [{ op: 'apply', key, slot, record }]);
              if (result?.ok) {
                acked.push(peer);
                return;
              }
              if (result?.code === 'ERR_LIMIT_EXCEEDED') {
                // A hint would be refused the same way; anti-entropy meets the same bound.
                onRefused(limitErrorOf(result.message));
                this.#context.markUnderReplicated(slot, peer);
                return;
              }
            } catch {
              // Not acknowledged: fall through to the hint.
            }
          }
          try {
            await storeHint(this.#context, peer, key, slot, record);
          } catch {
            this.#context.markUnderReplicated(slot, peer);
          }
        };
        void this.#track(
          attempt().finally(() => {
            this.#fanOutSettled();
            settled += 1;
            finish();
          }),
        );
      }
    });
  }

  /** Reads `key` from R owners, returns the newest version and repairs answering owners that were behind. */
  async get(key: Uint8Array, options: ReadOptions = {}): Promise<ReadResult> {
    this.#checkKey(key);
    const slot = this.#slotOf(key, options.routingKey);
    const { owners, settings } = this.#ownersOf(key, slot);
    const required = requiredCount(
      options.consistency ?? settings.consistency,
      settings.replicationFactor,
      'read',
    );
    // This peer first (no network), then the up owners in placement order, then the ones believed down.
    const isUp = (peer: PeerId) => peer === this.selfId || this.#placement.isUp(peer);
    const order = [
      ...owners.filter((peer) => peer === this.selfId),
      ...owners.filter((peer) => peer !== this.selfId && isUp(peer)),
      ...owners.filter((peer) => !isUp(peer)),
    ];
    const replies = await this.#gatherReads(key, slot, order, required);
    if (replies.length < required) throw new QuorumNotReachedError(required, replies.length);
    let merged: ReplicaRecord | undefined;
    for (const reply of replies) merged = merge(merged, reply.record);
    if (merged) await this.#readRepair(key, slot, merged, replies);
    return this.#readResult(merged, replies.length, required);
  }

  /**
   * Asks the first `required` owners of `order`; each failure, and each
   * `readHedgeMs` without enough replies, asks the next one. Resolves with
   * the first `required` replies (or all there are once every owner was
   * asked and answered or failed). Late replies are repaired in the background.
   */
  #gatherReads(key: Uint8Array, slot: number, order: readonly PeerId[], required: number) {
    type Reply = { peer: PeerId; record: ReplicaRecord | undefined };
    return new Promise<Reply[]>((resolve) => {
      const replies: Reply[] = [];
      let asked = 0;
      let settled = 0;
      let resolved = false;
      let hedge: ReturnType<Timers['setTimeout']> | undefined;
      let winnerAtResolve: ReplicaRecord | undefined;
      const finish = () => {
        if (!resolved && (replies.length >= required || settled === order.length)) {
          resolved = true;
          if (hedge !== undefined) this.#timers.clearTimeout(hedge);
          for (const reply of replies) winnerAtResolve = merge(winnerAtResolve, reply.record);
          resolve([...replies]);
        }
      };
      const armHedge = () => {
        if (hedge !== undefined) this.#timers.clearTimeout(hedge);
        hedge = undefined;
        if (resolved || asked >= order.length) return;
        hedge = this.#timers.setTimeout(() => {
          hedge = undefined;
          if (resolved) return;
          ask();
          armHedge();
        }, this.#limits.readHedgeMs);
      };
      const ask = () => {
        if (asked >= order.length) return;
        const peer = order[asked]!;
        asked += 1;
        const attempt = async (): Promise<boolean> => {
          try {
            const [result] = await this.#caller.call(peer, [{ op: 'read', key }]);
            if (!result?.ok || !('record' in result)) return false;
            const reply = { peer, record: result.record ?? undefined };
            if (resolved) {
              // Late reply: repair it in the background if it is behind what the read returned.
              if (winnerAtResolve) await this.#readRepair(key, slot, winnerAtResolve, [reply]);
              return true;
            }
            replies.push(reply);
            return true;
          } catch {
            return false;
          }
        };
        void this.#track(
          attempt().then((answered) => {
            settled += 1;
            if (!answered && !resolved) ask();
            finish();
          }),
        );
      };
      if (order.length === 0) finish();
      for (let i = 0; i < required; i++) ask();
      armHedge();
    });
  }

  /** Sends `merged` to every replier whose record differs; waits for them (failures are left to other repair). */
  async #readRepair(
    key: Uint8Array,
    slot: number,
    merged: ReplicaRecord,
    replies: readonly { peer: PeerId; record: ReplicaRecord | undefined }[],
  ) {
    const hash = versionHash(merged);
    const behind = replies.filter((reply) => !reply.record || !equalBytes(versionHash(reply.record), hash));
    await Promise.allSettled(
      behind.map((reply) => this.#caller.call(reply.peer, [{ op: 'apply', key, slot, record: merged }])),
    );
  }

  #readResult(merged: ReplicaRecord | undefined, answered: number, required: number): ReadResult {
    if (!merged) return { found: false, siblings: [], context: {}, answered, required };
    const winner = winnerOf(merged);
    const siblings = losersOf(merged).map((sibling) => ({
      deleted: sibling.value.bytes === null,
      ...(sibling.value.bytes === null ? {} : { value: sibling.value.bytes }),
      version: versionOf(sibling),
    }));
    return {
      found: winner.value.bytes !== null,
      ...(winner.value.bytes === null ? {} : { value: winner.value.bytes }),
      version: versionOf(winner),
      siblings,
      context: joinContext(merged),
      answered,
      required,
    };
  }

  /**
   * One page of a key-range scan over every slot, each slot read from one
   * of its owners (this peer first, then up owners; a failing owner's slots
   * move to the next owner), merged in key order. Consistency is ONE per
   * slot: an owner that missed a write returns what it has.
   */
  scan(request: ScanRequest): Promise<ScanResult> {
    if (this.#closed) return Promise.reject(new ReplicatorClosedError());
    const problem = scanRequestProblem(request);
    if (problem) return Promise.reject(new InvalidArgumentError(problem));
    return scanSlots(this.#context, request);
  }

  /** Replays stored hints to owners that are back up. */
  replayHints(): Promise<HintReplayReport> {
    return runGuarded(this, () => replayHints(this.#context));
  }

  /** Compares per-slot digests with co-owners (all, or `peers`) and repairs what differs. */
  antiEntropy(peers?: readonly PeerId[]): Promise<AntiEntropyReport> {
    return runGuarded(this, () => {
      this.#pruneUnderReplicated();
      return runAntiEntropy(this.#context, peers);
    });
  }

  /**
   * Hands the records of slots this peer has not owned for `afterMs`
   * (default `reclaimAfterMs`)
   * to their current owners and drops them here once a majority of each
   * key's owners acknowledged (see reclaim.ts). Skips slots a change in
   * flight is giving this peer, and does nothing for slots without owners
   * (no slot map yet).
   */
  reclaimUnowned(options: { readonly afterMs?: number } = {}): Promise<ReclaimReport> {
    const afterMs = options.afterMs ?? this.#limits.reclaimAfterMs;
    if (!Number.isFinite(afterMs) || afterMs < 0) throw new InvalidArgumentError('afterMs must be >= 0');
    return runGuarded(this, () => reclaimUnowned(this.#context, this.#unownedSince, SLOT_COUNT, afterMs));
  }

  /** Removes tombstones every owner holds and that are older than `tombstoneGraceMs`. */
  reapTombstones(): Promise<ReapReport> {
    return runGuarded(this, () => reapTombstones(this.#context));
  }

  /** Slots where some co-owner may be missing data (hinted, failed, unreachable or not yet verified). */
  underReplicatedSlots(): UnderReplication {
    this.#pruneUnderReplicated();
    const slots = [...this.#underReplicated.keys()].sort((a, b) => a - b);
    return { count: slots.length, slots };
  }

  /**
   * Forgets marks the slot map made moot: slots this peer no longer owns and
   * peers that no longer own the slot. Anti-entropy verifies only current
   * co-owners of owned slots, so such a mark (say, from a pass run while a
   * restarted peer was still folding older maps) would never clear.
   */
  #pruneUnderReplicated(): void {
    for (const [slot, peers] of this.#underReplicated) {
      const owners = this.#placement.lookup(slot).owners;
      if (!owners.includes(this.selfId)) {
        this.#underReplicated.delete(slot);
        continue;
      }
      for (const peer of peers) if (!owners.includes(peer)) peers.delete(peer);
      if (peers.size === 0) this.#underReplicated.delete(slot);
    }
  }

  /** Forgets cached slot digests; call after the store was changed behind the Replicator (wiped, restored). */
  forgetDigests(): void {
    this.#replicaStore.forgetDigests();
  }

  /**
   * Calls `listener` after this replica durably stores a record whose
   * winning version changed (see `ReplicaStore.watchRecords`): every owner
   * sees each change once it holds it, whichever peer coordinated the write.
   * A peer that owns no slot stores no records and sees nothing.
   */
  watch(listener: (change: RecordChange) => void): () => void {
    return this.#replicaStore.watchRecords(listener);
  }

  /**
   * Merges records into this replica exactly as a peer's `apply` ops do (the
   * same checks, per-key order and durable batch), without a frame: how a
   * slot copy stores the records it pulled. Resolves with one result per op.
   */
  applyLocal(ops: readonly ApplyOp[]): Promise<OpResult[]> {
    return runGuarded(this, () => this.#replica.executeMany(ops));
  }

  /** Hints stored on this peer and not yet delivered. */
  get hintCount(): number {
    return this.#replicaStore.hintCount;
  }

  /** Waits for background work (late fan-out, hints, read repair) to settle. */
  async settle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /** Stops accepting operations and waits for background work. Does not close the store. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.settle();
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/** A caller's context (from a read), checked and copied; `InvalidArgumentError` when it is not one. */
function checkContext(context: unknown): VersionVector {
  try {
    return parseVersionVector(context);
  } catch (error) {
    if (error instanceof TesseraError) {
      throw new InvalidArgumentError(`context must be a read's context: ${error.message}`);
    }
    throw error;
  }
}

function runGuarded<T>(replicator: Replicator, task: () => Promise<T>): Promise<T> {
  if (replicator.closed) return Promise.reject(new ReplicatorClosedError());
  return task();
}

/** Rebuilds a remote owner's `LimitExceededError` from its message (`<limit> exceeded: <actual> > <max>`). */
function limitErrorOf(message: string): LimitExceededError {
  const match = /^(\w+) exceeded: (\d+) > (\d+)$/.exec(message);
  if (!match) return new LimitExceededError('valueBytesMax', 0, 0);
  return new LimitExceededError(match[1]!, Number(match[3]), Number(match[2]));
}
