/**
 * Copies the records of slots a peer is about to own from the slots'
 * current owners, before it acks a slot-map change. Replication has no
 * per-slot sync of its own (its anti-entropy follows the committed map,
 * which a new owner is not in yet), so this pulls through the replica
 * transport with replication's frame ops: `digests` to skip the slots that
 * already match; for a slot this peer holds nothing of (the usual case for
 * a new owner, told by its empty digest), `records` pages of whole records
 * as the source stores them; otherwise `entries` pages of (key, version
 * hash) and `read` for the records this peer lacks or holds older. Pulled
 * records merge into this peer's replica as `apply` ops do, called
 * directly (`applyLocal`) rather than through a frame.
 *
 * Every acknowledged write is on W of a slot's owners, so copying from
 * `owners − W + 1` of them sees it; a copy that cannot reach that many
 * fails, and the caller refuses the change instead of acking without data.
 */
import type { SlotMap } from '@tessera/coordinator';
import { ownersBySlot } from '@tessera/coordinator';
import {
  type ApplyOp,
  emptyDigest,
  pullSlotsWhole,
  type RecordsPage,
  type ReplicaOp,
  type ReplicaRecord,
  recordFromWire,
  slotEntriesPerPageMax,
} from '@tessera/replication';
import { SlotCopyError } from './errors.ts';

/** Slots per `digests` op (replication's `digestSlotsPerOpMax`). */
const digestSlotsPerOp = 4096;
/**
 * Differing slots whose `entries` pages share one frame. Most slots hold few
 * keys, so one frame of 32 first pages covers 32 slots in one round trip
 * where one op per frame took 32.
 */
const slotsPerFrame = 32;
/**
 * (key, version hash) entries asked for per slot in a shared frame: 32 × 16
 * = replication's page bound (512) per frame, so a reply stays as large as
 * one full page at most (keys up to 2 KiB: 1 MiB, under the 4 MiB frame).
 */
const entriesPageLimit = Math.min(16, Math.floor(slotEntriesPerPageMax / slotsPerFrame));
/** Frames of slots copied at once from one source. */
const chunksInFlightMax = 4;
/** `read` or `apply` ops per frame: records carry values, so frames stay well under the frame bound. */
const recordOpsPerFrame = 32;
/**
 * Records asked for per slot in a `records` op. The source bounds the reply
 * frame's bytes itself (`recordsFrameBytesMax`), so large values only mean
 * shorter pages.
 */
const recordsPageLimit = 64;
/**
 * Tries per source: a copy is many requests, and on a loaded machine one of
 * them timing out should cost a retry, not the whole slot-map round (a
 * refusal aborts the proposal and every owner starts over).
 */
const sourceAttemptsMax = 3;

/** What the copy needs from the peer. */
export interface SlotCopyDeps {
  readonly selfId: string;
  /** Sends ops to `peer` (this peer included) and resolves with the raw results in op order. */
  call(peer: string, ops: readonly ReplicaOp[]): Promise<readonly unknown[]>;
  /**
   * Merges pulled records into this peer's replica as `apply` ops would, but
   * without a frame to encode and decode; resolves with the results in op order.
   */
  applyLocal(ops: readonly ApplyOp[]): Promise<readonly unknown[]>;
  /** Whether the membership view has `peer` serving; a peer that is not is not asked. */
  isUp(peer: string): boolean;
  /** How many of a slot's `owners` must be copied from for every acknowledged write to be seen. */
  sourcesNeeded(owners: number): number;
}

/** What one copy did. */
export interface SlotCopyReport {
  /** Slots asked for. */
  readonly slots: number;
  /** (slot, source) pairs whose digests differed from this peer's. */
  readonly differing: number;
  /** Records merged into this peer. */
  readonly records: number;
  /** Sources that failed (unreachable, timed out, bad reply). */
  readonly failedSources: readonly string[];
}

/** Lower-case hex of bytes (map keys; Buffer is not in browsers). */
function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** A slot's digest when the replica holds none of its keys. */
const emptyHex = hex(emptyDigest);

function okResult(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || (raw as { ok?: unknown }).ok !== true) {
    const code = typeof raw === 'object' && raw !== null ? String((raw as { code?: unknown }).code) : 'bad';
    throw new SlotCopyError(`${what}: peer answered ${code}`);
  }
  return raw as Record<string, unknown>;
}

function digestsOf(raw: unknown, count: number): Uint8Array[] {
  const digests = okResult(raw, 'digests').digests;
  if (!Array.isArray(digests) || digests.length !== count || !digests.every((d) => d instanceof Uint8Array)) {
    throw new SlotCopyError('digests: malformed reply');
  }
  return digests as Uint8Array[];
}

function entriesOf(raw: unknown): { entries: [Uint8Array, Uint8Array][]; more: boolean } {
  const result = okResult(raw, 'entries');
  const { entries, more } = result;
  if (
    !Array.isArray(entries) ||
    entries.length > entriesPageLimit ||
    typeof more !== 'boolean' ||
    !entries.every(
      (e) => Array.isArray(e) && e.length === 2 && e[0] instanceof Uint8Array && e[1] instanceof Uint8Array,
    )
  ) {
    throw new SlotCopyError('entries: malformed reply');
  }
  return { entries: entries as [Uint8Array, Uint8Array][], more };
}

type SlotEntries = Map<string, { key: Uint8Array; hash: string }>;

/** Every (key hex → version hash hex) of each of `slots` on `peer`: one frame per page round for all of them. */
async function slotsEntries(
  deps: SlotCopyDeps,
  peer: string,
  slots: readonly number[],
  signal: AbortSignal,
): Promise<Map<number, SlotEntries>> {
  const out = new Map<number, SlotEntries>(slots.map((slot) => [slot, new Map()]));
  let open: { slot: number; after: Uint8Array | null }[] = slots.map((slot) => ({ slot, after: null }));
  while (open.length > 0) {
    signal.throwIfAborted();
    const ops: ReplicaOp[] = open.map(({ slot, after }) => ({
      op: 'entries',
      slot,
      minN: 1,
      level: 0,
      bucket: 0,
      after,
      limit: entriesPageLimit,
    }));
    const results = await deps.call(peer, ops);
    if (results.length !== ops.length) throw new SlotCopyError('entries: malformed reply');
    const next: typeof open = [];
    open.forEach(({ slot }, i) => {
      const { entries, more } = entriesOf(results[i]);
      const slotEntries = out.get(slot)!;
      for (const [key, hash] of entries) slotEntries.set(hex(key), { key, hash: hex(hash) });
      if (more && entries.length > 0) next.push({ slot, after: entries[entries.length - 1]![0] });
    });
    open = next;
  }
  return out;
}

/** A `records` result, shape-checked: its records stay stored bytes (`pullSlotsWhole` checks each whole). */
function recordsPageOf(raw: unknown): RecordsPage {
  const { records, more } = okResult(raw, 'records');
  if (
    !Array.isArray(records) ||
    records.length > recordsPageLimit ||
    typeof more !== 'boolean' ||
    !records.every(
      (entry) =>
        Array.isArray(entry) &&
        entry.length === 2 &&
        entry[0] instanceof Uint8Array &&
        entry[0].length > 0 &&
        entry[1] instanceof Uint8Array,
    )
  ) {
    throw new SlotCopyError('records: malformed reply');
  }
  return { records: records as [Uint8Array, Uint8Array][], more };
}

/**
 * Pulls every record of `slots` (which this peer holds nothing of) from
 * `source`, a page of each slot per frame, and merges them in; resolves with
 * the records merged.
 */
function pullWhole(deps: SlotCopyDeps, source: string, slots: readonly number[], signal: AbortSignal) {
  return pullSlotsWhole(
    slots.map((slot) => ({ slot, minN: 1 })),
    recordsPageLimit,
    {
      fetch: async (ops) => {
        signal.throwIfAborted();
        const results = await deps.call(source, ops);
        if (results.length !== ops.length) throw new SlotCopyError('records: malformed reply');
        return results.map(recordsPageOf);
      },
      apply: async (applies) => {
        // One call for the whole page round: the replica commits the writes of one turn in one batch.
        for (const result of await deps.applyLocal(applies)) okResult(result, 'apply');
      },
    },
  );
}

/**
 * Copies a frame's worth of slots whose digests differ from `source`'s;
 * resolves with the records merged. `empty`: those of them this peer's
 * digest showed holding nothing.
 */
async function copyChunkFrom(
  deps: SlotCopyDeps,
  source: string,
  slots: readonly number[],
  empty: ReadonlySet<number>,
  signal: AbortSignal,
): Promise<number> {
  // A slot this peer holds nothing of (a new owner's usual case) is pulled whole, records and all:
  // one round trip per page instead of listing the source's entries and then reading each record.
  // (Should a write land in it meanwhile, the pulled records still merge with it.)
  const whole = slots.filter((slot) => empty.has(slot));
  const holding = slots.filter((slot) => !empty.has(slot));
  let records = whole.length > 0 ? await pullWhole(deps, source, whole, signal) : 0;
  if (holding.length > 0) {
    const mine = await slotsEntries(deps, deps.selfId, holding, signal);
    records += await copyDiffering(deps, source, holding, mine, signal);
  }
  return records;
}

/** Copies the records of `slots` this peer lacks or holds at another version than `source`. */
async function copyDiffering(
  deps: SlotCopyDeps,
  source: string,
  slots: readonly number[],
  mine: Map<number, SlotEntries>,
  signal: AbortSignal,
): Promise<number> {
  const theirs = await slotsEntries(deps, source, slots, signal);
  const wanted: { key: Uint8Array; slot: number }[] = [];
  for (const slot of slots) {
    const local = mine.get(slot)!;
    for (const [id, e] of theirs.get(slot)!)
      if (local.get(id)?.hash !== e.hash) wanted.push({ key: e.key, slot });
  }
  let records = 0;
  for (let k = 0; k < wanted.length; k += recordOpsPerFrame) {
    signal.throwIfAborted();
    const batch = wanted.slice(k, k + recordOpsPerFrame);
    const results = await deps.call(
      source,
      batch.map((e) => ({ op: 'read', key: e.key }) as const),
    );
    const applies: ApplyOp[] = [];
    batch.forEach((e, n) => {
      const raw = okResult(results[n], 'read').record;
      if (raw === null || raw === undefined) return; // reaped since the entries page
      const record: ReplicaRecord = recordFromWire(raw, `read[${n}].record`);
      applies.push({ op: 'apply', key: e.key, slot: e.slot, record });
    });
    if (applies.length === 0) continue;
    for (const result of await deps.applyLocal(applies)) okResult(result, 'apply');
    records += applies.length;
  }
  return records;
}

/**
 * Copies `slots` (owned elsewhere in `current`) from `source`; resolves with
 * (differing slots, records). `onCopied` hears of slots as they are done.
 */
async function copyFromSource(
  deps: SlotCopyDeps,
  source: string,
  slots: readonly number[],
  signal: AbortSignal,
  onCopied: (slots: readonly number[]) => void,
): Promise<{ differing: number; records: number }> {
  let differing = 0;
  let records = 0;
  for (let i = 0; i < slots.length; i += digestSlotsPerOp) {
    const part = slots.slice(i, i + digestSlotsPerOp);
    const op: ReplicaOp = { op: 'digests', slots: part, minN: 1 };
    const [[remoteRaw], [localRaw]] = await Promise.all([
      deps.call(source, [op]),
      deps.call(deps.selfId, [op]),
    ]);
    const remote = digestsOf(remoteRaw, part.length).map(hex);
    const local = digestsOf(localRaw, part.length).map(hex);
    const differ = part.filter((_, j) => remote[j] !== local[j]);
    const empty = new Set(part.filter((_, j) => local[j] === emptyHex));
    onCopied(part.filter((_, j) => remote[j] === local[j]));
    differing += differ.length;
    // A few frames of slots at once: each is a handful of round trips, mostly waiting on the network.
    const chunks: number[][] = [];
    for (let k = 0; k < differ.length; k += slotsPerFrame) chunks.push(differ.slice(k, k + slotsPerFrame));
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        // Not `records += await …`: that reads `records` before the await and drops the other workers' sums.
        const merged = await copyChunkFrom(deps, source, chunk, empty, signal);
        records += merged;
        onCopied(chunk);
      }
    };
    await Promise.all(Array.from({ length: Math.min(chunksInFlightMax, chunks.length) }, worker));
  }
  return { differing, records };
}

/**
 * Copies the records of `slots` from their owners in `current` into this
 * peer. Rejects with `SlotCopyError` when some slot could not be copied
 * from enough of its owners, or when `signal` aborts.
 */
export async function copySlots(
  deps: SlotCopyDeps,
  current: SlotMap,
  slots: readonly number[],
  signal: AbortSignal,
  onSlotsDone?: (done: number) => void,
): Promise<SlotCopyReport> {
  signal.throwIfAborted();
  const owners = ownersBySlot(current);
  const needed = (slot: number) => {
    const others = (owners[slot] ?? []).filter((o) => o !== deps.selfId).length;
    return Math.min(others, deps.sourcesNeeded(owners[slot]?.length ?? 0));
  };
  // Two waves: first one source per slot (spread over the owners), then the others. A slot the first
  // wave filled usually matches its other sources' digests, so the second wave skips it instead of
  // pulling and merging every record once more per source.
  const waves = [new Map<string, number[]>(), new Map<string, number[]>()] as const;
  for (const slot of slots) {
    const others = (owners[slot] ?? []).filter((owner) => owner !== deps.selfId);
    const up = others.filter((owner) => deps.isUp(owner));
    // Too few owners up in this peer's view: ask the others too rather than fail at once. The view
    // is advisory, and right after this peer stalled (a long copy, a busy machine) it shows every
    // peer it has not heard from since as down until their next heartbeat.
    const sources = up.length >= needed(slot) ? up : others;
    sources.forEach((owner, i) => {
      const wave = waves[(i + slot) % sources.length === 0 ? 0 : 1];
      const list = wave.get(owner) ?? [];
      list.push(slot);
      wave.set(owner, list);
    });
  }
  const copiedFrom = new Map<number, number>();
  /** Per source, the slots it counted for: once, however many attempts or waves saw them through. */
  const copiedBy = new Map<string, Set<number>>();
  const failedSources = new Set<string>();
  const failures: string[] = [];
  let differing = 0;
  let records = 0;
  let done = 0;
  for (const slot of slots) if (needed(slot) === 0) done += 1;
  onSlotsDone?.(done);
  const copyFrom = async (source: string, sourceSlots: readonly number[]) => {
    const copiedHere = copiedBy.get(source) ?? new Set<number>();
    copiedBy.set(source, copiedHere);
    const onCopied = (copied: readonly number[]) => {
      if (copied.length === 0) return;
      for (const slot of copied) {
        if (copiedHere.has(slot)) continue;
        copiedHere.add(slot);
        const count = (copiedFrom.get(slot) ?? 0) + 1;
        copiedFrom.set(slot, count);
        if (count === needed(slot)) done += 1;
      }
      onSlotsDone?.(done);
    };
    for (let attempt = 1; ; attempt++) {
      try {
        // Digests skip what an earlier attempt already copied.
        const report = await copyFromSource(deps, source, sourceSlots, signal, onCopied);
        differing += report.differing;
        records += report.records;
        return;
      } catch (error) {
        if (signal.aborted) throw error;
        if (attempt < sourceAttemptsMax) continue;
        failedSources.add(source);
        // The tail of the id is enough to tell owners apart and keeps the reason short (acks carry 200 chars).
        failures.push(`…${source.slice(-6)}: ${String(error)}`);
        return;
      }
    }
  };
  for (const wave of waves) {
    await Promise.all([...wave].map(([source, sourceSlots]) => copyFrom(source, sourceSlots)));
  }
  signal.throwIfAborted();
  const short = slots.filter((slot) => (copiedFrom.get(slot) ?? 0) < needed(slot));
  if (short.length > 0) {
    throw new SlotCopyError(
      `${short.length} slots could not be copied from enough owners (first ${short[0]}; ${failures.length > 0 ? `failed: ${failures.join('; ')}` : 'no source up'})`,
    );
  }
  return { slots: slots.length, differing, records, failedSources: [...failedSources] };
}

/** The slots of a list of inclusive ranges. */
export function slotsOf(ranges: readonly { readonly start: number; readonly end: number }[]): number[] {
  const out: number[] = [];
  for (const { start, end } of ranges) for (let s = start; s <= end; s++) out.push(s);
  return out;
}
