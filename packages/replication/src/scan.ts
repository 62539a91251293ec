/**
 * A key-range scan over every slot: each slot is read from one owner (this
 * peer when it owns the slot, else the first up owner), the owners' pages
 * are merged in key order, and a slot whose owner fails is retried on its
 * next owner. Used for derived entries (secondary indexes) and for scanning
 * records where no index helps.
 */
import { SLOT_COUNT } from '@tessera/core';
import { compareBytes } from './bytes.ts';
import { replicationFactorMax } from './consistency.ts';
import type { ReplicatorContext } from './context.ts';
import { QuorumNotReachedError } from './errors.ts';
import type { OpResult } from './frames.ts';
import { scanEntriesPerPageMax } from './limits.ts';
import { hasSlot, type ScanEntry } from './replica-store.ts';
import type { PeerId } from './transport.ts';

/** What `Replicator.scan` takes. */
export interface ScanRequest {
  /** Inclusive start of the key range. */
  readonly start: Uint8Array;
  /** Exclusive end of the key range. */
  readonly end: Uint8Array;
  /** Continue strictly after this key (a previous page's `cursor`). */
  readonly after?: Uint8Array | null;
  /** Most entries to return (1..`scanEntriesPerPageMax`). */
  readonly limit: number;
  /** `derived`: entries `derive` stored beside records; `records`: winning values of live records. */
  readonly mode: 'derived' | 'records';
  /** How many of each slot's owners may serve it (the range's database N); default the default N. */
  readonly replicationFactor?: number;
  /**
   * How many owners of each slot to read, their entries united (default 1).
   * With W + this > N, every acknowledged write's derived entries are seen.
   */
  readonly ownersPerSlot?: number;
}

/** One page of a scan, in key order. */
export interface ScanResult {
  readonly entries: readonly ScanEntry[];
  /** Pass as `after` for the next page; null when the range is exhausted. */
  readonly cursor: Uint8Array | null;
  /** Owners that served at least one slot. */
  readonly owners: number;
}

/** Up to `limit` entries of one owner's slots, following its pages. */
async function ownerPage(
  context: ReplicatorContext,
  peer: PeerId,
  bitmap: Uint8Array,
  request: ScanRequest,
): Promise<{ entries: ScanEntry[]; exhausted: boolean }> {
  const entries: ScanEntry[] = [];
  let after = request.after ?? null;
  for (;;) {
    const [result] = await context.caller.call(peer, [
      {
        op: 'scan',
        start: request.start,
        end: request.end,
        after,
        limit: request.limit - entries.length,
        slots: bitmap,
        mode: request.mode,
      },
    ]);
    if (!result?.ok || !('scanned' in result)) throw new Error(scanError(result));
    entries.push(...result.scanned);
    if (result.next === null) return { entries, exhausted: true };
    if (entries.length >= request.limit) return { entries, exhausted: false };
    after = result.next;
  }
}

function scanError(result: OpResult | undefined): string {
  return result && !result.ok ? `${result.code}: ${result.message}` : 'bad scan result';
}

/** Scans `request`'s range over all slots; throws `QuorumNotReachedError` when some slot has no owner that answers. */
export async function scanSlots(context: ReplicatorContext, request: ScanRequest): Promise<ScanResult> {
  const n = request.replicationFactor ?? context.defaultReplicationFactor;
  const up = new Map<PeerId, boolean>();
  const isUp = (peer: PeerId) => {
    let known = up.get(peer);
    if (known === undefined) {
      known = peer === context.selfId || context.placement.isUp(peer);
      up.set(peer, known);
    }
    return known;
  };
  const failed = new Set<PeerId>();
  const wanted = request.ownersPerSlot ?? 1;
  // Slots each owner has answered for, so a retry never asks the same owner for a slot twice.
  const servedBy = new Map<PeerId, Uint8Array>();
  const hasServed = (peer: PeerId, slot: number) => {
    const bitmap = servedBy.get(peer);
    return bitmap !== undefined && hasSlot(bitmap, slot);
  };
  // This peer first (no network), then up owners in placement order, then ones believed down.
  const pick = (slot: number, count: number, out: PeerId[]): void => {
    out.length = 0;
    const owners = context.slotOwners(slot);
    const limit = Math.min(n, owners.length);
    for (const pass of [0, 1, 2]) {
      for (let i = 0; i < limit && out.length < count; i++) {
        const peer = owners[i]!;
        if (failed.has(peer) || hasServed(peer, slot) || out.includes(peer)) continue;
        const fits = pass === 0 ? peer === context.selfId : pass === 1 ? isUp(peer) : true;
        if (fits) out.push(peer);
      }
    }
  };
  const pages: { entries: ScanEntry[]; exhausted: boolean }[] = [];
  const need = new Uint8Array(SLOT_COUNT).fill(wanted);
  const picked: PeerId[] = [];
  // Slot bitmaps per owner asked: the loop over 16384 slots allocates nothing per slot.
  for (;;) {
    const byPeer = new Map<PeerId, Uint8Array>();
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (need[slot] === 0) continue;
      pick(slot, need[slot]!, picked);
      if (picked.length < need[slot]!) {
        throw new QuorumNotReachedError(
          wanted,
          wanted - need[slot]! + picked.length,
          `too few owners of slot ${slot} answered the scan`,
        );
      }
      for (const peer of picked) {
        let bitmap = byPeer.get(peer);
        if (!bitmap) {
          bitmap = new Uint8Array(SLOT_COUNT / 8);
          byPeer.set(peer, bitmap);
        }
        bitmap[slot >> 3]! |= 1 << (slot & 7);
      }
    }
    if (byPeer.size === 0) break;
    await Promise.all(
      [...byPeer].map(async ([peer, bitmap]) => {
        try {
          pages.push(await ownerPage(context, peer, bitmap, request));
        } catch {
          failed.add(peer);
          return;
        }
        const served = servedBy.get(peer) ?? new Uint8Array(SLOT_COUNT / 8);
        for (let i = 0; i < bitmap.length; i++) served[i]! |= bitmap[i]!;
        servedBy.set(peer, served);
        for (let slot = 0; slot < SLOT_COUNT; slot++) if (hasSlot(bitmap, slot)) need[slot]! -= 1;
      }),
    );
  }
  const sorted = pages.flatMap((page) => page.entries).sort((a, b) => compareBytes(a[0], b[0]));
  // Owners of the same slot return the same keys: keep one of each.
  const merged = sorted.filter((entry, i) => i === 0 || compareBytes(entry[0], sorted[i - 1]![0]) !== 0);
  const entries = merged.slice(0, request.limit);
  // Every owner's page holds its first `limit` keys, so the first `limit` of the union are the range's first.
  const more = merged.length > request.limit || pages.some((page) => !page.exhausted);
  const last = entries.at(-1);
  return {
    entries,
    cursor: more ? (last?.[0] ?? request.after ?? null) : null,
    owners: servedBy.size,
  };
}

/** Checks a scan request's bounds; returns an error message or undefined. */
export function scanRequestProblem(request: ScanRequest): string | undefined {
  if (!(request.start instanceof Uint8Array) || !(request.end instanceof Uint8Array))
    return 'start and end must be bytes';
  if (compareBytes(request.start, request.end) >= 0) return 'start must be before end';
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > scanEntriesPerPageMax) {
    return `limit must be an integer in 1..${scanEntriesPerPageMax}`;
  }
  if (request.mode !== 'derived' && request.mode !== 'records') return 'mode must be derived or records';
  if (request.after != null && !(request.after instanceof Uint8Array)) return 'after must be bytes or null';
  const owners = request.ownersPerSlot ?? 1;
  if (!Number.isInteger(owners) || owners < 1 || owners > replicationFactorMax) {
    return `ownersPerSlot must be an integer in 1..${replicationFactorMax}`;
  }
  return undefined;
}
