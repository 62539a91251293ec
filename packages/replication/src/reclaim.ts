/**
 * Reclaiming the records of slots this peer no longer owns. A slot-map
 * change copies a slot's records to its new owners before they ack, but the
 * old owner kept its copy: disk it never got back, and a stale copy that
 * would come back to life if the slot ever moved back after a delete's
 * tombstone was reaped. A pass hands each record of a slot this peer has not
 * owned for `afterMs` to the slot's current owners (an `apply`: a
 * merge, so they lose nothing and gain what they lacked, such as a write
 * that reached this peer after their copy), and drops it here once a
 * majority of the key's owners acknowledged and it did not change meanwhile.
 */
import { toHex } from './bytes.ts';
import type { ReplicatorContext } from './context.ts';
import type { ReplicaOp } from './frames.ts';
import { estimateOpBytes } from './peer-call.ts';
import type { ReplicaRecord } from './record.ts';
import type { PeerId } from './transport.ts';

/** Records handed off per round (one `apply` frame per owner). */
const recordsPerRound = 64;
/** Estimated apply-op bytes per round (`estimateOpBytes`), so an apply frame stays well under a frame's 1 MiB. */
const roundBytesMax = 256 * 1024;

/** When the newest version of `record` was minted. */
function newestMintMs(record: ReplicaRecord): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const sibling of record) newest = Math.max(newest, sibling.value.mintedMs);
  return newest;
}

/** What one reclaim pass did. */
export interface ReclaimReport {
  /** Slots this peer holds records of without owning them, past `reclaimAfterMs`. */
  readonly slots: number;
  /** Records handed to a majority of their owners and dropped here. */
  readonly dropped: number;
  /** Records kept: too few owners acknowledged, or the record changed during the pass. */
  readonly kept: number;
}

/** When each slot was first seen unowned by this peer (per Replicator; reset when owned again). */
export type UnownedSince = Map<number, number>;

/** Whether `slot` has owners (a slot map) and this peer is not one of them. */
function unowned(context: ReplicatorContext, slot: number): boolean {
  const { owners } = context.placement.lookup(slot);
  return owners.length > 0 && !owners.includes(context.selfId);
}

/**
 * Whether this peer may drop its records of `slot` now: unowned, and not
 * about to be owned (a change in flight that gives it the slot is copying
 * records in). The pending check is the costlier one: asked only for slots
 * this peer holds records of.
 */
function reclaimable(context: ReplicatorContext, slot: number): boolean {
  return (
    unowned(context, slot) && !(context.placement.pending?.(slot)?.owners.includes(context.selfId) ?? false)
  );
}

export async function reclaimUnowned(
  context: ReplicatorContext,
  since: UnownedSince,
  slotCount: number,
  afterMs: number,
): Promise<ReclaimReport> {
  const now = context.now();
  const due: number[] = [];
  for (let slot = 0; slot < slotCount; slot++) {
    if (!unowned(context, slot)) {
      since.delete(slot);
      continue;
    }
    const first = since.get(slot);
    if (first === undefined) since.set(slot, now);
    if (now - (first ?? now) >= afterMs) due.push(slot);
  }
  let slots = 0;
  let dropped = 0;
  let kept = 0;
  for (const slot of due) {
    const entries = [];
    for await (const entry of context.replicaStore.slotEntries(slot)) entries.push(entry);
    if (entries.length === 0) {
      since.delete(slot);
      continue;
    }
    if (!reclaimable(context, slot)) continue;
    slots += 1;
    let next = 0;
    while (next < entries.length) {
      // A round is one apply frame per owner: bounded in records and in value bytes.
      const records: { key: Uint8Array; record: ReplicaRecord }[] = [];
      let bytes = 0;
      while (next < entries.length && records.length < recordsPerRound && bytes < roundBytesMax) {
        const { key } = entries[next++]!;
        const record = await context.replicaStore.getRecord(key);
        if (!record) continue;
        // Older than a hint may live: the slot's owners had every acknowledged version of it when the
        // slot moved, and the owners may have reaped a delete of it since, which handing it over
        // would undo. Dropped here without a hand-off.
        if (newestMintMs(record) < now - context.limits.hintTtlMs) {
          if (reclaimable(context, slot) && (await context.replica.dropIfUnchanged(key, slot, record))) {
            dropped += 1;
          } else {
            kept += 1;
          }
          continue;
        }
        records.push({ key, record });
        bytes += estimateOpBytes({ op: 'apply', key, slot, record });
      }
      if (records.length === 0) continue;
      const acks = await handOff(context, slot, records);
      for (const { key, record } of records) {
        const owners = context.ownersOfKey(key, slot);
        const needed = Math.floor(owners.length / 2) + 1;
        // Checked again right before the drop: a change in flight may have started giving the slot back.
        if ((acks.get(toHex(key)) ?? 0) >= needed && reclaimable(context, slot)) {
          if (await context.replica.dropIfUnchanged(key, slot, record)) {
            dropped += 1;
            continue;
          }
        }
        kept += 1;
      }
    }
  }
  return { slots, dropped, kept };
}

/** Sends `records` to their key's owners; resolves with acknowledgements per key (hex). */
async function handOff(
  context: ReplicatorContext,
  slot: number,
  records: readonly { key: Uint8Array; record: ReplicaRecord }[],
): Promise<Map<string, number>> {
  const byOwner = new Map<PeerId, { key: Uint8Array; op: ReplicaOp }[]>();
  for (const { key, record } of records) {
    for (const owner of context.ownersOfKey(key, slot)) {
      if (owner === context.selfId || !context.placement.isUp(owner)) continue;
      const list = byOwner.get(owner) ?? [];
      list.push({ key, op: { op: 'apply', key, slot, record } });
      byOwner.set(owner, list);
    }
  }
  const acks = new Map<string, number>();
  const repair = { timeoutMs: context.limits.repairTimeoutMs };
  await Promise.all(
    [...byOwner].map(async ([owner, list]) => {
      try {
        const results = await context.caller.call(
          owner,
          list.map((item) => item.op),
          repair,
        );
        list.forEach((item, n) => {
          if (results[n]?.ok) acks.set(toHex(item.key), (acks.get(toHex(item.key)) ?? 0) + 1);
        });
      } catch {
        // Unreachable owner: its keys keep their records here until a later pass.
      }
    }),
  );
  return acks;
}
