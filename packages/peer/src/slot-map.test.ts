import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SlotMap, validateSlotMap } from '@tessera/coordinator';
import { decodeValue, keySlot, SLOT_COUNT } from '@tessera/core';
import { decodeReply, encodeRequest, type ReadResult, recordFromWire, winnerOf } from '@tessera/replication';
import { History } from '@tessera/replication/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { kvRecordKey, type Peer, routingKeyOfRecord, SLOT_COPY_JOB_KIND } from './index.ts';

import { type PeerProcess, spawnPeerProcess } from './testing/peer-process-control.ts';
import {
  historyResult,
  historyStep,
  startTestPeer,
  tcpAddress,
  testReplication,
  testSlotMap,
  testTiming,
} from './testing/replication-cluster.ts';
import { waitFor } from './testing/wait.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface ProcessSlotMap {
  epoch: number;
  copies: number;
}

/** Slot copies `peer` holds in `map` (slots it is one of the owners of). */
function copiesOf(map: SlotMap, peer: string): number {
  let copies = 0;
  for (const range of map.ranges) if (range.owners.includes(peer)) copies += range.end - range.start + 1;
  return copies;
}

/**
 * A put retried (same idempotency key, so at most one write) while the quorum is missed: right
 * after a map commits on a machine busy with the whole suite, one replica request can time out.
 * The read-back assertions that follow are what the test is about.
 */
async function putRetrying(peer: Peer, key: string, value: unknown, idempotencyKey: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await peer.put(key, value, { idempotencyKey });
      return;
    } catch (error) {
      if (attempt >= 5 || (error as { name?: string }).name !== 'QuorumNotReachedError') throw error;
    }
  }
}

function ownersOfSlot(map: SlotMap, slot: number): readonly string[] {
  return map.ranges.find((r) => r.start <= slot && slot <= r.end)?.owners ?? [];
}

/** The values `peer`'s own replica holds for `keys` (undefined when it has no record), read without any network. */
async function localValues(peer: Peer, keys: readonly string[]): Promise<Map<string, unknown>> {
  const ops = keys.map((key) => ({ op: 'read' as const, key: kvRecordKey(key) }));
  const reply = decodeReply(await peer.replicaTransport.requestLocal(encodeRequest(0, ops)), ops.length);
  if ('error' in reply) throw new Error(reply.error.code);
  const out = new Map<string, unknown>();
  reply.results.forEach((raw, i) => {
    const wire = (raw as { record: unknown }).record;
    if (wire === null) return;
    const bytes = winnerOf(recordFromWire(wire)).value.bytes;
    out.set(keys[i]!, bytes === null ? null : decodeValue(bytes));
  });
  return out;
}

/** The slot a `peer.put` key lands in. */
const slotOfKey = (key: string) => keySlot(routingKeyOfRecord(kvRecordKey(key)));

/** Two in-process owners, one owner in a child process; resolves once all three agree on a committed map. */
async function threeOwners(cluster: string) {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-slotmap-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const a = await startTestPeer(cleanups, cluster, []);
  const seed = tcpAddress(a);
  const b = await startTestPeer(cleanups, cluster, [seed]);
  const c: PeerProcess = await spawnPeerProcess({
    cluster,
    bootstrap: [seed],
    dataDir,
    timing: testTiming,
    replication: testReplication,
    slotMap: testSlotMap,
  });
  cleanups.push(() => c.kill());
  const owners = [a.id, b.id, c.id].sort();
  await waitFor(
    async () => {
      const map = a.slotMap.map;
      if (map.epoch === 0) return false;
      const ownersInMap = new Set(map.ranges.flatMap((r) => r.owners));
      if (ownersInMap.size !== 3) return false;
      const onC = await c.call<ProcessSlotMap>({ cmd: 'slotMap' });
      return b.slotMap.map.epoch === map.epoch && onC.epoch === map.epoch;
    },
    // Usually seconds; under full-suite CPU contention an aborted round can hold owners for
    // ackHoldMs (60 s) before the next proposal is acked (a known liveness cost, issue 5).
    { what: 'a committed map over three owners on every peer', timeoutMs: 240_000, intervalMs: 200 },
  );
  return { a, b, c, seed, owners };
}

describe('the slot map inside every peer', () => {
  it('three owners commit a map of all 16384 slots with 3 owners each; put/get use it', async () => {
    const { a, b, c, seed, owners } = await threeOwners('slotmap-three');
    const map = a.slotMap.map;
    expect(() => validateSlotMap(map)).not.toThrow();
    let covered = 0;
    for (const range of map.ranges) {
      covered += range.end - range.start + 1;
      expect([...range.owners].sort()).toEqual(owners);
    }
    expect(covered).toBe(SLOT_COUNT);
    expect(map.replicas).toBe(3);
    // The data plane routes with the committed map, not a fixed one.
    expect(a.placement.slots).toBe(a.slotMap.placement);
    expect(a.placement.lookup(slotOfKey('k')).owners).toEqual(ownersOfSlot(map, slotOfKey('k')));

    const client = await startTestPeer(cleanups, 'slotmap-three', [seed], 'client');
    await waitFor(() => client.slotMap.map.epoch === map.epoch, { what: 'the client to follow the map' });
    await waitFor(
      () =>
        [a, b, client].every((peer) =>
          owners.every((id) => peer.members().find((m) => m.id === id)?.liveness === 'alive'),
        ),
      { what: 'every owner alive in every view' },
    );

    // Retried like putRetrying (the same value each time) when a busy machine misses the quorum once.
    let written: { acknowledged: number; required: number } | undefined;
    for (let attempt = 1; written === undefined; attempt++) {
      try {
        written = await c.call<{ acknowledged: number; required: number }>({
          cmd: 'put',
          key: 'from-c',
          value: 'written in the child',
        });
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
    expect(written.required).toBe(2);
    expect(await a.get('from-c')).toMatchObject({ found: true, value: 'written in the child' });
    await putRetrying(b, 'from-b', { n: 2 }, 'slotmap-three-b');
    expect(await c.call({ cmd: 'get', key: 'from-b' })).toMatchObject({ found: true, value: { n: 2 } });
    await putRetrying(client, 'from-client', 'via a client', 'slotmap-three-client');
    expect(await a.get('from-client')).toMatchObject({ found: true, value: 'via a client' });
    // A client follows but never proposes or acks.
    expect(client.slotMap.stats()).toMatchObject({ proposed: 0, acked: 0 });
  }, 360_000);

  it('a fourth owner joins under a write load: a new map commits, it owns a quarter, no acknowledged write is lost', async () => {
    const { a, b, c, seed } = await threeOwners('slotmap-join');
    const firstEpoch = a.slotMap.map.epoch;
    // Written once before the join and never again: the joiner must hold them when it acks.
    const fixed = Array.from({ length: 48 }, (_, i) => `fixed-${i}`);
    for (const key of fixed) await a.put(key, `value of ${key}`);
    const keys = Array.from({ length: 64 }, (_, i) => `key-${i}`);
    const history = new History();
    let running = true;
    const loops = [
      { name: 'a1', peer: a },
      { name: 'a2', peer: a },
      { name: 'b1', peer: b },
    ].map(async ({ name, peer }, n) => {
      let seq = 0;
      while (running) {
        const key = keys[(seq * 5 + n * 11) % keys.length]!;
        const value = `${name}-${seq++}`;
        await historyStep(history, name, peer, key, value, keys[(seq * 7 + n) % keys.length]!);
      }
    });
    cleanups.push(async () => {
      running = false;
      await Promise.all(loops);
    });
    await waitFor(() => history.acknowledgedWrites >= 100, {
      what: '100 acknowledged writes before the join',
    });

    // The moment another peer sees the joiner's ok ack, the joiner has copied and the change is not
    // committed yet (the COMMIT is still to be published and gossiped): read its replica right then.
    // Per proposal: a joiner that has not caught up may first ack a proposal that never commits.
    let d: Peer | undefined;
    const atAck = new Map<string, Promise<Map<string, unknown>>>();
    const stopWatching = b.on('message', ({ message }) => {
      const payload = message.payload as { ok?: unknown; proposal?: unknown } | null;
      if (
        d !== undefined &&
        message.messageType === 'slotmap' &&
        message.eventType === 'ack' &&
        message.from === d.id &&
        payload?.ok === true
      ) {
        atAck.set(JSON.stringify(payload.proposal), localValues(d, fixed));
      }
    });
    cleanups.push(async () => stopWatching());
    d = await startTestPeer(cleanups, 'slotmap-join', [seed]);
    const joiner = d;
    await waitFor(() => a.slotMap.map.epoch > firstEpoch && copiesOf(a.slotMap.map, joiner.id) > 0, {
      what: 'a map with the joiner committed',
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    const map = a.slotMap.map;
    await waitFor(
      async () =>
        joiner.slotMap.map.epoch === map.epoch &&
        b.slotMap.map.epoch === map.epoch &&
        (await c.call<ProcessSlotMap>({ cmd: 'slotMap' })).epoch === map.epoch,
      { what: 'every peer on the new map' },
    );
    // A quarter of the 3 × 16384 slot copies, within the assignment's 10%.
    const share = (3 * SLOT_COUNT) / 4;
    expect(Math.abs(copiesOf(map, joiner.id) - share)).toBeLessThanOrEqual(share * 0.1);
    for (const range of map.ranges) expect(range.owners).toHaveLength(3);
    const committed = atAck.get(JSON.stringify(a.slotMap.head.proposal));
    const heldAtAck = await (committed ?? Promise.reject(new Error("b never saw the joiner's ack")));
    const fixedMoved = fixed.filter((key) => ownersOfSlot(map, slotOfKey(key)).includes(joiner.id));
    expect(fixedMoved.length).toBeGreaterThan(0);
    for (const key of fixedMoved) expect(heldAtAck.get(key)).toBe(`value of ${key}`);
    // The joiner copied its slots before acking, recorded as a finished job (a round that aborted
    // under load leaves a cancelled one before it; a catch-up copy follows the commit).
    const jobs = (await joiner.coordinator.jobs.list())
      .filter((job) => job.kind === SLOT_COPY_JOB_KIND && job.status === 'done')
      .sort((x, y) => x.createdMs - y.createdMs);
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs[0]!.progress.done).toBe(jobs[0]!.progress.total);
    expect(jobs[0]!.progress.total).toBeGreaterThan(0);

    const ackedAtCommit = history.acknowledgedWrites;
    await waitFor(() => history.acknowledgedWrites >= ackedAtCommit + 60, {
      what: '60 writes on the new map',
      timeoutMs: 60_000,
    });
    running = false;
    await Promise.all(loops);

    // The old owners give up what moved to the joiner: handed over, dropped, nothing lost.
    const reclaimed = await a.replicator.reclaimUnowned({ afterMs: 0 });
    expect(reclaimed.dropped).toBeGreaterThan(0);
    await b.replicator.reclaimUnowned({ afterMs: 0 });
    for (const key of fixed) expect((await b.get(key)).value).toBe(`value of ${key}`);

    const moved = keys.filter((key) => ownersOfSlot(map, slotOfKey(key)).includes(joiner.id));
    expect(moved.length).toBeGreaterThan(0);
    const final = new Map<string, ReadResult>();
    for (const key of keys) final.set(key, historyResult(await joiner.get(key, { consistency: 'quorum' })));
    expect(history.check(final, { readYourWrites: true })).toEqual([]);
    expect(history.acknowledgedWrites).toBeGreaterThanOrEqual(160);
  }, 420_000);
});
