/**
 * `peer.leave()`: drain this peer's slots to the other owners, then stop.
 * The peer announces `leaving` (the slot-map service then counts it out of
 * the eligible owners), the designated proposer proposes a map without it,
 * and the new owners copy its slots before they ack (the existing pre-ack
 * copy). The peer keeps serving reads and writes through all of it, and a
 * little past the commit while the new owners re-copy what reached only the
 * old owners between their copy and the commit.
 */
import type { Coordinator, Member, SlotMapService } from '@tessera/coordinator';
import { LeaveAbortedError, LeaveRefusedError } from './leave-errors.ts';

/** Longest wait for a committed map without this peer, ms. */
export const LEAVE_TIMEOUT_MS_DEFAULT = 300_000;
/** Longest time the peer keeps serving after that commit while new owners finish their catch-up copies, ms. */
export const LEAVE_LINGER_MS_DEFAULT = 30_000;
/** How often progress is reported and the map checked, ms. */
const progressPeriodMs = 500;
/**
 * After the commit, wait at least this long before trusting that no new
 * owner runs a catch-up copy: their jobs reach this peer in node states,
 * which follow a job change by up to a heartbeat.
 */
const lingerSettleMs = 2000;
/** Jobs of other peers last updated this long before the leave began still show (their clocks differ from ours). */
const jobClockSkewMs = 5000;

/** Where a leave is. */
export type LeavePhase = 'draining' | 'left' | 'stopped';

/** A slot-map or slot-copy job some member reports in its node state. */
export interface LeaveJob {
  readonly peer: string;
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly done: number;
  readonly total: number;
}

/** A progress report of `peer.leave()`. */
export interface LeaveProgress {
  readonly phase: LeavePhase;
  /** Epoch of the committed map. */
  readonly epoch: number;
  /** Slots the committed map still gives this peer. */
  readonly slotsOwned: number;
  /** Distinct owners the committed map names. */
  readonly owners: number;
  /** `slotmap` and `slotcopy` jobs members report, started around or after the leave began. */
  readonly jobs: readonly LeaveJob[];
}

export interface LeaveOptions {
  /** Aborting before the commit ends the leave with `LeaveAbortedError`; the peer stays up. */
  readonly signal?: AbortSignal;
  /** Default `LEAVE_TIMEOUT_MS_DEFAULT`. */
  readonly timeoutMs?: number;
  /** Default `LEAVE_LINGER_MS_DEFAULT`. */
  readonly lingerMs?: number;
  /** Called every `progressPeriodMs` and at each phase change. */
  readonly onProgress?: (progress: LeaveProgress) => void;
}

export interface LeaveResult {
  /** Epoch of the first committed map without this peer (0 when it owned nothing). */
  readonly epoch: number;
  /** Distinct owners that map names. */
  readonly owners: number;
}

/** What a leave needs of the peer. */
export interface LeaveDeps {
  readonly coordinator: Coordinator;
  readonly slotMap: SlotMapService;
  readonly role: 'owner' | 'client';
  /** N of the slot map: fewer eligible owners than this left behind refuses the leave. */
  readonly replicationFactor: number;
  /** Stops the peer once its slots are elsewhere. */
  stop(): Promise<void>;
}

const serving = (m: Member) => m.role === 'owner' && m.status === 'up' && m.liveness === 'alive';

function mapView(slotMap: SlotMapService, me: string) {
  const owners = new Set<string>();
  let slotsOwned = 0;
  for (const r of slotMap.map.ranges) {
    for (const o of r.owners) owners.add(o);
    if (r.owners.includes(me)) slotsOwned += r.end - r.start + 1;
  }
  return { epoch: slotMap.map.epoch, owners, slotsOwned };
}

function jobsOf(members: readonly Member[], sinceMs: number): LeaveJob[] {
  const out: LeaveJob[] = [];
  for (const m of members) {
    for (const j of m.state.jobs ?? []) {
      if (j.kind !== 'slotmap' && j.kind !== 'slotcopy') continue;
      if (j.updatedMs < sinceMs - jobClockSkewMs) continue;
      out.push({ peer: m.id, id: j.id, kind: j.kind, status: j.status, done: j.done, total: j.total });
    }
  }
  return out;
}

/** Checks that the cluster can take this peer's slots; throws `LeaveRefusedError` otherwise. */
export function checkLeave(deps: LeaveDeps): void {
  const { coordinator, slotMap } = deps;
  const me = coordinator.nodeId;
  if (!coordinator.running) throw new LeaveRefusedError('notRunning', 'the peer is not running');
  const members = coordinator.members();
  const others = members.filter((m) => m.id !== me && serving(m)).length;
  if (others < deps.replicationFactor) {
    const notServing = members
      .filter((m) => m.id !== me && m.role === 'owner' && !serving(m))
      .map((m) => `${m.id.slice(-8)} ${m.status}/${m.liveness}`);
    throw new LeaveRefusedError(
      'replicas',
      `${others} other owner(s) up, fewer than the ${deps.replicationFactor} copies (N) every slot needs${notServing.length > 0 ? ` (not up: ${notServing.join(', ')})` : ''}`,
    );
  }
  const { owners } = mapView(slotMap, me);
  const byId = new Map(members.map((m) => [m.id, m]));
  const alive = [...owners].filter((o) => o === me || byId.get(o)?.liveness === 'alive').length;
  if (alive * 2 <= owners.size) {
    throw new LeaveRefusedError(
      'noMajority',
      `only ${alive} of the map's ${owners.size} owners alive in view`,
    );
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Runs a leave: check, announce `leaving`, wait for the map, linger, stop. */
export async function leaveCluster(deps: LeaveDeps, options: LeaveOptions = {}): Promise<LeaveResult> {
  const { coordinator, slotMap } = deps;
  const me = coordinator.nodeId;
  const startedMs = Date.now();
  const timeoutMs = options.timeoutMs ?? LEAVE_TIMEOUT_MS_DEFAULT;
  const lingerMs = options.lingerMs ?? LEAVE_LINGER_MS_DEFAULT;
  const report = (phase: LeavePhase) => {
    const view = mapView(slotMap, me);
    try {
      options.onProgress?.({
        phase,
        epoch: view.epoch,
        slotsOwned: view.slotsOwned,
        owners: view.owners.size,
        jobs: jobsOf(coordinator.members(), startedMs),
      });
    } catch {
      // A progress listener must not stop a leave half-way.
    }
    return view;
  };
  if (options.signal?.aborted) throw new LeaveAbortedError('aborted before it began');
  if (deps.role === 'client' || mapView(slotMap, me).slotsOwned === 0) {
    // Nothing to hand over: leaving is stopping.
    const view = report('left');
    await deps.stop();
    report('stopped');
    return { epoch: view.epoch, owners: view.owners.size };
  }
  checkLeave(deps);
  coordinator.setStatus('leaving');
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  // A commit wakes the wait at once; a fresh controller per wait, so one commit wakes one wait.
  let wake = new AbortController();
  const offCommit = slotMap.on('commit', () => wake.abort());
  let view = report('draining');
  try {
    while (view.slotsOwned > 0) {
      if (signal.aborted) {
        throw new LeaveAbortedError(
          timeout.aborted
            ? `no map without this peer committed within ${timeoutMs} ms`
            : 'aborted by the caller',
        );
      }
      if (!coordinator.running) throw new LeaveAbortedError('the peer stopped');
      await sleep(progressPeriodMs, AbortSignal.any([signal, wake.signal]));
      if (wake.signal.aborted) wake = new AbortController();
      view = report('draining');
    }
  } catch (error) {
    // Back to serving as an eligible owner; the next proposal puts this peer back where it was.
    if (coordinator.running) coordinator.setStatus('up');
    throw error;
  } finally {
    offCommit();
  }
  const left = { epoch: view.epoch, owners: view.owners.size };
  report('left');
  const lingerEnd = Date.now() + lingerMs;
  const settledAt = Date.now() + lingerSettleMs;
  const quiet = new AbortController();
  for (;;) {
    const now = Date.now();
    if (now >= lingerEnd) break;
    const copying = jobsOf(
      coordinator.members().filter((m) => m.id !== me),
      startedMs,
    ).some((j) => j.kind === 'slotcopy' && j.status === 'running');
    if (now >= settledAt && !copying) break;
    await sleep(progressPeriodMs, options.signal ?? quiet.signal);
    if (options.signal?.aborted) break;
    report('left');
  }
  await deps.stop();
  report('stopped');
  return left;
}
