import { describe, expect, it } from 'vitest';
import { QuorumNotReachedError } from './errors.ts';
import { startTestCluster } from './testing/index.ts';

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);

/** Attempts of an operation whose live owners' replies may time out on a loaded machine. */
const attemptsMax = 5;

/**
 * Runs `operation` again (at most `attemptsMax` times) while it fails in a way
 * only a reply slower than `requestTimeoutMs` explains, then returns or
 * throws its last outcome.
 */
async function retryWhileLoaded<T>(
  operation: () => Promise<T>,
  isSlow: (error: unknown) => boolean,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isSlow(error) || attempt >= attemptsMax) throw error;
    }
  }
}

/** A key whose first owner (primary) is `peer` in a StaticPlacement of `ids`, and one it does not own. */
async function withCluster<T>(
  peers: number,
  run: (cluster: Awaited<ReturnType<typeof startTestCluster>>) => Promise<T>,
) {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const cluster = await startTestCluster({ peers, seed });
  try {
    return await run(cluster);
  } catch (error) {
    console.error(`replicator test failed with seed ${seed}`);
    throw error;
  } finally {
    await cluster.close();
  }
}

describe('Replicator basics (N=3, quorum)', () => {
  it('writes from any peer land on the owners and read back from any peer', async () => {
    await withCluster(4, async (cluster) => {
      for (const [i, id] of cluster.ids.entries()) {
        const result = await cluster.at(id).put(enc(`key-${i}`), enc(`value-${i}`));
        expect(result.isDuplicate).toBe(false);
        expect(result.required).toBe(2);
        expect(result.acknowledged).toBeGreaterThanOrEqual(2);
      }
      await Promise.all(cluster.ids.map((id) => cluster.at(id).settle()));
      for (const [i] of cluster.ids.entries()) {
        for (const reader of cluster.ids) {
          const read = await cluster.at(reader).get(enc(`key-${i}`));
          expect(read.found).toBe(true);
          expect(dec(read.value)).toBe(`value-${i}`);
          expect(read.siblings).toEqual([]);
        }
      }
      // Exactly the three owners hold the record; the fourth peer holds nothing for it.
      const key = enc('key-0');
      const owners = cluster.placement.lookup((await import('@tessera/core')).keySlot(key)).owners;
      for (const id of cluster.ids) {
        const stored = await cluster.stores.get(id)!.get(key);
        expect(stored !== undefined).toBe(owners.includes(id));
      }
    });
  });

  it('writes whose quorum is in wait once fanOutInFlightMax sends to other owners are in flight', async () => {
    const fanOutInFlightMax = 4;
    const clients = 3;
    const cluster = await startTestCluster({
      peers: 3,
      seed: 11,
      delayMsMax: 20,
      replication: { replicationFactor: 3, consistency: 'one' },
      limits: { fanOutInFlightMax },
    });
    try {
      const writer = cluster.at('peer-0');
      let most = 0;
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          for (let i = 0; i < 10; i++) {
            await writer.put(enc(`k-${c}-${i}`), enc(`v-${i}`));
            most = Math.max(most, writer.fanOutInFlight);
          }
        }),
      );
      // A soft bound: each caller checks before it writes, so callers that passed together add theirs.
      expect(most).toBeLessThanOrEqual(fanOutInFlightMax + clients * 2);
      await writer.settle();
      expect(writer.fanOutInFlight).toBe(0);
      for (const id of cluster.ids) {
        for (let c = 0; c < clients; c++) {
          const read = await cluster.at(id).get(enc(`k-${c}-9`), { consistency: 'one' });
          expect(dec(read.value)).toBe('v-9');
        }
      }
    } finally {
      await cluster.close();
    }
  });

  it('a later write replaces an earlier one and a delete hides the key', async () => {
    await withCluster(3, async (cluster) => {
      const key = enc('k');
      const first = await cluster.at('peer-0').put(key, enc('one'));
      const second = await cluster.at('peer-1').put(key, enc('two'));
      expect(second.version.clock).toBeGreaterThan(first.version.clock);
      const read = await cluster.at('peer-2').get(key);
      expect(dec(read.value)).toBe('two');
      expect(read.siblings).toEqual([]);
      await cluster.at('peer-2').delete(key);
      const gone = await cluster.at('peer-0').get(key);
      expect(gone.found).toBe(false);
      expect(gone.value).toBeUndefined();
      expect(gone.version).toBeDefined();
    });
  });

  it('consistency all fails with QuorumNotReached when an owner is down, and says how many acknowledged', async () => {
    await withCluster(3, async (cluster) => {
      cluster.network.stop('peer-2');
      const key = enc('all-key');
      const error = await retryWhileLoaded(
        () => cluster.at('peer-0').put(key, enc('v'), { consistency: 'all' }),
        (e) => e instanceof QuorumNotReachedError && e.acknowledged < 2,
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QuorumNotReachedError);
      expect((error as QuorumNotReachedError).required).toBe(3);
      expect((error as QuorumNotReachedError).acknowledged).toBe(2);
      // Quorum still works, and `one` too.
      await expect(
        retryWhileLoaded(
          () => cluster.at('peer-0').put(key, enc('q')),
          (e) => e instanceof QuorumNotReachedError,
        ),
      ).resolves.toMatchObject({ required: 2 });
      await expect(cluster.at('peer-1').get(key, { consistency: 'one' })).resolves.toMatchObject({
        found: true,
      });
      await expect(
        retryWhileLoaded(
          () => cluster.at('peer-1').get(key, { consistency: 'all' }),
          (e) => e instanceof QuorumNotReachedError && e.acknowledged < 2,
        ),
      ).rejects.toMatchObject({
        name: 'QuorumNotReachedError',
        required: 3,
        acknowledged: 2,
      });
    });
  });

  it('with two of three owners down a quorum write fails and is not reported as success', async () => {
    await withCluster(3, async (cluster) => {
      cluster.network.stop('peer-1');
      cluster.network.stop('peer-2');
      await expect(cluster.at('peer-0').put(enc('x'), enc('v'))).rejects.toMatchObject({
        name: 'QuorumNotReachedError',
        required: 2,
        acknowledged: 1,
      });
      await expect(
        cluster.at('peer-0').put(enc('x'), enc('v'), { consistency: { w: 1 } }),
      ).resolves.toMatchObject({
        acknowledged: 1,
        required: 1,
      });
    });
  });

  it('rejects bad arguments with typed errors', async () => {
    await withCluster(3, async (cluster) => {
      const r = cluster.at('peer-0');
      await expect(r.put(new Uint8Array(0), enc('v'))).rejects.toMatchObject({
        name: 'InvalidArgumentError',
      });
      await expect(r.put(new Uint8Array(5000), enc('v'))).rejects.toMatchObject({
        name: 'LimitExceededError',
      });
      await expect(r.put(enc('k'), enc('v'), { consistency: { w: 4 } })).rejects.toMatchObject({
        name: 'InvalidArgumentError',
      });
      await expect(r.get(enc('k'), { consistency: { w: 2 } })).rejects.toMatchObject({
        name: 'InvalidArgumentError',
      });
      // A context that is not a read's context (here the old array form) is refused before anything is sent.
      const delivered = cluster.network.delivered;
      await expect(r.put(enc('k'), enc('v'), { context: [['peer-1~x', 1]] as never })).rejects.toMatchObject({
        name: 'InvalidArgumentError',
      });
      expect(cluster.network.delivered).toBe(delivered);
    });
  });
});

describe('idempotency keys', () => {
  it('a retried write is a no-op returning the original result', async () => {
    await withCluster(3, async (cluster) => {
      const key = enc('idem');
      const first = await cluster.at('peer-0').put(key, enc('v1'), { idempotencyKey: 'req-1' });
      await cluster.at('peer-1').put(key, enc('v2'));
      // Retried through another peer after a newer write: must not resurrect v1.
      const retry = await cluster.at('peer-2').put(key, enc('v1'), { idempotencyKey: 'req-1' });
      expect(retry.isDuplicate).toBe(true);
      expect(retry.version).toEqual(first.version);
      const read = await cluster.at('peer-0').get(key);
      expect(dec(read.value)).toBe('v2');
      await expect(
        cluster.at('peer-0').put(key, enc('other'), { idempotencyKey: 'req-1' }),
      ).rejects.toMatchObject({
        name: 'IdempotencyKeyConflictError',
      });
      // Scoped to the key: the same idempotency key on another key is a new write.
      const elsewhere = await cluster.at('peer-0').put(enc('idem-2'), enc('v1'), { idempotencyKey: 'req-1' });
      expect(elsewhere.isDuplicate).toBe(false);
    });
  });

  it('an idempotency record expires after idempotencyTtlMs', async () => {
    await withCluster(3, async (cluster) => {
      const key = enc('idem-ttl');
      await cluster.at('peer-0').put(key, enc('v1'), { idempotencyKey: 'req-9' });
      cluster.timers.advance(25 * 3600_000);
      const again = await cluster.at('peer-0').put(key, enc('v1'), { idempotencyKey: 'req-9' });
      expect(again.isDuplicate).toBe(false);
    });
  });
});

describe('concurrent writes', () => {
  it('writes minted on different owners become siblings with the same winner everywhere', async () => {
    await withCluster(3, async (cluster) => {
      const key = enc('contended');
      const owners = cluster.placement.lookup((await import('@tessera/core')).keySlot(key)).owners;
      // Each owner coordinates its own write at the same time: neither has seen the other.
      const results = await Promise.all(owners.map((id, i) => cluster.at(id).put(key, enc(`w${i}`))));
      await Promise.all(cluster.ids.map((id) => cluster.at(id).settle()));
      await cluster.repairUntilQuiet();
      const reads = await Promise.all(
        cluster.ids.map((id) => cluster.at(id).get(key, { consistency: 'all' })),
      );
      const expectedWinner = [...results].sort((a, b) =>
        a.version.clock !== b.version.clock
          ? b.version.clock - a.version.clock
          : b.version.node < a.version.node
            ? -1
            : 1,
      )[0]!;
      for (const read of reads) {
        expect(read.version).toEqual(expectedWinner.version);
        expect(read.siblings.length + 1).toBeGreaterThanOrEqual(2);
        expect(reads[0]!.siblings.map((s) => dec(s.value))).toEqual(read.siblings.map((s) => dec(s.value)));
      }
      // A write with the read's context replaces all siblings.
      await cluster.at('peer-0').put(key, enc('resolved'), { context: reads[0]!.context });
      const after = await cluster.at('peer-1').get(key, { consistency: 'all' });
      expect(dec(after.value)).toBe('resolved');
      expect(after.siblings).toEqual([]);
    });
  });
});

describe('frames per peer', () => {
  it('many concurrent puts travel in fewer frames than ops, each acknowledged with its own result', async () => {
    await withCluster(4, async (cluster) => {
      const writer = cluster.at('peer-3');
      await writer.put(enc('reused'), enc('first'), { idempotencyKey: 'ik-1' });
      await Promise.all(cluster.ids.map((id) => cluster.at(id).settle()));
      const keyCount = 200;
      const framesBefore = cluster.network.delivered;
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: keyCount }, (_, k) => writer.put(enc(`burst-${k}`), enc(`value-${k}`))),
        // Same idempotency key, other content: this op alone must fail, inside frames shared with the others.
        writer.put(enc('reused'), enc('second'), { idempotencyKey: 'ik-1' }),
      ]);
      await Promise.all(cluster.ids.map((id) => cluster.at(id).settle()));
      const frames = cluster.network.delivered - framesBefore;
      const conflict = outcomes.pop()!;
      expect(conflict.status).toBe('rejected');
      expect((conflict as PromiseRejectedResult).reason).toMatchObject({
        name: 'IdempotencyKeyConflictError',
      });
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('fulfilled');
        const result = (outcome as PromiseFulfilledResult<Awaited<ReturnType<typeof writer.put>>>).value;
        expect(result.acknowledged).toBeGreaterThanOrEqual(2);
        expect(result.required).toBe(2);
        expect(result.isDuplicate).toBe(false);
      }
      // Each put sends at least two ops to other peers (the writer is at most one of three owners):
      // one frame per op would be at least 2 * keyCount frames.
      console.info(`${keyCount} concurrent puts: ${frames} frames`);
      expect(frames).toBeLessThan(keyCount);
      for (let k = 0; k < keyCount; k++) {
        const read = await cluster.at('peer-0').get(enc(`burst-${k}`), { consistency: 'all' });
        expect(dec(read.value)).toBe(`value-${k}`);
      }
      expect(dec((await cluster.at('peer-1').get(enc('reused'), { consistency: 'all' })).value)).toBe(
        'first',
      );
    });
  });
});
