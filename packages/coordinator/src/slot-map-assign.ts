/**
 * Assignment: a pure, deterministic function from (current map, eligible
 * owners with capacities, N) to the next map. Works slot by slot on member
 * indices, then compresses to ranges. Rules (docs/spec/slot-map.md):
 *
 * 1. Targets: N·16384 slot-replicas split evenly (water-filling under each
 *    owner's capacity); a remainder slot goes to whoever holds more now.
 * 2. Keep every current (owner, slot) pair whose owner is still eligible;
 *    a lost primary is replaced by the next owner in the list.
 * 3. Fill holes (slots with fewer than min(N, owners) owners) from owners
 *    below target, slot order, preferring the owner that took the previous
 *    slot so gains stay contiguous.
 * 4. Owners above target hand their highest slots to owners below target,
 *    taking the same position in the list.
 * 5. Primaries are balanced the same way by swapping order inside a slot's
 *    owner list (no data moves).
 *
 * Steps 2–4 move exactly sum(max(0, target − kept)) slot-replicas, the
 * least any balanced map can move.
 */
import { compareNodeIds, SLOT_COUNT } from '@tessera/core';
import type { PeerIdString } from './env.ts';
import { type SlotMap, type SlotMapRange, slotMapReplicasMax } from './slot-map.ts';
import { SlotMapCapacityError } from './slot-map-errors.ts';

/** An owner that may hold slots. */
export interface AssignMember {
  readonly id: PeerIdString;
  /** Most slot-replicas it may hold (from its storage quota); omitted = unlimited. */
  readonly capacitySlots?: number;
}

export interface AssignInput {
  readonly current: SlotMap;
  /** Eligible owners only (clients, down and leaving peers excluded by the caller). */
  readonly members: readonly AssignMember[];
  /** Requested replication factor N (1..16). */
  readonly replicas: number;
  /** Epoch of the new map; default `current.epoch + 1`. */
  readonly epoch?: number;
}

/** How a storage quota becomes a capacity in slot-replicas. */
export interface QuotaRule {
  /** Bytes one slot-replica is assumed to take. */
  readonly slotBytesEstimate: number;
  /** Share of the quota placement may plan to fill (0..1]. */
  readonly quotaShare: number;
}

export const DEFAULT_QUOTA_RULE: QuotaRule = { slotBytesEstimate: 64 * 1024, quotaShare: 0.5 };
/** Capacities are rounded down to a multiple of this, so a quota that drifts a little moves nothing. */
export const capacityStepSlots = 64;

/**
 * Capacity of an owner with storage quota `quotaBytes` (null = unbounded):
 * floor(quota × quotaShare / slotBytesEstimate), rounded down to a multiple
 * of `capacityStepSlots`.
 */
export function capacityFromQuota(quotaBytes: number | null, rule: QuotaRule = DEFAULT_QUOTA_RULE): number {
  if (quotaBytes === null || !Number.isFinite(quotaBytes)) return Number.POSITIVE_INFINITY;
  const raw = Math.floor((Math.max(0, quotaBytes) * rule.quotaShare) / rule.slotBytesEstimate);
  return raw - (raw % capacityStepSlots);
}

/**
 * Splits `total` over members under `caps` as evenly as possible; the
 * `total mod k` extra units go to members earlier in `preference`.
 */
export function distribute(total: number, caps: readonly number[], preference: readonly number[]): number[] {
  const k = caps.length;
  const targets = new Array<number>(k).fill(0);
  let capSum = 0;
  for (const c of caps) capSum += c;
  if (capSum < total) throw new SlotMapCapacityError(`capacity ${capSum} < ${total} slot-replicas needed`);
  const active = new Set(preference);
  let remaining = total;
  for (;;) {
    const share = Math.floor(remaining / active.size);
    const capped = [...active].filter((i) => caps[i]! <= share);
    if (capped.length === 0) break;
    for (const i of capped) {
      targets[i] = caps[i]!;
      remaining -= caps[i]!;
      active.delete(i);
    }
    if (active.size === 0) return targets;
  }
  const base = Math.floor(remaining / active.size);
  let extra = remaining - base * active.size;
  for (const i of preference) {
    if (!active.has(i)) continue;
    targets[i] = base + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
  }
  return targets;
}

/** Passes of primary balancing per run. */
const primaryPassesMax = 8;
/** Share of an even primary count an owner may be over before primaries are reordered. */
const primarySlackShare = 0.02;

/** Counters of one assignment run (for tests and logs). */
export interface AssignStats {
  /** Slot-replicas the new map gives to an owner that did not hold them. */
  moved: number;
  /** The least any balanced map could move from the same start. */
  movedMin: number;
  /** Holes filled by an owner already at target (only when no better choice existed). */
  fallbacks: number;
}

/** The next map; see the file comment for the rules. Deterministic in its inputs (member order does not matter). */
export function assignSlots(input: AssignInput, stats?: AssignStats): SlotMap {
  const { current } = input;
  const replicas = input.replicas;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > slotMapReplicasMax) {
    throw new SlotMapCapacityError(`replicas must be 1..${slotMapReplicasMax}`);
  }
  const members = [...new Map(input.members.map((m) => [m.id, m])).values()].sort((a, b) =>
    compareNodeIds(a.id, b.id),
  );
  const k = members.length;
  if (k === 0) throw new SlotMapCapacityError('no eligible owner');
  const n = Math.min(replicas, k);
  const index = new Map(members.map((m, i) => [m.id, i]));

  // Step 2: keep what eligible owners hold.
  const owners: number[][] = new Array(SLOT_COUNT);
  const load = new Array<number>(k).fill(0);
  const prim = new Array<number>(k).fill(0);
  for (let s = 0; s < SLOT_COUNT; s++) owners[s] = [];
  for (const r of current.ranges) {
    const kept = r.owners
      .map((o) => index.get(o))
      .filter((i): i is number => i !== undefined)
      .slice(0, n);
    for (let s = r.start; s <= r.end; s++) owners[s] = [...kept];
    for (const i of kept) load[i]! += r.end - r.start + 1;
    if (kept[0] !== undefined) prim[kept[0]]! += r.end - r.start + 1;
  }

  // Step 1: targets.
  const caps = members.map((m) =>
    Math.min(SLOT_COUNT, Math.max(0, m.capacitySlots ?? Number.POSITIVE_INFINITY)),
  );
  const byLoad = (xs: readonly number[]) => [...Array(k).keys()].sort((a, b) => xs[b]! - xs[a]! || a - b);
  const target = distribute(SLOT_COUNT * n, caps, byLoad(load));
  let movedMin = 0;
  for (let i = 0; i < k; i++) movedMin += Math.max(0, target[i]! - Math.min(load[i]!, target[i]!));
  const deficit = (i: number) => target[i]! - load[i]!;

  let moved = 0;
  let fallbacks = 0;
  const give = (s: number, i: number, position?: number) => {
    if (position === undefined) owners[s]!.push(i);
    else owners[s]![position] = i;
    load[i]! += 1;
    moved += 1;
  };

  // Primaries in proportion to load targets (the +1 leaves room for the remainder).
  // Remainders by member order, not by current counts, so the targets of a
  // second run over the same members are the same (a balanced map is a fixpoint).
  const primaryTarget = distribute(
    SLOT_COUNT,
    target.map((t) => Math.ceil(t / n) + 1),
    [...Array(k).keys()],
  );

  // Step 3: holes. Slots with the same kept owners form a group; a max flow
  // decides how many of each group's holes each owner below target takes, so
  // as many holes as possible go to owners that need slots (each extra hole
  // given to an owner at target costs one more move in step 4).
  const groups = new Map<string, { kept: number[]; slots: number[] }>();
  for (let s = 0; s < SLOT_COUNT; s++) {
    const list = owners[s]!;
    if (list.length >= n) continue;
    const key = [...list].sort((x, y) => x - y).join(',');
    let g = groups.get(key);
    if (!g) {
      g = { kept: [...list], slots: [] };
      groups.set(key, g);
    }
    g.slots.push(s);
  }
  const groupList = [...groups.values()];
  const { quota, flow } = planHoles(
    groupList.map((g) => ({ count: g.slots.length, missing: n - g.kept.length, excluded: g.kept })),
    load.map((l, i) => Math.max(0, target[i]! - l)),
  );
  let holes = 0;
  for (const g of groupList) holes += g.slots.length * (n - g.kept.length);
  // A hole no owner below target can take costs one extra move when step 4 hands it on.
  movedMin += holes - flow;
  let unmatched = 0;
  // The owner that took the last unmatched hole keeps taking them (fewer ranges; step 4 evens loads).
  let spill = -1;
  groupList.forEach((g, gi) => {
    const q = quota[gi]!;
    let picks: number[] = [];
    const holders = [...Array(k).keys()].filter((i) => q[i]! > 0);
    g.slots.forEach((s, row) => {
      const list = owners[s]!;
      const need = n - list.length;
      const rowsLeft = g.slots.length - row;
      // Owners whose quota equals the rows left must be picked now; then
      // the previous slot's picks (contiguous gains); then the largest quota.
      const previous = picks;
      picks = [];
      for (const i of holders) if (q[i]! === rowsLeft && picks.length < need) picks.push(i);
      for (const i of previous) if (q[i]! > 0 && picks.length < need && !picks.includes(i)) picks.push(i);
      while (picks.length < need) {
        let best = -1;
        for (const i of holders)
          if (q[i]! > 0 && !picks.includes(i) && (best < 0 || q[i]! > q[best]!)) best = i;
        if (best < 0) break;
        picks.push(best);
      }
      for (const i of picks) {
        q[i]! -= 1;
        give(s, i);
      }
      for (let left = need - picks.length; left > 0; left--) {
        // No owner below target can take this hole: the least loaded owner that can takes it.
        unmatched += 1;
        let best = -1;
        if (spill >= 0 && !list.includes(spill)) best = spill;
        else {
          for (let i = 0; i < k; i++) {
            if (list.includes(i)) continue;
            if (best < 0 || load[i]! * Math.max(1, target[best]!) < load[best]! * Math.max(1, target[i]!))
              best = i;
          }
        }
        give(s, best);
        spill = best;
      }
      if (list.length > 0 && g.kept.length === 0) prim[list[0]!]! += 1;
    });
  });
  fallbacks += unmatched;

  // Step 4: owners above target hand their highest slots to owners below target.
  for (let y = 0; y < k; y++) {
    if (load[y]! <= target[y]!) continue;
    const unders = [...Array(k).keys()]
      .filter((x) => deficit(x) > 0)
      .sort((a, b) => deficit(b) - deficit(a) || a - b);
    for (const x of unders) {
      for (let s = SLOT_COUNT - 1; s >= 0 && load[y]! > target[y]! && deficit(x) > 0; s--) {
        const list = owners[s]!;
        const pos = list.indexOf(y);
        if (pos < 0 || list.includes(x)) continue;
        load[y]! -= 1;
        give(s, x, pos);
        if (pos === 0) {
          prim[y]! -= 1;
          prim[x]! += 1;
        }
      }
      if (load[y]! <= target[y]!) break;
    }
  }

  // Step 5: balance primaries by reordering inside slots, until a pass changes nothing
  // (so a balanced map is a fixpoint and the next run proposes nothing).
  // Only owners more than `slack` over their primary target start handing
  // primaries on, so a one-slot shift of the remainder never moves anything.
  const slack = Math.max(2, Math.ceil((SLOT_COUNT / k) * primarySlackShare));
  for (let pass = 0; pass < primaryPassesMax; pass++) {
    let swaps = 0;
    for (let y = 0; y < k; y++) {
      if (prim[y]! <= primaryTarget[y]! + slack) continue;
      let last = -1;
      for (let s = SLOT_COUNT - 1; s >= 0 && prim[y]! > primaryTarget[y]!; s--) {
        const list = owners[s]!;
        if (list[0] !== y) continue;
        let best = -1;
        for (let pos = 1; pos < list.length; pos++) {
          const x = list[pos]!;
          if (prim[x]! >= primaryTarget[x]!) continue;
          // Keep handing to the same owner while it can take more: fewer, longer ranges.
          if (x === last) {
            best = pos;
            break;
          }
          if (best < 0 || primaryTarget[x]! - prim[x]! > primaryTarget[list[best]!]! - prim[list[best]!]!)
            best = pos;
        }
        if (best < 0) continue;
        const x = list[best]!;
        last = x;
        list[0] = x;
        list[best] = y;
        prim[y]! -= 1;
        prim[x]! += 1;
        swaps += 1;
      }
    }
    if (swaps === 0) break;
  }

  if (stats) {
    stats.moved = moved;
    stats.movedMin = movedMin;
    stats.fallbacks = fallbacks;
  }
  return buildMap(current, owners, members, replicas, input.epoch ?? current.epoch + 1);
}

/** Compresses per-slot owner lists to ranges; a slot keeps its old epoch when its list is unchanged. */
function buildMap(
  current: SlotMap,
  owners: readonly number[][],
  members: readonly AssignMember[],
  replicas: number,
  epoch: number,
): SlotMap {
  const index = new Map(members.map((m, i) => [m.id, i]));
  const sameList = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  // Old ranges as member indices (-1 for owners no longer eligible), walked alongside the slots.
  const old = current.ranges.map((r) => ({
    end: r.end,
    epoch: r.epoch,
    list: r.owners.map((o) => index.get(o) ?? -1),
  }));
  let oi = 0;
  const ranges: SlotMapRange[] = [];
  let runStart = 0;
  let runEpoch = 0;
  for (let s = 0; s <= SLOT_COUNT; s++) {
    let slotEpoch = 0;
    if (s < SLOT_COUNT) {
      while (oi < old.length && old[oi]!.end < s) oi++;
      const o = old[oi];
      slotEpoch = o && sameList(o.list, owners[s]!) ? o.epoch : epoch;
    }
    const same = s > 0 && s < SLOT_COUNT && slotEpoch === runEpoch && sameList(owners[s]!, owners[s - 1]!);
    if (s > 0 && !same) {
      ranges.push({
        start: runStart,
        end: s - 1,
        owners: owners[s - 1]!.map((i) => members[i]!.id),
        epoch: runEpoch,
      });
    }
    if (!same) {
      runStart = s;
      runEpoch = slotEpoch;
    }
  }
  return { epoch, replicas, ranges };
}

interface HoleGroup {
  /** Slots in the group. */
  readonly count: number;
  /** Owners each of its slots lacks. */
  readonly missing: number;
  /** Owners that already hold its slots. */
  readonly excluded: readonly number[];
}

/**
 * Max flow source -> group (count × missing) -> owner not excluded (count)
 * -> sink (deficit), by Dinic's algorithm. Returns, per group, how many of
 * its holes each owner takes, and the total placed.
 */
export function planHoles(
  groups: readonly HoleGroup[],
  deficits: readonly number[],
): { quota: number[][]; flow: number } {
  const g = groups.length;
  const k = deficits.length;
  const source = g + k;
  const sink = source + 1;
  const size = sink + 1;
  const to: number[] = [];
  const cap: number[] = [];
  const head = new Array<number>(size).fill(-1);
  const next: number[] = [];
  const addEdge = (a: number, b: number, c: number) => {
    to.push(b, a);
    cap.push(c, 0);
    next.push(head[a]!, head[b]!);
    head[a] = to.length - 2;
    head[b] = to.length - 1;
  };
  const memberEdges: number[][] = groups.map(() => new Array<number>(k).fill(-1));
  groups.forEach((group, gi) => {
    addEdge(source, gi, group.count * group.missing);
    const excluded = new Set(group.excluded);
    for (let i = 0; i < k; i++) {
      if (excluded.has(i) || deficits[i]! <= 0) continue;
      memberEdges[gi]![i] = to.length;
      addEdge(gi, g + i, group.count);
    }
  });
  for (let i = 0; i < k; i++) if (deficits[i]! > 0) addEdge(g + i, sink, deficits[i]!);

  let flow = 0;
  const level = new Array<number>(size);
  const iter = new Array<number>(size);
  const bfs = (): boolean => {
    level.fill(-1);
    level[source] = 0;
    const queue = [source];
    for (let qi = 0; qi < queue.length; qi++) {
      const v = queue[qi]!;
      for (let e = head[v]!; e >= 0; e = next[e]!) {
        if (cap[e]! > 0 && level[to[e]!]! < 0) {
          level[to[e]!] = level[v]! + 1;
          queue.push(to[e]!);
        }
      }
    }
    return level[sink]! >= 0;
  };
  const dfs = (v: number, pushed: number): number => {
    if (v === sink) return pushed;
    for (; iter[v]! >= 0; iter[v] = next[iter[v]!]!) {
      const e = iter[v]!;
      const w = to[e]!;
      if (cap[e]! <= 0 || level[w] !== level[v]! + 1) continue;
      const got = dfs(w, Math.min(pushed, cap[e]!));
      if (got > 0) {
        cap[e]! -= got;
        cap[e ^ 1]! += got;
        return got;
      }
    }
    return 0;
  };
  while (bfs()) {
    for (let v = 0; v < size; v++) iter[v] = head[v]!;
    for (;;) {
      const got = dfs(source, Number.POSITIVE_INFINITY);
      if (got === 0) break;
      flow += got;
    }
  }
  const quota = memberEdges.map((edges) => edges.map((e) => (e < 0 ? 0 : cap[e ^ 1]!)));
  return { quota, flow };
}
