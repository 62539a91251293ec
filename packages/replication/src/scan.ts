/**
 * A key-range scan over every slot: each slot is read from one owner (this
 * peer when it owns the slot, else the first up owner), the owners' pages
 * are merged in key order, and a slot whose owner fails is retried on its
 * next owner. Used for derived entries (secondary indexes) and for scanning
 * records where no index helps.
 */
import { SLOT_COUNT } from '@tessera/core';
import { compareBytes } from './bytes.ts';
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
  // This peer first (no network), then the first up owner in placement order, then one believed down.
  const pick = (slot: number): PeerId | undefined => {
    const owners = context.slotOwners(slot);
    let firstUp: PeerId | undefined;
    let firstDown: PeerId | undefined;
    for (let i = 0; i < Math.min(n, owners.length); i++) {
      const peer = owners[i]!;
      if (failed.has(peer)) continue;
      if (peer === context.selfId) return peer;
      if (isUp(peer)) firstUp ??= peer;
      else firstDown ??= peer;
    }
    return firstUp ?? firstDown;
  };
  const pages: { entries: ScanEntry[]; exhausted: boolean }[] = [];
  const served = new Set<PeerId>();
  // Slot bitmaps per owner asked: the loop over 16384 slots allocates nothing per slot.
  let pending: Uint8Array | null = null;
  for (;;) {
    const byPeer = new Map<PeerId, Uint8Array>();
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (pending && !hasSlot(pending, slot)) continue;
      const peer = pick(slot);
      if (peer === undefined) {
        throw new QuorumNotReachedError(1, 0, `no owner of slot ${slot} answered the scan`);
      }
      let bitmap = byPeer.get(peer);
      if (!bitmap) {
        bitmap = new Uint8Array(SLOT_COUNT / 8);
        byPeer.set(peer, bitmap);
      }
      bitmap[slot >> 3]! |= 1 << (slot & 7);
    }
    const retry = new Uint8Array(SLOT_COUNT / 8);
    let retrying = false;
    await Promise.all(
      [...byPeer].map(async ([peer, bitmap]) => {
        try {
          pages.push(await ownerPage(context, peer, bitmap, request));
          served.add(peer);
        } catch {
          failed.add(peer);
          for (let i = 0; i < bitmap.length; i++) retry[i]! |= bitmap[i]!;
          retrying = true;
        }
      }),
    );
    if (!retrying) break;
    pending = retry;
  }
  const merged = pages.flatMap((page) => page.entries).sort((a, b) => compareBytes(a[0], b[0]));
  const entries = merged.slice(0, request.limit);
  // Every owner's page holds its first `limit` keys, so the first `limit` of the union are the range's first.
  const more = merged.length > request.limit || pages.some((page) => !page.exhausted);
  const last = entries.at(-1);
  return {
    entries,
    cursor: more ? (last?.[0] ?? request.after ?? null) : null,
    owners: served.size,
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
  return undefined;
}
