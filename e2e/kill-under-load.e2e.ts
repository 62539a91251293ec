/** A Node owner is SIGKILLed while two browsers write: no acknowledged write is lost. */
import { expect, type TestPeer, test } from '@tessera/testing';

test.use({ tesseraOptions: { nodes: 3, browsers: 2, replicationFactor: 3 } });

interface Load {
  readonly acked: Map<string, number>;
  failed: number;
}

/** Writes per browser at most, so the loop ends even if the test is torn down under it. */
const WRITES_PER_BROWSER_MAX = 2000;

/** Writes distinct keys one after the other until `stop()` says so; records what was acknowledged. */
async function writeLoop(peer: TestPeer, prefix: string, load: Load, stop: () => boolean): Promise<void> {
  for (let i = 0; i < WRITES_PER_BROWSER_MAX && !stop() && peer.running; i++) {
    const key = `${prefix}:${i}`;
    try {
      await peer.put(key, i, { consistency: 'quorum' });
      load.acked.set(key, i);
    } catch {
      // Not acknowledged: may or may not have landed, so it proves nothing either way.
      load.failed++;
    }
  }
}

test('no acknowledged write is lost when an owner is killed under browser load', async ({ tessera }) => {
  const [a, b] = tessera.browsers;
  const [n0, n1, n2] = tessera.nodes;
  if (a === undefined || b === undefined || n0 === undefined || n1 === undefined || n2 === undefined)
    throw new Error('three nodes and two browsers expected');
  const load: Load = { acked: new Map(), failed: 0 };
  const run = crypto.randomUUID();
  let ackedAtKill = 0;
  let stop = false;
  const writers = [writeLoop(a, `a-${run}`, load, () => stop), writeLoop(b, `b-${run}`, load, () => stop)];

  // Ends the loops even when an expectation below fails.
  const stopped = () => {
    stop = true;
    return Promise.all(writers);
  };
  try {
    await expect.poll(() => load.acked.size, { timeout: 60_000 }).toBeGreaterThanOrEqual(20);
  } catch (err) {
    await stopped();
    throw err;
  }
  await tessera.kill(n1);
  ackedAtKill = load.acked.size;
  // The load goes on against two owners of three (W = 2): writes keep being acknowledged.
  try {
    await expect.poll(() => load.acked.size, { timeout: 60_000 }).toBeGreaterThanOrEqual(ackedAtKill + 20);
  } finally {
    await stopped();
  }

  // Every acknowledged write reads back with quorum through both surviving owners.
  for (const reader of [n0, n2]) {
    const lost: string[] = [];
    for (const [key, value] of load.acked) {
      const read = await reader.get(key, { consistency: 'quorum' });
      if (!read.found || read.value !== value) lost.push(`${key}=${JSON.stringify(read)}`);
    }
    expect(lost).toEqual([]);
  }
  test.info().annotations.push({
    type: 'load',
    description: `${load.acked.size} acknowledged (${ackedAtKill} before the kill), ${load.failed} failed`,
  });
});
