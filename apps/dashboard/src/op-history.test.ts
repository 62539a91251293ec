import type { Liveness, Member, NodeState, OpStats } from '@tessera/coordinator';
import { describe, expect, it } from 'vitest';
import { CHART_PEERS_MAX, CHART_WINDOW_MS, OpHistory } from './op-history.ts';

const baseOps: OpStats = { ops: 0, quorumFailures: 0, errors: 0, p50Ms: null, p99Ms: null, windowMs: 10_000 };

function member(
  id: string,
  at: { time: number; version: number; incarnation?: number; liveness?: Liveness },
  ops: Partial<OpStats> | undefined,
): Member {
  const state: NodeState = {
    id,
    cluster: 'c',
    host: '',
    addresses: [],
    clock: 1,
    time: at.time,
    status: 'up',
    role: 'owner',
    incarnation: at.incarnation ?? 1,
    version: at.version,
    storage: { usedBytes: 0, quotaBytes: null },
    log: { clock: 0, count: 0, hash: 0 },
    ...(ops === undefined ? {} : { ops: { ...baseOps, ...ops } }),
  };
  return {
    id,
    status: 'up',
    liveness: at.liveness ?? 'alive',
    role: 'owner',
    incarnation: state.incarnation,
    lastHeardMs: 0,
    state,
  };
}

describe('OpHistory', () => {
  it("turns a peer's counters into rates over its own publish times, once per state", () => {
    const history = new OpHistory();
    history.observe([member('a', { time: 10_000, version: 1 }, { ops: 0 })], 1_000);
    history.observe(
      [member('a', { time: 12_000, version: 2 }, { ops: 100, quorumFailures: 4, p50Ms: 3, p99Ms: 30 })],
      2_000,
    );
    // The same state again (every refresh sees it) adds nothing.
    history.observe([member('a', { time: 12_000, version: 2 }, { ops: 100, quorumFailures: 4 })], 2_500);
    const view = history.view(3_000, 5_000);
    expect(view.peers).toHaveLength(1);
    expect(view.peers[0]?.points).toEqual([
      { atMs: 2_000, opsPerSec: 50, quorumFailuresPerSec: 2, errorsPerSec: 0, p50Ms: 3, p99Ms: 30 },
    ]);
    expect(view.peers[0]?.totals.ops).toBe(100);
    expect(view.peers[0]?.stale).toBe(false);
  });

  it('a restarted peer (new incarnation, counters from zero) starts a new baseline, never a negative rate', () => {
    const history = new OpHistory();
    history.observe([member('a', { time: 0, version: 1 }, { ops: 500 })], 0);
    history.observe([member('a', { time: 1_000, version: 1, incarnation: 2 }, { ops: 10 })], 1_000);
    history.observe([member('a', { time: 2_000, version: 2, incarnation: 2 }, { ops: 30 })], 2_000);
    expect(history.view(2_000, 5_000).peers[0]?.points.map((p) => p.opsPerSec)).toEqual([20]);
  });

  it('peers without ops in their state are not charted', () => {
    const history = new OpHistory();
    history.observe([member('old', { time: 0, version: 1 }, undefined)], 0);
    expect(history.view(0, 5_000).peers).toEqual([]);
  });

  it('the cluster series sums the peers heard recently and drops a silent one', () => {
    const history = new OpHistory();
    history.observe([member('a', { time: 0, version: 1 }, {}), member('b', { time: 0, version: 1 }, {})], 0);
    history.observe(
      [
        member('a', { time: 1_000, version: 2 }, { ops: 10, p99Ms: 5 }),
        member('b', { time: 1_000, version: 2 }, { ops: 30, p99Ms: 9 }),
      ],
      1_000,
    );
    history.observe([member('a', { time: 2_000, version: 3 }, { ops: 30, p99Ms: 7 })], 2_000);
    const view = history.view(20_000, 60_000);
    const at = (ms: number) => view.cluster.find((point) => point.atMs === ms);
    expect(at(1_000)).toEqual({ atMs: 1_000, opsPerSec: 40, quorumFailuresPerSec: 0, p99MsMax: 9, peers: 2 });
    expect(at(2_000)).toEqual({ atMs: 2_000, opsPerSec: 50, quorumFailuresPerSec: 0, p99MsMax: 9, peers: 2 });
    // b silent since 1 s stops counting after the hold time; a since 2 s a second later.
    expect(at(6_000)?.peers).toBe(2);
    expect(at(7_000)).toMatchObject({ opsPerSec: 20, peers: 1 });
    expect(at(8_000)).toBeUndefined();
  });

  it('marks a peer stale when it has not reported for staleAfterMs or is no longer alive', () => {
    const history = new OpHistory();
    history.observe([member('a', { time: 0, version: 1 }, {}), member('b', { time: 0, version: 1 }, {})], 0);
    history.observe(
      [
        member('a', { time: 0, version: 1 }, {}),
        member('b', { time: 0, version: 1, liveness: 'suspect' }, {}),
      ],
      100,
    );
    const stale = (nowMs: number) =>
      Object.fromEntries(history.view(nowMs, 3_000).peers.map((p) => [p.id, p.stale]));
    expect(stale(1_000)).toEqual({ a: false, b: true });
    expect(stale(3_001)).toEqual({ a: true, b: true });
  });

  it('stays bounded: points older than the window go, and at most CHART_PEERS_MAX peers are kept', () => {
    const history = new OpHistory();
    for (let i = 0; i <= 200; i++)
      history.observe([member('a', { time: i * 1_000, version: i + 1 }, { ops: i })], i * 1_000);
    const points = history.view(200_000, 5_000).peers[0]?.points ?? [];
    expect(points.length).toBeLessThanOrEqual(CHART_WINDOW_MS / 1_000 + 1);
    expect(points.every((p) => p.atMs >= 200_000 - CHART_WINDOW_MS)).toBe(true);
    const many = Array.from({ length: CHART_PEERS_MAX + 10 }, (_, i) =>
      member(`p${String(i).padStart(3, '0')}`, { time: 0, version: 1 }, {}),
    );
    history.observe(many, 300_000);
    expect(history.view(300_000, 5_000).peers).toHaveLength(CHART_PEERS_MAX);
  });
});
