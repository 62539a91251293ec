/**
 * Hinted handoff: a write an owner did not acknowledge (down or timed out)
 * is kept here durably as a hint and merged into that owner once it is up.
 * Hints are bounded (`hintsMax`) and expire (`hintTtlMs`); whatever a
 * dropped or expired hint carried is left to anti-entropy, and its slot is
 * marked under-replicated until anti-entropy verifies it.
 */
import type { ReplicatorContext } from './context.ts';
import type { ApplyOp } from './frames.ts';
import { frameBytesMax, opsPerFrameMax } from './limits.ts';
import type { ReplicaRecord } from './record.ts';
import type { PeerId } from './transport.ts';

/** Stores a hint for `target`; false when the hint store is full (the slot is then marked under-replicated). */
export async function storeHint(
  context: ReplicatorContext,
  target: PeerId,
  key: Uint8Array,
  slot: number,
  record: ReplicaRecord,
): Promise<boolean> {
  context.markUnderReplicated(slot, target);
  return context.replicaStore.addHint(target, key, slot, record, context.now(), context.limits.hintsMax);
}

/** What one replay pass did. */
export interface HintReplayReport {
  readonly delivered: number;
  readonly expired: number;
  readonly remaining: number;
}

function recordBytes(record: ReplicaRecord): number {
  let bytes = 64;
  for (const sibling of record) bytes += 64 + (sibling.value.bytes?.length ?? 0);
  return bytes;
}

/** Replays stored hints to targets the placement says are up; drops expired ones. */
export async function replayHints(context: ReplicatorContext): Promise<HintReplayReport> {
  const { replicaStore, caller, placement, limits } = context;
  const now = context.now();
  const expired: Uint8Array[] = [];
  const byTarget = new Map<PeerId, { storeKey: Uint8Array; op: ApplyOp }[]>();
  for await (const hint of replicaStore.hints()) {
    if (now - hint.createdMs > limits.hintTtlMs) {
      expired.push(hint.storeKey);
      context.markUnderReplicated(hint.slot, hint.target);
      continue;
    }
    const list = byTarget.get(hint.target) ?? [];
    list.push({
      storeKey: hint.storeKey,
      op: { op: 'apply', key: hint.key, slot: hint.slot, record: hint.record },
    });
    byTarget.set(hint.target, list);
  }
  await replicaStore.deleteHints(expired);
  let delivered = 0;
  for (const [target, hints] of byTarget) {
    if (!placement.isUp(target)) continue;
    const deliveredSlots = new Set<number>();
    const pendingSlots = new Set<number>();
    // Slots where this peer itself owns a hinted key: anti-entropy, not the hint, verifies those.
    const ownedSlots = new Set<number>();
    for (const hint of hints) {
      if (context.ownersOfKey(hint.op.key, hint.op.slot).includes(context.selfId))
        ownedSlots.add(hint.op.slot);
    }
    // Batches bounded by op count and, roughly, by frame bytes.
    let batch: typeof hints = [];
    let batchBytes = 0;
    const flush = async (): Promise<boolean> => {
      if (batch.length === 0) return true;
      const sent = batch;
      batch = [];
      batchBytes = 0;
      try {
        const results = await caller.call(
          target,
          sent.map((hint) => hint.op),
          { timeoutMs: limits.repairTimeoutMs },
        );
        const deliveredHints = sent.filter((_, i) => results[i]!.ok);
        const done = deliveredHints.map((hint) => hint.storeKey);
        await replicaStore.deleteHints(done);
        for (const hint of deliveredHints) deliveredSlots.add(hint.op.slot);
        for (const hint of sent.filter((_, i) => !results[i]!.ok)) pendingSlots.add(hint.op.slot);
        delivered += done.length;
        return done.length === sent.length;
      } catch {
        for (const hint of sent) pendingSlots.add(hint.op.slot);
        return false;
      }
    };
    for (const hint of hints) {
      const size = recordBytes(hint.op.record) + hint.op.key.length;
      if (batch.length >= opsPerFrameMax || batchBytes + size > frameBytesMax / 2) {
        if (!(await flush())) break;
      }
      batch.push(hint);
      batchBytes += size;
    }
    await flush();
    // Owners learn a slot is whole again from anti-entropy; a peer that does not own the slot never
    // runs anti-entropy on it, so delivering every hint it held is all it can know.
    for (const slot of deliveredSlots) {
      if (!pendingSlots.has(slot) && !ownedSlots.has(slot)) {
        context.markVerified(slot, target);
      }
    }
  }
  return { delivered, expired: expired.length, remaining: replicaStore.hintCount };
}
