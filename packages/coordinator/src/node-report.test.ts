import { encodeValue } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { createCoordinator } from './coordinator.ts';
import { jobSummariesMax, jobSummaryFinishedKeepMs, nodeReportProblem, RecentJobs } from './node-report.ts';
import { Simulation } from './sim/simulation.ts';
import type { Job } from './types.ts';

const timing = { statePeriodMs: 200, suspectAfterMs: 1000, downAfterMs: 3000, syncPeriodMs: 1000 };

const job = (id: string, over: Partial<Job> = {}): Job => ({
  id,
  kind: 'migrate',
  status: 'running',
  progress: { done: 1, total: 10 },
  slots: [
    [0, 99],
    [200, 200],
  ],
  node: 'p000',
  createdMs: 0,
  updatedMs: 0,
  error: null,
  ...over,
});

const ops = { ops: 10, quorumFailures: 2, errors: 1, p50Ms: 3.5, p99Ms: 40, windowMs: 10_000 };

describe('RecentJobs', () => {
  it('keeps the most recently updated jobs, newest first, with their slot count', () => {
    const jobs = new RecentJobs();
    for (let i = 0; i < jobSummariesMax + 3; i++) jobs.add(job(`j${i}`, { updatedMs: i }));
    jobs.add(job('j4', { updatedMs: 100, progress: { done: 7, total: 10 } }));
    const list = jobs.list(100);
    expect(list).toHaveLength(jobSummariesMax);
    expect(list.map((j) => j.id)).toEqual(['j4', 'j10', 'j9', 'j8', 'j7', 'j6', 'j5', 'j3']);
    expect(list[0]).toEqual({
      id: 'j4',
      kind: 'migrate',
      status: 'running',
      done: 7,
      total: 10,
      slots: 101,
      updatedMs: 100,
    });
  });

  it('drops a finished job once it is older than the keep time, never an unfinished one', () => {
    const jobs = new RecentJobs();
    jobs.add(job('old-running', { updatedMs: 0 }));
    jobs.add(job('finished', { status: 'done', updatedMs: 0 }));
    expect(jobs.list(jobSummaryFinishedKeepMs).map((j) => j.id)).toEqual(['finished', 'old-running']);
    expect(jobs.list(jobSummaryFinishedKeepMs + 1).map((j) => j.id)).toEqual(['old-running']);
  });
});

describe('nodeReportProblem', () => {
  it('accepts absent and well-formed report fields', () => {
    const jobs = new RecentJobs();
    jobs.add(job('a'));
    expect(nodeReportProblem({})).toBeNull();
    expect(nodeReportProblem({ ops, jobs: jobs.list(0) })).toBeNull();
    expect(nodeReportProblem({ ops: { ...ops, p50Ms: null, p99Ms: null } })).toBeNull();
  });

  it.each([
    ['failures beyond ops', { ops: { ...ops, quorumFailures: 11 } }, 'bad ops'],
    ['a negative count', { ops: { ...ops, ops: -1 } }, 'bad ops'],
    ['a NaN percentile', { ops: { ...ops, p99Ms: Number.NaN } }, 'bad ops'],
    ['a missing field', { ops: { ops: 1 } }, 'bad ops'],
    ['ops not a map', { ops: [1, 2] }, 'bad ops'],
    ['jobs not a list', { jobs: 'x' }, 'bad jobs'],
    ['too many jobs', { jobs: Array.from({ length: jobSummariesMax + 1 }, () => ({})) }, 'bad jobs'],
    [
      'done beyond total',
      { jobs: [{ id: 'a', kind: 'k', status: 'running', done: 5, total: 4, slots: 1, updatedMs: 0 }] },
      'bad jobs',
    ],
    [
      'an unknown status',
      { jobs: [{ id: 'a', kind: 'k', status: 'bogus', done: 0, total: 0, slots: 1, updatedMs: 0 }] },
      'bad jobs',
    ],
  ])('refuses %s', (_name, state, problem) => {
    expect(nodeReportProblem(state as Record<string, unknown>)).toBe(problem);
  });
});

describe('node state carries the report over gossip', () => {
  it("another peer sees this peer's ops and job progress; a state with a bad report is dropped", async () => {
    const sim = new Simulation({ seed: 11, delayMsMin: 1, delayMsMax: 5 });
    const envA = await sim.addPeer('p000');
    const envB = await sim.addPeer('p001');
    const evil = await sim.addPeer('evil');
    let reported = { ...ops, ops: 0, quorumFailures: 0, errors: 0 };
    const a = createCoordinator({
      ...envA,
      cluster: 'sim',
      role: 'owner',
      timing,
      report: () => ({ ops: reported }),
    });
    const b = createCoordinator({ ...envB, cluster: 'sim', role: 'owner', timing });
    const started = Promise.all([a.start(), b.start()]);
    await sim.runFor(1);
    await started;
    reported = ops;
    const created = await a.jobs.create({ kind: 'repair', slots: [[0, 9]], total: 50, status: 'running' });
    await a.jobs.update(created.id, { done: 20 });
    await sim.runFor(1000);
    const seen = b.members().find((m) => m.id === 'p000')?.state;
    expect(seen?.ops).toEqual(ops);
    expect(seen?.jobs).toEqual([
      {
        id: created.id,
        kind: 'repair',
        status: 'running',
        done: 20,
        total: 50,
        slots: 10,
        updatedMs: expect.any(Number),
      },
    ]);
    // B reports no ops (no report option) and has no jobs: neither field is sent.
    const ofB = a.members().find((m) => m.id === 'p001')?.state;
    expect(ofB).toBeDefined();
    expect('ops' in (ofB as object) || 'jobs' in (ofB as object)).toBe(false);

    const malformedBefore = b.stats().dropped.malformed;
    evil.network.broadcast(
      encodeValue({
        v: 1,
        kind: 'state',
        id: 'evil',
        cluster: 'sim',
        host: '',
        addresses: [],
        clock: 1,
        time: 0,
        status: 'up',
        role: 'owner',
        incarnation: 1,
        version: 1,
        storage: { usedBytes: 0, quotaBytes: null },
        log: { clock: 0, count: 0, hash: 0 },
        ops: { ...ops, quorumFailures: 99 },
      }),
    );
    await sim.runFor(50);
    expect(b.stats().dropped.malformed).toBe(malformedBefore + 1);
    expect(b.members().some((m) => m.id === 'evil')).toBe(false);
    const stopped = Promise.all([a.stop(), b.stop()]);
    await sim.runFor(100);
    await stopped;
    expect(sim.errors).toEqual([]);
  });
});
