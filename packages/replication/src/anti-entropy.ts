/**
 * Anti-entropy: this replica compares digests with each co-owner and merges
 * what differs both ways.
 *
 * Which keys a pair shares: a database with replication factor N keeps a key
 * on the first N owners of its slot, so owners at positions i and j share
 * exactly the keys whose N is above max(i, j). A pair is compared over
 * those keys only (`minN` = max(i, j) + 1), so a database with a larger N on
 * the same slot is repaired onto its extra owners, and a smaller one is
 * never pushed to owners that do not hold it.
 *
 * How much moves: a slot whose root digest differs is split by key hash into
 * a 16-way tree (buckets.ts); only differing buckets are descended into, and
 * (key, version hash) entries are exchanged only for differing leaves, at
 * most `slotEntriesPerPageMax` per frame. A differing slot this replica
 * holds none of (wiped, or just gained) has nothing to push or narrow down:
 * its records are pulled whole, `records` pages over the pair's `minN`. A
 * slot is verified for a co-owner only when the digests match or were made
 * to match by this pass.
 */

import { SLOT_COUNT } from '@tessera/core';
import { bucketFanout } from './buckets.ts';
import { equalBytes, toHex } from './bytes.ts';
import { replicationFactorMax } from './consistency.ts';
import type { ReplicatorContext } from './context.ts';
import type { ReplicaOp } from './frames.ts';
import {
  bucketLeafEntriesMax,
  bucketLevelsMax,
  bucketParentsPerOpMax,
  digestSlotsPerOpMax,
  opsPerFrameMax,
  slotEntriesPerPageMax,
} from './limits.ts';
import { merge, versionHash } from './record.ts';
import type { SlotDigest } from './replica-store.ts';
import { pullSlotsWhole, type WholeSlot } from './slot-pull.ts';
import type { PeerId } from './transport.ts';

/** What one anti-entropy pass did. */
export interface AntiEntropyReport {
  /** (slot, co-owner) pairs compared. */
  readonly compared: number;
  /** Pairs whose digests differed. */
  readonly differing: number;
  /** Keys merged into this replica. */
  readonly pulled: number;
  /** Keys pushed to co-owners. */
  readonly pushed: number;
  /** Co-owners that could not be reached (or are down in the membership view). */
  readonly unreachable: readonly PeerId[];
  /** Bucket digests received while descending differing slots' hash trees. */
  readonly buckets: number;
  /** (key, version hash) entries received from co-owners for differing leaves. */
  readonly entries: number;
}

interface Counters {
  pulled: number;
  pushed: number;
  buckets: number;
  entries: number;
}

/** A bucket of one slot's hash tree. */
interface Bucket {
  readonly level: number;
  readonly bucket: number;
}

/** Leaves whose first entries page shares one frame: their limits add up to one page. */
const leafOpsPerFrameMax = Math.max(1, Math.floor(slotEntriesPerPageMax / bucketLeafEntriesMax));
/** Differing slots (or frames of empty ones) repaired at once with one co-owner. */
const repairSlotsInFlightMax = 8;
/** Slots this replica holds none of whose first `records` pages share one frame. */
const wholeSlotsPerFrame = 32;
/** `children` ops per frame (each ≤ bucketParentsPerOpMax parents × 16 children). */
const childrenOpsPerFrameMax = 16;

function repairCall(context: ReplicatorContext) {
  return { timeoutMs: context.limits.repairTimeoutMs };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Slots this replica owns for some N, with their first replicationFactorMax owners. */
interface Owned {
  readonly slots: readonly number[];
  readonly owners: ReadonlyMap<number, readonly PeerId[]>;
}

/** Per context, the owned slots at one placement generation: walking 16384 slots each pass is not free. */
const ownedCache = new WeakMap<ReplicatorContext, { generation: number; owned: Owned }>();

function ownedSlots(context: ReplicatorContext): Owned {
  const generation = context.placement.generation?.();
  const cached = ownedCache.get(context);
  if (generation !== undefined && cached?.generation === generation) return cached.owned;
  const slots: number[] = [];
  const owners = new Map<number, readonly PeerId[]>();
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const first = context.slotOwners(slot).slice(0, replicationFactorMax);
    if (!first.includes(context.selfId)) continue;
    slots.push(slot);
    owners.set(slot, first);
  }
  const owned = { slots, owners };
  if (generation !== undefined) ownedCache.set(context, { generation, owned });
  return owned;
}

/**
 * Per co-owner, per `minN`, the slots to compare. A pair beyond the default
 * N is compared only when this replica holds keys it shares; the co-owner's
 * own pass covers the keys only it holds.
 */
function plan(
  context: ReplicatorContext,
  owned: Owned,
  digests: ReadonlyMap<number, SlotDigest>,
): Map<PeerId, Map<number, number[]>> {
  const byPeer = new Map<PeerId, Map<number, number[]>>();
  for (const slot of owned.slots) {
    const owners = owned.owners.get(slot)!;
    const self = owners.indexOf(context.selfId);
    for (const [position, peer] of owners.entries()) {
      if (peer === context.selfId) continue;
      const minN = Math.max(self, position) + 1;
      if (minN > context.defaultReplicationFactor && digests.get(slot)!.byMinN[minN - 1]!.count === 0)
        continue;
      const byMinN = byPeer.get(peer) ?? new Map<number, number[]>();
      const list = byMinN.get(minN) ?? [];
      list.push(slot);
      byMinN.set(minN, list);
      byPeer.set(peer, byMinN);
    }
  }
  return byPeer;
}

/** Runs one pass with every co-owner, or only `peers`. */
export async function runAntiEntropy(
  context: ReplicatorContext,
  peers?: readonly PeerId[],
): Promise<AntiEntropyReport> {
  const owned = ownedSlots(context);
  const localDigests = await context.replicaStore.slotDigests(new Set(owned.slots));
  const byPeer = plan(context, owned, localDigests);
  const counters: Counters = { pulled: 0, pushed: 0, buckets: 0, entries: 0 };
  let compared = 0;
  let differing = 0;
  const unreachable: PeerId[] = [];
  for (const [peer, byMinN] of byPeer) {
    if (peers && !peers.includes(peer)) continue;
    const peerSlots = [...byMinN.values()].flat();
    // A co-owner the membership view has down cannot answer: mark it without waiting for its timeout.
    if (!context.placement.isUp(peer)) {
      unreachable.push(peer);
      for (const slot of peerSlots) context.markUnderReplicated(slot, peer);
      continue;
    }
    try {
      const differ: { slot: number; minN: number }[] = [];
      const ops = [...byMinN].flatMap(([minN, minNSlots]) =>
        chunk(minNSlots, digestSlotsPerOpMax).map((part) => ({ op: 'digests' as const, slots: part, minN })),
      );
      // Digest ops of every minN share frames, up to opsPerFrameMax ops each.
      for (const frameOps of chunk(ops, opsPerFrameMax)) {
        const results = await context.caller.call(peer, frameOps, repairCall(context));
        results.forEach((result, i) => {
          if (!result.ok || !('digests' in result)) throw new Error(`digest op refused by ${peer}`);
          const { slots: asked, minN } = frameOps[i]!;
          asked.forEach((slot, j) => {
            compared += 1;
            const local = localDigests.get(slot)!.byMinN[minN - 1]!.digest;
            if (equalBytes(result.digests[j]!, local)) context.markVerified(slot, peer);
            else differ.push({ slot, minN });
          });
        });
      }
      differing += differ.length;
      // A slot this replica holds none of (it was wiped, or just gained the slot) has nothing to push
      // and nothing to narrow down: its records are pulled whole, several slots per frame. Judged on
      // digests read now, not at the start of the pass: an earlier co-owner's repair may have filled
      // the slot since, and then its keys must be pushed to this one too (cached, so cheap).
      const now = await context.replicaStore.slotDigests(new Set(differ.map(({ slot }) => slot)));
      const isEmpty = ({ slot, minN }: { slot: number; minN: number }) =>
        now.get(slot)!.byMinN[minN - 1]!.count === 0;
      const empty = differ.filter(isEmpty);
      const holding = differ.filter((d) => !isEmpty(d));
      // A few slots (or frames of empty slots) at once: each is several round trips and a disk sync,
      // mostly waiting. The first failure stops the rest (the peer is then marked unreachable for all
      // of them below).
      const tasks: (() => Promise<void>)[] = [
        ...chunk(empty, wholeSlotsPerFrame).map((part) => async () => {
          await pullWholeSlots(context, peer, part, counters);
          for (const { slot } of part) context.markVerified(slot, peer);
        }),
        ...holding.map(({ slot, minN }) => async () => {
          await repairSlot(context, peer, slot, minN, counters);
          context.markVerified(slot, peer);
        }),
      ];
      let next = 0;
      let failed = false;
      const worker = async () => {
        while (next < tasks.length && !failed) {
          try {
            await tasks[next++]!();
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(repairSlotsInFlightMax, tasks.length) }, worker));
    } catch {
      unreachable.push(peer);
      for (const slot of peerSlots) context.markUnderReplicated(slot, peer);
    }
  }
  return { compared, differing, unreachable, ...counters };
}

/**
 * Pulls every record (of keys whose N is at least the slot's `minN`) of
 * `slots`, which this replica holds none of, from `peer` (`pullSlotsWhole`),
 * merged into this replica as `apply` ops.
 */
async function pullWholeSlots(
  context: ReplicatorContext,
  peer: PeerId,
  slots: readonly WholeSlot[],
  counters: Counters,
): Promise<void> {
  counters.pulled += await pullSlotsWhole(slots, slotEntriesPerPageMax, {
    fetch: async (ops) =>
      (await context.caller.call(peer, ops, repairCall(context))).map((result) => {
        if (!result.ok || !('records' in result)) throw new Error(`records op refused by ${peer}`);
        return result;
      }),
    apply: async (applies) => {
      const failed = (await context.replica.executeMany(applies)).find((result) => !result.ok);
      if (failed !== undefined && !failed.ok) throw new Error(`local apply failed: ${failed.message}`);
    },
  });
}

/** Descends the slot's hash tree from the root (known to differ) and repairs every differing leaf. */
async function repairSlot(
  context: ReplicatorContext,
  peer: PeerId,
  slot: number,
  minN: number,
  counters: Counters,
): Promise<void> {
  const leaves: Bucket[] = [];
  let frontier = [0];
  for (let level = 0; frontier.length > 0; level++) {
    const next: number[] = [];
    const opsOf = chunk(frontier, bucketParentsPerOpMax).map(
      (parents): ReplicaOp => ({ op: 'children', slot, minN, level, parents }),
    );
    for (const ops of chunk(opsOf, childrenOpsPerFrameMax)) {
      const results = await context.caller.call(peer, ops, repairCall(context));
      for (const [i, result] of results.entries()) {
        if (!result.ok || !('children' in result)) throw new Error(`children op refused by ${peer}`);
        counters.buckets += result.children.length;
        const parents = (ops[i] as { parents: readonly number[] }).parents;
        for (const [p, parent] of parents.entries()) {
          const local = await context.replicaStore.childDigests(slot, minN, level, parent);
          for (let c = 0; c < bucketFanout; c++) {
            const [remoteDigest, remoteCount] = result.children[p * bucketFanout + c]!;
            const mine = local[c]!;
            if (equalBytes(remoteDigest, mine.digest)) continue;
            const child = parent * bucketFanout + c;
            // Small on both sides, one side empty (nothing to narrow down), or the bottom: compare entries.
            const isLeaf =
              level + 1 >= bucketLevelsMax ||
              Math.max(remoteCount, mine.count) <= bucketLeafEntriesMax ||
              Math.min(remoteCount, mine.count) === 0;
            if (isLeaf) leaves.push({ level: level + 1, bucket: child });
            else next.push(child);
          }
        }
      }
    }
    frontier = next;
  }
  for (const batch of chunk(leaves, leafOpsPerFrameMax)) {
    await repairLeaves(context, peer, slot, minN, batch, counters);
  }
}

type EntryMap = Map<string, { key: Uint8Array; hash: Uint8Array }>;

/** The co-owner's entries of each leaf: first pages batched in one frame, the rest page by page. */
async function remoteEntries(
  context: ReplicatorContext,
  peer: PeerId,
  slot: number,
  minN: number,
  leaves: readonly Bucket[],
  counters: Counters,
): Promise<EntryMap[]> {
  const page = (leaf: Bucket, after: Uint8Array | null, limit: number): ReplicaOp => ({
    op: 'entries',
    slot,
    minN,
    level: leaf.level,
    bucket: leaf.bucket,
    after,
    limit,
  });
  const out = leaves.map((): EntryMap => new Map());
  const firsts = await context.caller.call(
    peer,
    leaves.map((leaf) => page(leaf, null, bucketLeafEntriesMax)),
    repairCall(context),
  );
  for (const [i, leaf] of leaves.entries()) {
    let result = firsts[i]!;
    for (;;) {
      if (!result.ok || !('entries' in result)) throw new Error(`entries op refused by ${peer}`);
      counters.entries += result.entries.length;
      for (const [key, hash] of result.entries) out[i]!.set(toHex(key), { key, hash });
      if (!result.more || result.entries.length === 0) break;
      const after = result.entries[result.entries.length - 1]![0];
      const more = await context.caller.call(
        peer,
        [page(leaf, after, slotEntriesPerPageMax)],
        repairCall(context),
      );
      result = more[0]!;
    }
  }
  return out;
}

async function localEntries(context: ReplicatorContext, slot: number, minN: number, leaf: Bucket) {
  const out: EntryMap = new Map();
  let after: Uint8Array | null = null;
  for (;;) {
    const page = await context.replicaStore.bucketEntries(
      slot,
      minN,
      leaf.level,
      leaf.bucket,
      after,
      slotEntriesPerPageMax,
    );
    for (const entry of page) out.set(toHex(entry.key), { key: entry.key, hash: entry.versionHash });
    if (page.length < slotEntriesPerPageMax) return out;
    after = page[page.length - 1]!.key;
  }
}

/** Merges every key of the leaves that differs between this replica and `peer`, both ways. */
async function repairLeaves(
  context: ReplicatorContext,
  peer: PeerId,
  slot: number,
  minN: number,
  leaves: readonly Bucket[],
  counters: Counters,
): Promise<void> {
  const remote = await remoteEntries(context, peer, slot, minN, leaves, counters);
  const differing: Uint8Array[] = [];
  for (const [i, leaf] of leaves.entries()) {
    const local = await localEntries(context, slot, minN, leaf);
    for (const [id, entry] of remote[i]!) {
      const mine = local.get(id);
      if (!mine || !equalBytes(mine.hash, entry.hash)) differing.push(entry.key);
    }
    for (const [id, entry] of local) if (!remote[i]!.has(id)) differing.push(entry.key);
  }
  for (const keys of chunk(differing, opsPerFrameMax)) {
    const reads = await context.caller.call(
      peer,
      keys.map((key): ReplicaOp => ({ op: 'read', key })),
      repairCall(context),
    );
    const mines = await Promise.all(keys.map((key) => context.replicaStore.getRecord(key)));
    const applies: ReplicaOp[] = [];
    const pushes: ReplicaOp[] = [];
    for (const [i, key] of keys.entries()) {
      const result = reads[i]!;
      if (!result.ok || !('record' in result)) throw new Error(`read refused by ${peer}`);
      const theirs = result.record ?? undefined;
      const mine = mines[i] ?? undefined;
      const merged = merge(mine, theirs);
      if (!merged) continue;
      if (!mine || !equalBytes(versionHash(mine), versionHash(merged))) {
        applies.push({ op: 'apply', key, slot, record: merged });
      }
      if (!theirs || !equalBytes(versionHash(theirs), versionHash(merged))) {
        pushes.push({ op: 'apply', key, slot, record: merged });
      }
    }
    // Applied together, so the store writes them in one durable batch (one after another, a wiped
    // replica being rebuilt paid one disk sync per key).
    if (applies.length > 0) {
      const applied = await context.replica.executeMany(applies);
      const failed = applied.find((result) => !result.ok);
      if (failed !== undefined && !failed.ok) throw new Error(`local apply failed: ${failed.message}`);
      counters.pulled += applies.length;
    }
    if (pushes.length > 0) {
      const results = await context.caller.call(peer, pushes, repairCall(context));
      if (results.some((result) => !result.ok)) throw new Error(`apply refused by ${peer}`);
      counters.pushed += pushes.length;
    }
  }
}
