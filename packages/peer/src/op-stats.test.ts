import { QuorumNotReachedError } from '@tessera/replication';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instrumentReplicator, OpStatsRecorder, opLatencySamplesMax, opLatencyWindowMs } from './op-stats.ts';

describe('OpStatsRecorder', () => {
  it('counts ops, quorum failures and other errors, and gives no percentiles before any op', () => {
    let nowMs = 0;
    const stats = new OpStatsRecorder(() => nowMs);
    expect(stats.snapshot()).toEqual({
      ops: 0,
      quorumFailures: 0,
      errors: 0,
      p50Ms: null,
      p99Ms: null,
      windowMs: opLatencyWindowMs,
    });
    stats.record(5);
    stats.record(7, new QuorumNotReachedError(2, 1));
    stats.record(9, new Error('boom'));
    nowMs = 1;
    expect(stats.snapshot()).toMatchObject({ ops: 3, quorumFailures: 1, errors: 1, p50Ms: 7, p99Ms: 9 });
  });

  it('percentiles cover only the window; counters keep counting', () => {
    let nowMs = 0;
    const stats = new OpStatsRecorder(() => nowMs);
    for (let i = 0; i < 100; i++) stats.record(1000);
    nowMs = opLatencyWindowMs + 1;
    for (let i = 1; i <= 100; i++) stats.record(i);
    expect(stats.snapshot()).toMatchObject({ ops: 200, p50Ms: 50, p99Ms: 99 });
    nowMs = 3 * opLatencyWindowMs;
    expect(stats.snapshot()).toMatchObject({ ops: 200, p50Ms: null, p99Ms: null });
  });

  it('nearest-rank percentiles match a sort of the newest samples, whatever the latencies', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (latencies) => {
          const stats = new OpStatsRecorder(() => 0);
          for (const ms of latencies) stats.record(ms);
          const sorted = latencies.slice(-opLatencySamplesMax).sort((a, b) => a - b);
          const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
          const snapshot = stats.snapshot();
          expect(snapshot.p50Ms).toBe(Math.round(at(0.5) * 10) / 10);
          expect(snapshot.p99Ms).toBe(Math.round(at(0.99) * 10) / 10);
        },
      ),
    );
  });

  it('keeps at most opLatencySamplesMax latencies, the newest', () => {
    const stats = new OpStatsRecorder(() => 0);
    for (let i = 0; i < opLatencySamplesMax; i++) stats.record(1000);
    for (let i = 0; i < opLatencySamplesMax; i++) stats.record(1);
    expect(stats.snapshot()).toMatchObject({ ops: 2 * opLatencySamplesMax, p50Ms: 1, p99Ms: 1 });
  });
});

describe('instrumentReplicator', () => {
  it('times put, get and delete, passes results and errors through unchanged', async () => {
    const calls: string[] = [];
    const failure = new QuorumNotReachedError(2, 0);
    const replicator = {
      async put(key: Uint8Array) {
        calls.push(`put ${key.length}`);
        return { ok: 'put' };
      },
      async get() {
        calls.push('get');
        throw failure;
      },
      async delete() {
        calls.push('delete');
        return { ok: 'delete' };
      },
    };
    const stats = new OpStatsRecorder();
    instrumentReplicator(replicator as never, stats);
    expect(await replicator.put(new Uint8Array(3))).toEqual({ ok: 'put' });
    await expect(replicator.get()).rejects.toBe(failure);
    expect(await replicator.delete()).toEqual({ ok: 'delete' });
    expect(calls).toEqual(['put 3', 'get', 'delete']);
    expect(stats.snapshot()).toMatchObject({ ops: 3, quorumFailures: 1, errors: 0 });
  });
});
