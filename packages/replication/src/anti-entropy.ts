/**
 * Anti-entropy: this replica compares per-slot digests with each co-owner
 * and, for slots that differ, compares the (key, version hash) lists and
 * merges what differs both ways. A slot is verified for a co-owner only when
 * the digests match (or were made to match by this pass).
 */

import { SLOT_COUNT } from '@tessera/core';
import { equalBytes, toHex } from './bytes.ts';
import type { ReplicatorContext } from './context.ts';
import type { ReplicaOp } from './frames.ts';
import { digestSlotsPerOpMax, opsPerFrameMax, slotEntriesPerPageMax } from './limits.ts';
import { merge, type ReplicaRecord, versionHash } from './record.ts';
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
  /** Co-owners that could not be reached. */
  readonly unreachable: readonly PeerId[];
}

function repairCall(context: ReplicatorContext) {
  return { timeoutMs: context.limits.repairTimeoutMs };
}

/** Slots this replica owns, grouped by co-owner. */
function sharedSlots(context: ReplicatorContext): Map<PeerId, number[]> {
  const byPeer = new Map<PeerId, number[]>();
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const owners = context.ownersOfSlot(slot);
    if (!owners.includes(context.selfId)) continue;
    for (const peer of owners) {
      if (peer === context.selfId) continue;
      const list = byPeer.get(peer) ?? [];
      list.push(slot);
      byPeer.set(peer, list);
    }
  }
  return byPeer;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs one pass with every co-owner, or only `peers`. */
export async function runAntiEntropy(
  context: ReplicatorContext,
  peers?: readonly PeerId[],
): Promise<AntiEntropyReport> {
  const byPeer = sharedSlots(context);
  const allSlots = new Set([...byPeer.values()].flat());
  const localDigests = await context.replicaStore.slotDigests(allSlots);
  let compared = 0;
  let differing = 0;
  let pulled = 0;
  let pushed = 0;
  const unreachable: PeerId[] = [];
  for (const [peer, slots] of byPeer) {
    if (peers && !peers.includes(peer)) continue;
    // A co-owner the membership view has down cannot answer: mark it without waiting for its timeout.
    if (!context.placement.isUp(peer)) {
      unreachable.push(peer);
      for (const slot of slots) context.markUnderReplicated(slot, peer);
      continue;
    }
    try {
      const differ: number[] = [];
      // One frame carries up to opsPerFrameMax digest ops of digestSlotsPerOpMax slots each.
      for (const frameSlots of chunk(slots, digestSlotsPerOpMax * opsPerFrameMax)) {
        const ops = chunk(frameSlots, digestSlotsPerOpMax).map((part) => ({
          op: 'digests' as const,
          slots: part,
        }));
        const results = await context.caller.call(peer, ops, repairCall(context));
        results.forEach((result, i) => {
          if (!result.ok || !('digests' in result)) throw new Error(`digest op refused by ${peer}`);
          const asked = ops[i]!.slots;
          asked.forEach((slot, j) => {
            compared += 1;
            if (equalBytes(result.digests[j]!, localDigests.get(slot)!)) context.markVerified(slot, peer);
            else differ.push(slot);
          });
        });
      }
      differing += differ.length;
      for (const slot of differ) {
        const counts = await repairSlot(context, peer, slot);
        pulled += counts.pulled;
        pushed += counts.pushed;
        context.markVerified(slot, peer);
      }
    } catch {
      unreachable.push(peer);
      for (const slot of slots) context.markUnderReplicated(slot, peer);
    }
  }
  return { compared, differing, pulled, pushed, unreachable };
}

async function remoteEntries(context: ReplicatorContext, peer: PeerId, slot: number) {
  const out = new Map<string, { key: Uint8Array; hash: Uint8Array }>();
  let after: Uint8Array | null = null;
  for (;;) {
    const [result] = await context.caller.call(
      peer,
      [{ op: 'entries', slot, after, limit: slotEntriesPerPageMax }],
      repairCall(context),
    );
    if (!result?.ok || !('entries' in result)) throw new Error(`entries op refused by ${peer}`);
    for (const [key, hash] of result.entries) out.set(toHex(key), { key, hash });
    if (!result.more || result.entries.length === 0) return out;
    after = result.entries[result.entries.length - 1]![0];
  }
}

async function localEntries(context: ReplicatorContext, slot: number) {
  const out = new Map<string, { key: Uint8Array; hash: Uint8Array }>();
  let after: Uint8Array | null = null;
  for (;;) {
    const page = await context.replicaStore.slotEntries(slot, after, slotEntriesPerPageMax);
    for (const entry of page) out.set(toHex(entry.key), { key: entry.key, hash: entry.versionHash });
    if (page.length < slotEntriesPerPageMax) return out;
    after = page[page.length - 1]!.key;
  }
}

/** Merges every key of `slot` that differs between this replica and `peer`, both ways. */
async function repairSlot(context: ReplicatorContext, peer: PeerId, slot: number) {
  const [remote, local] = await Promise.all([
    remoteEntries(context, peer, slot),
    localEntries(context, slot),
  ]);
  const differing: Uint8Array[] = [];
  for (const [id, entry] of remote) {
    const mine = local.get(id);
    if (!mine || !equalBytes(mine.hash, entry.hash)) differing.push(entry.key);
  }
  for (const [id, entry] of local) if (!remote.has(id)) differing.push(entry.key);
  let pulled = 0;
  let pushed = 0;
  for (const keys of chunk(differing, opsPerFrameMax)) {
    const reads = await context.caller.call(
      peer,
      keys.map((key): ReplicaOp => ({ op: 'read', key })),
      repairCall(context),
    );
    const pushes: ReplicaOp[] = [];
    for (const [i, key] of keys.entries()) {
      const result = reads[i]!;
      if (!result.ok || !('record' in result)) throw new Error(`read refused by ${peer}`);
      const theirs = result.record ?? undefined;
      const mine = await context.replicaStore.getRecord(key);
      const merged = merge(mine, theirs);
      if (!merged) continue;
      if (!mine || !equalBytes(versionHash(mine), versionHash(merged))) {
        const applied = await context.replica.execute({ op: 'apply', key, slot, record: merged });
        if (!applied.ok) throw new Error(`local apply failed: ${applied.message}`);
        pulled += 1;
      }
      if (!theirs || !equalBytes(versionHash(theirs), versionHash(merged))) {
        pushes.push({ op: 'apply', key, slot, record: merged as ReplicaRecord });
      }
    }
    if (pushes.length > 0) {
      const results = await context.caller.call(peer, pushes, repairCall(context));
      if (results.some((result) => !result.ok)) throw new Error(`apply refused by ${peer}`);
      pushed += pushes.length;
    }
  }
  return { pulled, pushed };
}
