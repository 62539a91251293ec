/**
 * A Node peer in its own process, for tests that kill real processes and
 * for the browser tests' relay. Run as
 *   node --conditions=source peer-process.ts '<json config>'
 * It prints one JSON object per line on stdout (`{"event":"ready",…}` first)
 * and takes one JSON command per line on stdin. It exits when stdin closes,
 * so it never outlives the test process that spawned it.
 */
import { createInterface } from 'node:readline';
import type { CoordinatorTiming } from '@tessera/coordinator';
import { decodeKey, encodeValue, keyPrefix, keySlot } from '@tessera/core';
import { decodeReply, encodeRequest, mint, opsPerFrameMax, type ReplicaOp } from '@tessera/replication';
import { StaticPlacement } from '@tessera/replication/testing';
import { openMemoryStore, type Store } from '@tessera/storage';
import { openFsStore } from '@tessera/storage-fs';
import { kvRecordKey } from '../data.ts';
import { createPeer } from '../index.ts';
import type { PeerReplicationOptions } from '../peer.ts';
import type { PeerSlotMapOptions } from '../peer-slot-map.ts';
import { runLoad } from './load.ts';

/** What the spawning test passes as the first argument. */
export interface PeerProcessConfig {
  readonly cluster: string;
  readonly bootstrap?: readonly string[];
  readonly listen?: readonly string[];
  /** Directory of a filesystem store, kept across restarts (identity, log, incarnation); memory store when omitted. */
  readonly dataDir?: string;
  readonly timing?: Partial<CoordinatorTiming>;
  /** Replication options that survive JSON (no slot lookup: send a `placement` command). */
  readonly replication?: Omit<PeerReplicationOptions, 'slots'>;
  readonly replicationFactor?: number;
  readonly slotMap?: PeerSlotMapOptions;
}

const config = JSON.parse(process.argv[2] ?? '{}') as PeerProcessConfig;
const out = (value: object): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

const storage: Store =
  config.dataDir === undefined ? await openMemoryStore() : await openFsStore(config.dataDir);
/** TESSERA_TRACE=1: coordinator and slot-map debug lines on stderr, prefixed with time and a short peer tag. */
const traceStarted = Date.now();
let traceTag = 'peer';
const traceLine = (level: string) => (message: string, fields?: Record<string, unknown>) =>
  process.stderr.write(
    `${((Date.now() - traceStarted) / 1000).toFixed(2)} ${traceTag} ${level} ${message} ${JSON.stringify(fields ?? {})}\n`,
  );

const peer = await createPeer({
  storage,
  cluster: config.cluster,
  ...(process.env.TESSERA_TRACE ? { logger: { debug: traceLine('debug'), warn: traceLine('warn') } } : {}),
  ...(config.bootstrap === undefined ? {} : { bootstrap: config.bootstrap }),
  ...(config.listen === undefined ? {} : { listen: config.listen }),
  ...(config.timing === undefined ? {} : { timing: config.timing }),
  bootstrapRetry: { delayMsMin: 100, delayMsMax: 1000 },
  memberDialing: { intervalMs: 500 },
  ...(config.replication === undefined ? {} : { replication: config.replication }),
  ...(config.replicationFactor === undefined ? {} : { replicationFactor: config.replicationFactor }),
  ...(config.slotMap === undefined ? {} : { slotMap: config.slotMap }),
});

traceTag = peer.id.slice(-6);
if (process.env.TESSERA_TRACE) {
  peer.slotMap.on('commit', ({ head }) => traceLine('info')(`slot map: COMMIT epoch ${head.map.epoch}`));
}

peer.network.onBroadcast((data, from) =>
  out({ event: 'broadcast', from, text: new TextDecoder().decode(data) }),
);

/** Prints this peer's membership view and ordered log, so tests compare it with in-process peers. */
async function reportState(): Promise<void> {
  const log: { clock: number; from: string; payload: unknown }[] = [];
  // Slot-map messages are left out: the state view compares the other coordinator messages.
  for await (const message of peer.messages())
    if (message.messageType !== 'slotmap')
      log.push({ clock: message.clock, from: message.from, payload: message.payload });
  const members = peer.members().map((member) => ({
    id: member.id,
    status: member.status,
    liveness: member.liveness,
    incarnation: member.incarnation,
  }));
  out({ event: 'state', members, log });
}

peer.on('message', ({ message, source }) => {
  if (source !== 'local') out({ event: 'message', payload: message.payload, source });
});

/** Data-plane commands carry an `id`; the answer is `{ event: 'result', id, ok, result | error }`. */
interface DataCommand {
  readonly cmd: string;
  readonly id: number;
  readonly key?: string;
  readonly value?: unknown;
  readonly options?: object;
  readonly peers?: string[];
  readonly ownersPerSlot?: number;
  /** `bench`: what to run. */
  readonly bench?: {
    readonly op: 'put' | 'get' | 'storePut' | 'storeGet';
    readonly clients: number;
    readonly warmupMs: number;
    readonly durationMs: number;
    readonly valueBytes: number;
    readonly keysPerClient: number;
    readonly consistency?: 'one' | 'quorum' | 'all';
  };
  /** `job`: a job record this peer creates (running) and sets to `done` of `total`. */
  readonly job?: { readonly kind: string; readonly total: number; readonly done: number };
  /** `bulkLoad`: keys `<prefix><i>` for i in [from, from + count), each value `valueBytes` bytes. */
  readonly bulk?: {
    readonly prefix: string;
    readonly from: number;
    readonly count: number;
    readonly valueBytes: number;
  };
  /** `jobs`: only jobs of this kind. */
  readonly kind?: string;
  /** `recordCount`: count only records of slots this peer owns in its current slot map. */
  readonly owned?: boolean;
  /** `cpuBusy`: the window to measure this process's CPU use over. */
  readonly ms?: number;
}

/** Apply frames in flight per owner during `bulkLoad`: enough to keep each owner's store batches full. */
const bulkFramesInFlightPerOwner = 4;
/** Tries per apply frame during `bulkLoad`. */
const bulkSendAttemptsMax = 5;

/**
 * Loads keys straight into every owner's replica, far faster than quorum
 * puts: this peer mints each record as a put's coordinating owner would
 * (its actor, a fresh Lamport tick as stamp and dot) and sends full frames
 * of replication `apply` ops to each of the key's first N owners (itself
 * through the local path). Used by benchmarks to preload a cluster.
 */
async function bulkLoad(
  spec: NonNullable<DataCommand['bulk']>,
): Promise<{ records: number; frames: number }> {
  const { replicator, replicaTransport } = peer;
  const n = config.replication?.defaults?.replicationFactor ?? 3;
  const value = encodeValue(new Uint8Array(spec.valueBytes).map((_, i) => (i * 31) & 0xff));
  const queues = new Map<string, ReplicaOp[]>();
  const inFlight = new Map<string, Set<Promise<void>>>();
  let frames = 0;
  const send = async (owner: string, ops: ReplicaOp[]) => {
    const frame = encodeRequest(replicator.clock.tick(), ops);
    let bytes: Uint8Array | undefined;
    // Applies merge, so a frame resent after a lost reply changes nothing; a loaded machine drops a stream now and then.
    for (let attempt = 1; bytes === undefined; attempt++) {
      try {
        bytes =
          owner === peer.id
            ? await replicaTransport.requestLocal(frame)
            : await replicaTransport.request(owner, frame, { timeoutMs: 60_000 });
      } catch (error) {
        if (attempt >= bulkSendAttemptsMax)
          throw new Error(
            `apply frame to ${owner} failed ${attempt} times: ${String(error)} (${String((error as Error).cause)})`,
            { cause: error },
          );
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
    const reply = decodeReply(bytes, ops.length);
    if ('error' in reply) throw new Error(`${owner} refused an apply frame: ${reply.error.code}`);
    replicator.clock.receive(reply.clock);
    for (const result of reply.results) {
      if ((result as { ok?: unknown }).ok !== true)
        throw new Error(`${owner} refused an apply: ${JSON.stringify(result)}`);
    }
    frames += 1;
  };
  const flush = async (owner: string) => {
    const ops = queues.get(owner);
    if (ops === undefined || ops.length === 0) return;
    queues.set(owner, []);
    const pending = inFlight.get(owner) ?? new Set<Promise<void>>();
    inFlight.set(owner, pending);
    while (pending.size >= bulkFramesInFlightPerOwner) await Promise.race(pending);
    const task = send(owner, ops).finally(() => pending.delete(task));
    pending.add(task);
    // A failed frame rejects here on the next race or at the final wait.
    task.catch(() => undefined);
  };
  const encoder = new TextEncoder();
  for (let i = spec.from; i < spec.from + spec.count; i++) {
    const userKey = encoder.encode(`${spec.prefix}${i}`);
    const key = kvRecordKey(userKey);
    const slot = keySlot(userKey);
    const { record } = mint([], {
      actor: replicator.actor,
      clock: replicator.clock.tick(),
      payload: { bytes: value, mintedMs: Date.now() },
    });
    for (const owner of peer.placement.lookup(slot).owners.slice(0, n)) {
      const ops = queues.get(owner) ?? [];
      queues.set(owner, ops);
      ops.push({ op: 'apply', key, slot, record });
      if (ops.length >= opsPerFrameMax) await flush(owner);
    }
  }
  for (const owner of [...queues.keys()]) await flush(owner);
  for (const pending of inFlight.values()) await Promise.all(pending);
  return { records: spec.count, frames };
}

/** Records this peer's replica holds: entries of its slot index (one per record key). */
/**
 * Records in this peer's replica (one slot-index entry each). `owned`: only
 * those of slots it owns now; a peer keeps the records of slots it gave away.
 */
async function replicaRecordCount(owned = false): Promise<number> {
  let count = 0;
  for await (const { key } of storage.scan({ prefix: keyPrefix('S', ['repl.slot']) })) {
    if (owned) {
      const slot = decodeKey(key).elements[1];
      if (typeof slot !== 'number' || !peer.placement.lookup(slot).owners.includes(peer.id)) continue;
    }
    count += 1;
  }
  return count;
}

/** Benchmark keys are per process and client, so processes never write the same key. */
function benchKey(client: number, i: number, keysPerClient: number): string {
  return `bench-${peer.id.slice(-8)}-${client}-${i % keysPerClient}`;
}

/** Keys each client of a write run wrote (per op family), so a read run asks only for keys that exist. */
const writtenKeys = { peer: new Map<number, number>(), store: new Map<number, number>() };

function noteWritten(family: Map<number, number>, client: number, i: number, keysPerClient: number): void {
  family.set(client, Math.max(family.get(client) ?? 0, Math.min(i + 1, keysPerClient)));
}

/** The key a reader asks for: one its client's writer wrote (a read run follows a write run). */
function readKey(family: Map<number, number>, client: number, i: number): string {
  const written = family.get(client) ?? 0;
  if (written === 0) throw new Error('benchmark read before any write of this client');
  return benchKey(client, i % written, written);
}

function runBench(spec: NonNullable<DataCommand['bench']>) {
  const value = new Uint8Array(spec.valueBytes).map((_, i) => (i * 31) & 0xff);
  const options = spec.consistency === undefined ? {} : { consistency: spec.consistency };
  const encoder = new TextEncoder();
  const ops = {
    put: async (client: number, i: number) => {
      await peer.put(benchKey(client, i, spec.keysPerClient), value, options);
      noteWritten(writtenKeys.peer, client, i, spec.keysPerClient);
    },
    get: async (client: number, i: number) => {
      const read = await peer.get(readKey(writtenKeys.peer, client, i), options);
      if (!read.found) throw new Error('benchmark key not found');
    },
    storePut: async (client: number, i: number) => {
      await storage.put(encoder.encode(benchKey(client, i, spec.keysPerClient)), value);
      noteWritten(writtenKeys.store, client, i, spec.keysPerClient);
    },
    storeGet: async (client: number, i: number) => {
      if ((await storage.get(encoder.encode(readKey(writtenKeys.store, client, i)))) === undefined)
        throw new Error('benchmark key not found');
    },
  };
  return runLoad(spec.clients, spec.warmupMs, spec.durationMs, ops[spec.op]);
}

async function runData(command: DataCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'placement':
      peer.placement.slots = new StaticPlacement(command.peers ?? [], command.ownersPerSlot ?? 3);
      return null;
    case 'slotMap': {
      const { map } = peer.slotMap;
      let copies = 0;
      for (const range of map.ranges)
        if (range.owners.includes(peer.id)) copies += range.end - range.start + 1;
      const owners = [...new Set(map.ranges.flatMap((range) => range.owners))].sort();
      const alive = peer.members().filter((member) => member.liveness === 'alive').length;
      const { pulled, duplicates } = peer.coordinator.stats() as unknown as Record<string, number>;
      return {
        epoch: map.epoch,
        ranges: map.ranges.length,
        owners,
        copies,
        stats: peer.slotMap.stats(),
        // For diagnosing a peer stuck behind: its view of the members and of the coordinator log.
        alive,
        log: { ...peer.coordinator.logSummary(), pulled, duplicates },
      };
    }
    case 'put':
      return await peer.put(command.key ?? '', command.value, command.options);
    case 'get':
      return await peer.get(command.key ?? '', command.options);
    case 'delete':
      return await peer.delete(command.key ?? '', command.options);
    case 'underReplicated':
      return peer.underReplicatedSlots();
    case 'hintCount':
      return peer.replicator.hintCount;
    case 'members':
      return peer.members().map((member) => ({ id: member.id, liveness: member.liveness }));
    case 'bench':
      if (command.bench === undefined) throw new Error('bench needs a spec');
      return await runBench(command.bench);
    case 'job': {
      if (command.job === undefined) throw new Error('job needs a spec');
      const { kind, total, done } = command.job;
      const job = await peer.coordinator.jobs.create({ kind, total, slots: [[0, 99]], status: 'running' });
      return await peer.coordinator.jobs.update(job.id, { done });
    }
    case 'bulkLoad':
      if (command.bulk === undefined) throw new Error('bulkLoad needs a spec');
      return await bulkLoad(command.bulk);
    case 'recordCount':
      return await replicaRecordCount(command.owned === true);
    case 'cpuBusy': {
      // The fraction of one core this process used over the window (all its threads): benchmarks
      // wait for startup work (slot copies, the first anti-entropy passes) to end before measuring.
      const before = process.cpuUsage();
      const windowMs = command.ms ?? 1000;
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000 / windowMs;
    }
    case 'jobs': {
      const jobs = await peer.coordinator.jobs.list();
      return command.kind === undefined ? jobs : jobs.filter((job) => job.kind === command.kind);
    }
    default:
      throw new Error(`unknown command ${command.cmd}`);
  }
}

function answer(command: DataCommand): void {
  runData(command).then(
    (result) => out({ event: 'result', id: command.id, ok: true, result }),
    (err: unknown) => {
      const error = err as { name?: string; code?: string; message?: string; acknowledged?: number };
      out({
        event: 'result',
        id: command.id,
        ok: false,
        error: {
          name: error.name,
          code: error.code,
          message: error.message,
          acknowledged: error.acknowledged,
        },
      });
    },
  );
}

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await peer.stop();
  await storage.close();
  process.exit(0);
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const command = JSON.parse(line) as { cmd: string; id?: number; text?: string; payload?: unknown };
    if (typeof command.id === 'number') {
      answer(command as DataCommand);
      return;
    }
    if (command.cmd === 'broadcast') peer.network.broadcast(new TextEncoder().encode(command.text ?? ''));
    if (command.cmd === 'connected') out({ event: 'connected', peers: peer.network.connectedPeers() });
    if (command.cmd === 'publish') {
      void peer
        .publish({ messageType: 'test', eventType: 'created', payload: command.payload ?? null })
        .then((message) => out({ event: 'published', clock: message.clock }));
    }
    if (command.cmd === 'state') void reportState();
    if (command.cmd === 'stats')
      out({ event: 'stats', network: peer.network.stats, coordinator: peer.coordinator.stats() });
    if (command.cmd === 'stop') void shutdown();
  })
  .on('close', () => void shutdown());

out({ event: 'ready', id: peer.id, multiaddrs: peer.multiaddrs });
