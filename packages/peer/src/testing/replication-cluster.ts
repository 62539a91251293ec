/**
 * Helpers for the replication tests over real libp2p: peers with short
 * coordinator timings and repair periods, a fixed slot map shared by every
 * peer (replication's StaticPlacement, until the coordinator's slot map is
 * wired in), and conversion of `peer.get` results for the History checker.
 */
import type { CoordinatorTiming, SlotMap } from '@tessera/coordinator';
import type { ReadResult } from '@tessera/replication';
import type { History } from '@tessera/replication/testing';
import { openMemoryStore } from '@tessera/storage';
import type { DataReadResult } from '../data.ts';
import { createPeer } from '../index.ts';
import type { Peer, PeerReplicationOptions, PeerRole } from '../peer.ts';
import type { PeerSlotMapOptions } from '../peer-slot-map.ts';
import type { PeerProcess } from './peer-process-control.ts';
import { waitFor } from './wait.ts';

// Short, so failure detection happens within a test; generous enough for a
// loaded 2-core machine not to flap.
export const testTiming: Partial<CoordinatorTiming> = {
  statePeriodMs: 200,
  suspectAfterMs: 1500,
  downAfterMs: 3000,
  syncPeriodMs: 1000,
  syncIntervalMinMs: 200,
  requestTimeoutMs: 3000,
};

export const testReplication: Omit<PeerReplicationOptions, 'slots'> = {
  defaults: { replicationFactor: 3, consistency: 'quorum' },
  repair: { hintReplayPeriodMs: 300, antiEntropyPeriodMs: 1500, tombstoneReapPeriodMs: 60_000 },
  limits: { requestTimeoutMs: 3000, repairTimeoutMs: 5000 },
};

// A settle period long enough for every test peer (a child process is the slowest to start)
// to be seen before the first proposal, so most tests start from one map in one round (a late
// owner is taken in by a second round; the join test covers that). Long prepare timeouts so a
// slow copy on a loaded machine is not aborted.
export const testSlotMap: PeerSlotMapOptions = {
  timing: { settleMs: 4000, checkPeriodMs: 1000, prepareTimeoutMs: 30_000, ackHoldMs: 60_000 },
};

/** The last few slot-map abort reasons each test peer saw, for timeout reports. */
const abortsSeen = new WeakMap<Peer, string[]>();

/** The owners named anywhere in `map`, sorted. */
export function slotMapOwners(map: SlotMap): string[] {
  return [...new Set(map.ranges.flatMap((range) => range.owners))].sort();
}

/**
 * Waits until every peer (in-process and child processes) has committed the
 * same map epoch and that map's owners are exactly `owners`; resolves with it.
 */
export async function waitForSlotMap(
  peers: readonly Peer[],
  owners: readonly string[],
  processes: readonly PeerProcess[] = [],
  timeoutMs = 120_000,
): Promise<SlotMap> {
  const wanted = JSON.stringify([...owners].sort());
  return waitFor(
    async () => {
      const map = peers[0]?.slotMap.map;
      if (map === undefined || map.epoch === 0 || JSON.stringify(slotMapOwners(map)) !== wanted) return false;
      if (!peers.every((peer) => peer.slotMap.map.epoch === map.epoch)) return false;
      for (const child of processes) {
        const view = await child.call<{ epoch: number }>({ cmd: 'slotMap' });
        if (view.epoch !== map.epoch) return false;
      }
      return map;
    },
    { what: `a committed slot map over ${owners.length} owners on every peer`, timeoutMs, intervalMs: 200 },
  ).catch(async (error: unknown) => {
    // Say where each peer stood, so a timeout can be told apart from a stuck proposal.
    const views = peers.map((peer) => ({
      peer: peer.id.slice(-6),
      epoch: peer.slotMap.map.epoch,
      owners: slotMapOwners(peer.slotMap.map).map((id) => id.slice(-6)),
      pending: peer.slotMap.pending()?.epoch ?? null,
      stats: peer.slotMap.stats(),
      aborts: abortsSeen.get(peer) ?? [],
    }));
    throw new Error(
      `${String(error)}; views ${JSON.stringify(views)}; wanted ${owners.map((id) => id.slice(-6))}`,
      {
        cause: error,
      },
    );
  });
}

const t0 = Date.now();
/** With TESSERA_TRACE=1, test peers print coordinator/slot-map log lines (debugging aid, off by default). */
function traceLogger(cluster: string) {
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    console.error(
      `${((Date.now() - t0) / 1000).toFixed(2)} ${cluster} ${level} ${message} ${JSON.stringify(fields ?? {})}`,
    );
  return { debug: line('debug'), warn: line('warn') };
}
function traceSlotMapMessages(peer: Peer) {
  peer.on('message', ({ message }) => {
    if (message.messageType !== 'slotmap') return;
    const p = message.payload as {
      epoch?: number;
      ok?: boolean;
      reason?: string;
      proposal?: unknown[];
      required?: string[];
    };
    console.error(
      `${((Date.now() - t0) / 1000).toFixed(2)} ${peer.id.slice(-4)} got ${message.eventType} from ${message.from.slice(-4)} clock ${message.clock} ${JSON.stringify({ epoch: p.epoch, ok: p.ok, reason: p.reason, proposal: p.proposal?.map((x) => String(x).slice(-4)), required: p.required?.map((x) => x.slice(-4)) })}`,
    );
  });
  peer.slotMap.on('commit', ({ head }) =>
    console.error(
      `${((Date.now() - t0) / 1000).toFixed(2)} ${peer.id.slice(-4)} COMMIT epoch ${head.map.epoch}`,
    ),
  );
}

/** Starts an in-process peer on a memory store; `cleanups` gets its stop. */
export async function startTestPeer(
  cleanups: (() => Promise<void>)[],
  cluster: string,
  bootstrap: string[],
  role: PeerRole = 'owner',
): Promise<Peer> {
  const storage = await openMemoryStore();
  const peer = await createPeer({
    storage,
    cluster,
    bootstrap,
    role,
    timing: testTiming,
    bootstrapRetry: { delayMsMin: 100, delayMsMax: 1000 },
    memberDialing: { intervalMs: 500 },
    replication: testReplication,
    slotMap: testSlotMap,
    ...(process.env.TESSERA_TRACE ? { logger: traceLogger(cluster) } : {}),
  });
  if (process.env.TESSERA_TRACE) traceSlotMapMessages(peer);
  const aborts: string[] = [];
  abortsSeen.set(peer, aborts);
  peer.slotMap.on('abort', ({ reason }) => {
    aborts.push(reason);
    if (aborts.length > 3) aborts.shift();
  });
  cleanups.push(async () => {
    await peer.stop();
    await storage.close();
  });
  return peer;
}

/** The TCP address of a peer (tests dial TCP, not WebSockets). */
export function tcpAddress(peer: { multiaddrs: string[] }): string {
  const address = peer.multiaddrs.find((a) => !a.includes('/ws'));
  if (address === undefined) throw new Error('no TCP address');
  return address;
}

const encoder = new TextEncoder();

/** A `peer.get` result whose values are strings, as replication's History checker reads them. */
export function historyResult(read: DataReadResult): ReadResult {
  return {
    found: read.found,
    ...(read.found ? { value: encoder.encode(String(read.value)) } : {}),
    ...(read.version === undefined ? {} : { version: read.version }),
    siblings: read.siblings.map((s) => ({
      deleted: s.deleted,
      ...(s.value === undefined ? {} : { value: encoder.encode(String(s.value)) }),
      version: s.version,
    })),
    context: read.context,
    answered: read.answered,
    required: read.required,
  };
}

/**
 * One step of a client's load: put `key` = `value`, then get `readKey`, each
 * recorded in `history` with its outcome (an error counts as not acknowledged).
 */
export async function historyStep(
  history: History,
  client: string,
  peer: Pick<Peer, 'put' | 'get'>,
  key: string,
  value: string,
  readKey: string,
): Promise<void> {
  const wrote = history.write(client, key, value);
  try {
    wrote((await peer.put(key, value)).version);
  } catch (err) {
    wrote(err as Error);
  }
  const read = history.read(client, readKey);
  try {
    read(historyResult(await peer.get(readKey)));
  } catch (err) {
    read(err as Error);
  }
}
