/**
 * Dotted version vectors (Preguiça et al.; Riak 2.0), keyed by the replica
 * that coordinates a write, not by the client, so vectors stay as small as
 * the set of replicas that ever coordinated writes for a key.
 *
 * A version is `{ dot, context, stamp, value }`: `dot` names the write
 * event (replica, counter), `context` is what the writing client had seen,
 * `stamp` is the coordinator's Lamport stamp (for a deterministic winner
 * among concurrent siblings). Version `a` happened before `b` exactly when
 * `b.context` covers `a.dot`. Everything is plain data that CBOR-encodes as
 * maps, arrays, strings and integers. See docs/spec/clocks.md.
 */
import { InvalidClockError, LimitExceededError } from './errors.ts';
import { compareNodeIds, compareStamps, isLamportStamp, type LamportStamp } from './lamport.ts';

/** Replica id -> highest counter seen from it. Absent = 0. Counters are 1..MAX_SAFE_INTEGER. */
export type VersionVector = Record<string, number>;

/** One write event: the `counter`-th write coordinated by `replica` (for this key). */
export interface Dot {
  replica: string;
  counter: number;
}

/** A dotted version vector: an optional event plus the causal context it was made in. */
export interface Dvv {
  dot?: Dot;
  context: VersionVector;
}

/** A stored version of a key: its DVV, the coordinator's Lamport stamp, and the value. */
export interface Version<T = unknown> {
  dot: Dot;
  context: VersionVector;
  stamp: LamportStamp;
  value: T;
}

/** How two clocks relate. */
export type Causality = 'equal' | 'before' | 'after' | 'concurrent';

/**
 * Default `entriesMax`: entries a context may hold. Replication factors go to
 * 10 (pairDB), so 32 leaves room for owner changes before pruning starts.
 */
export const DVV_ENTRIES_MAX_DEFAULT = 32;

/**
 * Entries a client-supplied context may hold before it is pruned. A context
 * joined from several siblings legitimately holds more than `entriesMax`
 * (each sibling adds its own dot to its pruned context), so this cap only
 * guards against hostile sizes; `updateVersions` prunes what it keeps.
 */
export const CLIENT_CONTEXT_ENTRIES_MAX = 1024;
/** Longest replica id accepted, in UTF-16 code units (node ids are far shorter). */
export const REPLICA_ID_LENGTH_MAX = 256;

/** Options shared by functions that create or check contexts. */
export interface DvvOptions {
  /** Most entries a context may hold; see {@link pruneVersionVector}. */
  entriesMax?: number;
}

// ---- version vectors -------------------------------------------------------

/** Counter of `replica` in `vv` (0 when absent). Own properties only, so '__proto__' tricks read 0. */
export function vvGet(vv: VersionVector, replica: string): number {
  return Object.hasOwn(vv, replica) ? vv[replica]! : 0;
}

/** True when `vv` has seen `dot`. */
export function vvCovers(vv: VersionVector, dot: Dot): boolean {
  return vvGet(vv, dot.replica) >= dot.counter;
}

function fromEntries(entries: [string, number][]): VersionVector {
  entries.sort((x, y) => compareNodeIds(x[0], y[0]));
  const out: VersionVector = {};
  for (const [k, v] of entries) if (v > 0) out[k] = v;
  return out;
}

/** Pointwise maximum: everything either has seen. Keys come out sorted. */
export function vvMerge(a: VersionVector, b: VersionVector): VersionVector {
  const m = new Map<string, number>(Object.entries(a));
  for (const [k, v] of Object.entries(b)) if (v > (m.get(k) ?? 0)) m.set(k, v);
  return fromEntries([...m]);
}

/** `vv` plus the event `dot`. */
export function vvAddDot(vv: VersionVector, dot: Dot): VersionVector {
  return vvMerge(vv, { [dot.replica]: dot.counter });
}

/** Classic version-vector comparison. */
export function vvCompare(a: VersionVector, b: VersionVector): Causality {
  let aAhead = false;
  let bAhead = false;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = vvGet(a, k);
    const y = vvGet(b, k);
    if (x > y) aAhead = true;
    else if (y > x) bAhead = true;
  }
  if (aAhead && bAhead) return 'concurrent';
  if (aAhead) return 'after';
  if (bAhead) return 'before';
  return 'equal';
}

/**
 * Bound a context to `entriesMax` entries. Entries of `keep` replicas (the
 * coordinator and the key's current owners) are never dropped; among the
 * others the smallest counters go first, ties by replica id. Dropping an
 * entry can only make an older version look concurrent (an extra sibling),
 * never make a newer one look obsolete, provided a dropped replica id never
 * coordinates writes again (replica ids carry an incarnation). Throws
 * LimitExceededError when `keep` alone is over the bound.
 */
export function pruneVersionVector(
  vv: VersionVector,
  entriesMax: number = DVV_ENTRIES_MAX_DEFAULT,
  keep: Iterable<string> = [],
): VersionVector {
  const entries = Object.entries(vv);
  if (entries.length <= entriesMax) return vv;
  const kept = new Set(keep);
  const protectedEntries = entries.filter(([k]) => kept.has(k));
  if (protectedEntries.length > entriesMax) {
    throw new LimitExceededError('entriesMax', entriesMax, protectedEntries.length);
  }
  const others = entries
    .filter(([k]) => !kept.has(k))
    .sort((x, y) => y[1] - x[1] || compareNodeIds(x[0], y[0]))
    .slice(0, entriesMax - protectedEntries.length);
  return fromEntries([...protectedEntries, ...others]);
}

// ---- dotted version vectors ------------------------------------------------

function sameDot(a: Dot, b: Dot): boolean {
  return a.replica === b.replica && a.counter === b.counter;
}

/** Order of dots: replica id (UTF-8 bytewise), then counter. */
export function compareDots(a: Dot, b: Dot): number {
  return compareNodeIds(a.replica, b.replica) || a.counter - b.counter;
}

/**
 * Causal relation of two DVVs. With both dots present this is the exact DVV
 * rule (`a` before `b` iff `b.context` covers `a.dot`), which tells apart two
 * concurrent writes coordinated by the same replica, where plain version
 * vectors would wrongly order them. Without a dot, a DVV is just its context
 * and compares as a version vector against the other's history.
 */
export function compareDvv(a: Dvv, b: Dvv): Causality {
  if (a.dot && b.dot) {
    if (sameDot(a.dot, b.dot)) return 'equal';
    if (vvCovers(b.context, a.dot)) return 'before';
    if (vvCovers(a.context, b.dot)) return 'after';
    return 'concurrent';
  }
  return vvCompare(dvvHistory(a), dvvHistory(b));
}

/** Everything a DVV has seen: its context plus its own dot. */
export function dvvHistory(x: Dvv): VersionVector {
  return x.dot ? vvAddDot(x.context, x.dot) : x.context;
}

/**
 * The context to hand a client that read `siblings`: everything they have
 * seen. A later write with this context supersedes all of them.
 */
export function joinContext(siblings: readonly Dvv[]): VersionVector {
  let vv: VersionVector = {};
  for (const s of siblings) vv = vvMerge(vv, dvvHistory(s));
  return vv;
}

function sortVersions<T>(vs: Version<T>[]): Version<T>[] {
  return vs.sort((x, y) => compareDots(x.dot, y.dot));
}

/**
 * Merge two replicas' sibling sets for one key: keep every version that no
 * other version in either set has seen; a dot present on both sides is kept
 * once. Commutative, associative and idempotent; result sorted by dot.
 */
export function syncVersions<T>(a: readonly Version<T>[], b: readonly Version<T>[]): Version<T>[] {
  const byDot = new Map<string, Version<T>>();
  for (const v of [...a, ...b]) {
    const key = `${v.dot.counter}:${v.dot.replica}`;
    if (!byDot.has(key)) byDot.set(key, v);
  }
  const all = [...byDot.values()];
  const live = all.filter((v) => !all.some((w) => w !== v && vvCovers(w.context, v.dot)));
  return sortVersions(live);
}

/** The siblings a write with `context` does not supersede. */
export function discardSeen<T>(siblings: readonly Version<T>[], context: VersionVector): Version<T>[] {
  return siblings.filter((s) => !vvCovers(context, s.dot));
}

/** Options for {@link updateVersions}. */
export interface UpdateOptions extends DvvOptions {
  /** Replicas whose context entries pruning must keep (the key's current owners). */
  keep?: Iterable<string>;
  /**
   * Lowest counter the new dot may get (default 1). A replica that can lose
   * a key's history while it keeps its replica id (the record was reaped, or
   * the disk was wiped under a running process) passes a value that only
   * grows, such as its Lamport clock, so it never mints a dot twice: a stale
   * client context that covers the old dot must not cover the new one.
   */
  counterMin?: number;
}

/**
 * A coordinating `replica` accepts a client write made with `context` (what
 * the client read; `{}` for a blind write). The new version gets the next dot
 * of `replica` for this key (one past anything the replica or the client has
 * seen from it, and at least `counterMin`), replaces every sibling the context
 * covers, and sits beside
 * the concurrent rest. Returns the new sibling set and the new version.
 */
export function updateVersions<T>(
  siblings: readonly Version<T>[],
  context: VersionVector,
  replica: string,
  value: T,
  stamp: LamportStamp,
  options: UpdateOptions = {},
): { siblings: Version<T>[]; version: Version<T> } {
  checkVersionVector(context, CLIENT_CONTEXT_ENTRIES_MAX, 'client context');
  checkReplicaId(replica);
  if (options.counterMin !== undefined) checkCounter(options.counterMin, 'counterMin');
  let counter = Math.max(vvGet(context, replica), (options.counterMin ?? 1) - 1);
  for (const s of siblings) counter = Math.max(counter, vvGet(dvvHistory(s), replica));
  if (counter >= Number.MAX_SAFE_INTEGER)
    throw new LimitExceededError('counterMax', Number.MAX_SAFE_INTEGER, counter + 1);
  const keep = [replica, ...(options.keep ?? [])];
  const version: Version<T> = {
    dot: { replica, counter: counter + 1 },
    context: pruneVersionVector(fromEntries(Object.entries(context)), options.entriesMax, keep),
    stamp,
    value,
  };
  return { siblings: sortVersions([...discardSeen(siblings, context), version]), version };
}

/**
 * The deterministic winner among siblings: highest Lamport stamp (clock, then
 * node id), then highest dot. Every replica picks the same one; the others stay
 * readable as siblings until a write supersedes them.
 */
export function winner<T>(siblings: readonly Version<T>[]): Version<T> | undefined {
  let best: Version<T> | undefined;
  for (const s of siblings) {
    if (!best || (compareStamps(s.stamp, best.stamp) || compareDots(s.dot, best.dot)) > 0) best = s;
  }
  return best;
}

// ---- validation of data from peers -----------------------------------------

function checkReplicaId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > REPLICA_ID_LENGTH_MAX || id === '__proto__') {
    throw new InvalidClockError(
      `replica id must be a non-empty string of at most ${REPLICA_ID_LENGTH_MAX} chars`,
    );
  }
}

function checkCounter(n: unknown, what: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidClockError(
      `${what} must be an integer in 1..${Number.MAX_SAFE_INTEGER}, got ${String(n)}`,
    );
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function checkVersionVector(vv: unknown, entriesMax: number, what: string): asserts vv is VersionVector {
  // A Map (what decodeValue returns for a map with a non-text key) would pass as empty: refuse it.
  if (!isPlainObject(vv)) {
    throw new InvalidClockError(`${what} must be a map of replica id to counter`);
  }
  const entries = Object.entries(vv);
  if (entries.length > entriesMax) throw new LimitExceededError('entriesMax', entriesMax, entries.length);
  for (const [k, v] of entries) {
    checkReplicaId(k);
    checkCounter(v, `${what} counter of ${k}`);
  }
}

/**
 * Check a version vector received from a peer (a client context in a write
 * request) and return it typed, as a fresh object with keys in UTF-8 order.
 * Throws InvalidClockError or LimitExceededError. The default bound is
 * CLIENT_CONTEXT_ENTRIES_MAX, since a context joined from siblings may
 * legitimately exceed `entriesMax` (updateVersions prunes what it keeps).
 */
export function parseVersionVector(x: unknown, options: DvvOptions = {}): VersionVector {
  checkVersionVector(x, options.entriesMax ?? CLIENT_CONTEXT_ENTRIES_MAX, 'version vector');
  return fromEntries(Object.entries(x));
}

/**
 * Check a version received from a peer (after CBOR decoding) and return it
 * typed. Throws InvalidClockError or LimitExceededError and trusts nothing;
 * the value itself is not inspected.
 */
export function parseVersion<T = unknown>(x: unknown, options: DvvOptions = {}): Version<T> {
  if (typeof x !== 'object' || x === null) throw new InvalidClockError('version must be a map');
  const { dot, context, stamp } = x as { dot?: unknown; context?: unknown; stamp?: unknown };
  if (typeof dot !== 'object' || dot === null) throw new InvalidClockError('version.dot must be a map');
  const { replica, counter } = dot as { replica?: unknown; counter?: unknown };
  checkReplicaId(replica);
  checkCounter(counter, 'dot counter');
  checkVersionVector(context, options.entriesMax ?? DVV_ENTRIES_MAX_DEFAULT, 'version.context');
  if (!isLamportStamp(stamp)) throw new InvalidClockError('version.stamp must be { clock, node }');
  return x as Version<T>;
}
