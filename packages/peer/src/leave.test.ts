/**
 * `peer.leave()` on four real in-process owners (N=3) over loopback TCP:
 * under a write load through the leaver and another peer, the leaver drains
 * to a committed map of the other three and stops; every acknowledged write
 * reads back. A second leave from the three left is refused (fewer than N
 * would remain) and that peer keeps serving.
 */
import { afterEach, expect, it } from 'vitest';
import { type LeaveProgress, LeaveRefusedError, type Peer } from './index.ts';
import { slotMapOwners, startTestPeer, tcpAddress, waitForSlotMap } from './testing/replication-cluster.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Writes `prefix:<n>` through `peer` until `stop()`; only writes that resolved count as acknowledged. */
function writeLoop(peer: Peer, prefix: string) {
  const acknowledged: string[] = [];
  let running = true;
  let failures = 0;
  const done = (async () => {
    for (let n = 0; running; n++) {
      const key = `${prefix}:${n}`;
      try {
        await peer.put(key, n, { idempotencyKey: key });
        acknowledged.push(key);
      } catch {
        failures += 1; // not acknowledged: the caller was told it failed
        if (peer.coordinator.running === false) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();
  return {
    acknowledged,
    failures: () => failures,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

it('a leaving owner hands its slots to the other three under writes, then stops; a leave below N is refused', async () => {
  const cluster = 'leave-four';
  const a = await startTestPeer(cleanups, cluster, []);
  const seed = tcpAddress(a);
  const others = [];
  for (let i = 0; i < 3; i++) others.push(await startTestPeer(cleanups, cluster, [seed]));
  const peers = [a, ...others];
  await waitForSlotMap(
    peers,
    peers.map((p) => p.id),
    [],
    240_000,
  );
  const leaver = peers[1]!;
  const stayers = peers.filter((p) => p !== leaver);
  const throughStayer = writeLoop(stayers[0]!, 'stayer');
  const throughLeaver = writeLoop(leaver, 'leaver');
  const seen: LeaveProgress[] = [];
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await leaver.leave({ onProgress: (p) => seen.push(p), timeoutMs: 240_000 });
  await throughLeaver.stop();
  await throughStayer.stop();

  expect(leaver.coordinator.running).toBe(false);
  expect(seen[0]).toMatchObject({ phase: 'draining', owners: 4 });
  expect(seen[0]!.slotsOwned).toBeGreaterThan(0);
  expect(seen.at(-1)).toMatchObject({ phase: 'stopped', slotsOwned: 0, owners: 3 });
  // The other owners copied the leaver's slots before acking: their jobs were part of the progress.
  expect(seen.some((p) => p.jobs.some((j) => j.kind === 'slotcopy' && j.peer !== leaver.id))).toBe(true);
  const map = await waitForSlotMap(
    stayers,
    stayers.map((p) => p.id),
  );
  expect(result).toEqual({ epoch: map.epoch, owners: 3 });
  expect(slotMapOwners(map)).not.toContain(leaver.id);
  for (const range of map.ranges) expect(range.owners).toHaveLength(3);

  const acknowledged = [...throughStayer.acknowledged, ...throughLeaver.acknowledged];
  console.log(
    `leave: epoch ${result.epoch}, ${throughStayer.acknowledged.length} writes acknowledged through a stayer and ${throughLeaver.acknowledged.length} through the leaver (${throughStayer.failures() + throughLeaver.failures()} refused), ${seen.length} progress reports`,
  );
  expect(throughLeaver.acknowledged.length).toBeGreaterThan(0);
  const missing: string[] = [];
  for (const key of acknowledged) {
    const read = await stayers[2]!.get(key, { consistency: 'all' });
    if (!read.found) missing.push(key);
  }
  expect(missing).toEqual([]);

  // Three owners left with N=3: a fourth leave would leave two copies of every slot.
  const refused = await stayers[0]!.leave().catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(LeaveRefusedError);
  expect((refused as LeaveRefusedError).reason).toBe('replicas');
  expect(stayers[0]!.coordinator.self().status).toBe('up');
  await stayers[0]!.put('after-refusal', 1);
  expect((await stayers[1]!.get('after-refusal')).found).toBe(true);
}, 600_000);
