import { describe, expect, it } from 'vitest';
import { Membership } from './membership.ts';
import type { NodeState } from './types.ts';

const state = (id: string, version = 1): NodeState => ({
  id,
  cluster: 'c',
  host: '',
  addresses: [],
  clock: 0,
  time: 0,
  status: 'up',
  role: 'owner',
  incarnation: 1,
  version,
  storage: { usedBytes: 0, quotaBytes: null },
  log: { clock: 0, count: 0, hash: 0 },
});

function view() {
  const m = new Membership('self', { suspectAfterMs: 100, downAfterMs: 300, membersMax: 16 });
  m.setSelf(state('self'), 0);
  m.observe(state('a'), 0);
  m.observe(state('b'), 0);
  return m;
}

describe('Membership failure detector', () => {
  it('multiplies both timeouts by the scale it is given', () => {
    const plain = view();
    expect(plain.check(100).map((c) => `${c.member.id}:${c.member.liveness}`)).toEqual([
      'a:suspect',
      'b:suspect',
    ]);
    expect(plain.check(300).map((c) => `${c.member.id}:${c.member.liveness}`)).toEqual(['a:down', 'b:down']);

    const scaled = view();
    expect(scaled.check(399, 4)).toEqual([]);
    expect(scaled.check(400, 4).map((c) => c.member.liveness)).toEqual(['suspect', 'suspect']);
    expect(scaled.check(1199, 4)).toEqual([]);
    expect(scaled.check(1200, 4).map((c) => c.member.liveness)).toEqual(['down', 'down']);
  });

  it('counts live members (not down, itself included)', () => {
    const m = view();
    expect(m.liveCount()).toBe(3);
    m.check(100); // suspect still counts
    expect(m.liveCount()).toBe(3);
    m.observe(state('a', 2), 250);
    m.check(300); // b down, a heard at 250
    expect(m.liveCount()).toBe(2);
    expect(m.get('b')!.liveness).toBe('down');
  });
});
