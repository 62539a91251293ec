import { InvalidArgumentError } from '@tessera/core';
import { openMemoryStore } from '@tessera/storage';
import { describe, expect, it } from 'vitest';
import { JobFinishedError, JobNotFoundError } from './errors.ts';
import { createJobs } from './jobs.ts';
import type { Job } from './types.ts';

async function setup() {
  const store = await openMemoryStore();
  let now = 1000;
  const changes: Job[] = [];
  const jobs = createJobs({
    store,
    nodeId: 'p1',
    nowMs: () => now,
    idPrefix: () => 'p1/3',
    onChange: (job) => changes.push(job),
  });
  return { store, jobs, changes, tick: (ms: number) => (now += ms) };
}

describe('jobs', () => {
  it('creates, updates and lists J records that survive in the store', async () => {
    const { store, jobs, changes, tick } = await setup();
    const job = await jobs.create({ kind: 'migrate', slots: [[0, 99]], total: 100 });
    expect(job).toMatchObject({
      kind: 'migrate',
      status: 'pending',
      progress: { done: 0, total: 100 },
      node: 'p1',
    });
    expect(job.id.startsWith('p1/3/')).toBe(true);
    tick(50);
    const running = await jobs.update(job.id, { status: 'running', done: 40 });
    expect(running).toMatchObject({
      status: 'running',
      progress: { done: 40, total: 100 },
      createdMs: 1000,
      updatedMs: 1050,
    });
    const other = await jobs.create({ kind: 'repair' });
    expect((await jobs.list()).map((j) => j.id)).toEqual([job.id, other.id]);
    expect(changes.map((j) => j.status)).toEqual(['pending', 'running', 'pending']);
    // Re-read through a fresh API over the same store.
    const again = createJobs({ store, nodeId: 'p1', nowMs: () => 0, idPrefix: () => 'p1/4', onChange() {} });
    expect(await again.get(job.id)).toEqual(running);
  });

  it('rejects bad input with typed errors and changes nothing', async () => {
    const { jobs } = await setup();
    const job = await jobs.create({ kind: 'migrate', total: 10 });
    await expect(jobs.create({ kind: '' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(jobs.create({ kind: 'x', slots: [[5, 2]] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(jobs.create({ kind: 'x', slots: [[0, 16384]] })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(jobs.update(job.id, { done: 11 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(jobs.update(job.id, { status: 'bogus' as never })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(jobs.update('nope', { done: 1 })).rejects.toBeInstanceOf(JobNotFoundError);
    expect(await jobs.get(job.id)).toEqual(job);
    expect(await jobs.list()).toHaveLength(1);
    await jobs.update(job.id, { status: 'done', done: 10 });
    await expect(jobs.update(job.id, { status: 'running' })).rejects.toBeInstanceOf(JobFinishedError);
  });
});
