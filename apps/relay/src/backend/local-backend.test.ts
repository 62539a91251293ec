import { openMemoryStore } from '@tessera/storage';
import { describe, expect, it } from 'vitest';
import { IncrementOverflowError, NotAnIntegerError } from '../errors.ts';
import { openLocalBackend, parseInt64 } from './local-backend.ts';

const b = (s: string) => Buffer.from(s);
const str = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString());

async function setup() {
  const store = await openMemoryStore();
  let now = 1_000_000;
  const backend = await openLocalBackend({ store, reapIntervalMs: 0, now: () => now });
  return {
    store,
    backend,
    advance(ms: number) {
      now += ms;
    },
    now: () => now,
  };
}

describe('LocalKvBackend', () => {
  it('sets, gets, checks and deletes binary keys', async () => {
    const { backend } = await setup();
    const key = Buffer.from([0, 255, 13, 10]);
    expect(await backend.set(0, key, b('v1'))).toEqual({ written: true });
    expect(str(await backend.get(0, key))).toBe('v1');
    expect(await backend.get(1, key)).toBeUndefined();
    expect(await backend.exists(0, [key, key, b('nope')])).toBe(2);
    expect(await backend.delete(0, [key, key])).toBe(1);
    expect(await backend.get(0, key)).toBeUndefined();
    expect(await backend.stats(0)).toEqual({ keys: 0, expires: 0 });
  });

  it('honours NX, XX and GET', async () => {
    const { backend } = await setup();
    expect((await backend.set(0, b('k'), b('a'), { condition: 'XX' })).written).toBe(false);
    expect((await backend.set(0, b('k'), b('a'), { condition: 'NX' })).written).toBe(true);
    expect((await backend.set(0, b('k'), b('b'), { condition: 'NX' })).written).toBe(false);
    const r = await backend.set(0, b('k'), b('c'), { condition: 'XX', returnPrevious: true });
    expect(r.written).toBe(true);
    expect(str(r.previous)).toBe('a');
    expect(str(await backend.get(0, b('k')))).toBe('c');
  });

  it('hides expired keys, keeps TTLs on KEEPTTL and INCR, clears them on plain SET', async () => {
    const { backend, advance, now } = await setup();
    await backend.set(0, b('k'), b('1'), { expiresAtMs: now() + 1000 });
    expect(await backend.ttlMs(0, b('k'))).toBe(1000);
    await backend.set(0, b('k'), b('2'), { keepTtl: true });
    expect(await backend.ttlMs(0, b('k'))).toBe(1000);
    expect(await backend.incrementBy(0, b('k'), 5n)).toBe(7n);
    expect(await backend.ttlMs(0, b('k'))).toBe(1000);
    expect(await backend.stats(0)).toEqual({ keys: 1, expires: 1 });
    advance(1000);
    expect(await backend.get(0, b('k'))).toBeUndefined();
    expect(await backend.exists(0, [b('k')])).toBe(0);
    expect(await backend.ttlMs(0, b('k'))).toBe(-2);
    expect((await backend.set(0, b('k'), b('x'), { condition: 'NX' })).written).toBe(true);
    expect(await backend.ttlMs(0, b('k'))).toBe(-1);
    expect(await backend.stats(0)).toEqual({ keys: 1, expires: 0 });
  });

  it('deletes a key set with an expiry in the past', async () => {
    const { backend, now } = await setup();
    await backend.set(0, b('k'), b('1'));
    expect((await backend.set(0, b('k'), b('2'), { expiresAtMs: now() - 1 })).written).toBe(true);
    expect(await backend.get(0, b('k'))).toBeUndefined();
    expect(await backend.stats(0)).toEqual({ keys: 0, expires: 0 });
  });

  it('reaps expired keys from the store through the expiry index', async () => {
    const { backend, store, advance, now } = await setup();
    for (let i = 0; i < 50; i++)
      await backend.set(0, b(`t${i}`), b('v'), { expiresAtMs: now() + (i < 30 ? 10 : 10_000) });
    await backend.set(0, b('plain'), b('v'));
    advance(20);
    expect(await backend.reapExpired()).toBe(30);
    expect(await backend.stats(0)).toEqual({ keys: 21, expires: 20 });
    let records = 0;
    for await (const _ of store.scan()) records++;
    expect(records).toBe(21 + 20);
    advance(10_000);
    expect(await backend.reapExpired()).toBe(20);
    expect(await backend.stats(0)).toEqual({ keys: 1, expires: 0 });
  });

  it('increments like Redis, with its errors', async () => {
    const { backend } = await setup();
    expect(await backend.incrementBy(0, b('n'), 1n)).toBe(1n);
    expect(await backend.incrementBy(0, b('n'), -11n)).toBe(-10n);
    await backend.set(0, b('s'), b('abc'));
    await expect(backend.incrementBy(0, b('s'), 1n)).rejects.toBeInstanceOf(NotAnIntegerError);
    await backend.set(0, b('max'), b('9223372036854775807'));
    await expect(backend.incrementBy(0, b('max'), 1n)).rejects.toBeInstanceOf(IncrementOverflowError);
    expect(str(await backend.get(0, b('max')))).toBe('9223372036854775807');
    for (const bad of ['', ' 1', '1 ', '+1', '01', '-0', '1.0', '9223372036854775808']) {
      expect(parseInt64(b(bad))).toBeUndefined();
    }
    expect(parseInt64(b('-9223372036854775808'))).toBe(-(2n ** 63n));
  });

  it('MSET writes all pairs, later pairs win, TTLs cleared', async () => {
    const { backend, now } = await setup();
    await backend.set(0, b('a'), b('old'), { expiresAtMs: now() + 100 });
    await backend.setMany(0, [
      [b('a'), b('1')],
      [b('b'), b('2')],
      [b('a'), b('3')],
    ]);
    expect((await backend.getMany(0, [b('a'), b('b'), b('c')])).map(str)).toEqual(['3', '2', undefined]);
    expect(await backend.ttlMs(0, b('a'))).toBe(-1);
    expect(await backend.stats(0)).toEqual({ keys: 2, expires: 0 });
  });

  it('scans every live key exactly once across pages, with MATCH', async () => {
    const { backend, advance, now } = await setup();
    const names = Array.from({ length: 120 }, (_, i) => `user:${i}`);
    for (const n of names) await backend.set(0, b(n), b('v'));
    for (let i = 0; i < 10; i++) await backend.set(0, b(`other:${i}`), b('v'));
    await backend.set(0, b('gone'), b('v'), { expiresAtMs: now() + 1 });
    await backend.set(1, b('user:elsewhere'), b('v'));
    advance(5);
    const seen: string[] = [];
    let after: Uint8Array | undefined;
    let pages = 0;
    do {
      const page = await backend.scan(0, { after, count: 7, match: b('user:*') });
      seen.push(...page.keys.map((k) => str(k)!));
      after = page.next;
      pages++;
    } while (after !== undefined);
    expect(pages).toBeGreaterThan(10);
    expect(seen.sort()).toEqual([...names].sort());
    const all = await backend.scan(0, { count: 1000 });
    expect(all.next).toBeUndefined();
    expect(all.keys.length).toBe(130);
  });

  it('counts keys already in the store when opened', async () => {
    const { backend, store, now } = await setup();
    await backend.set(2, b('a'), b('1'));
    await backend.set(2, b('b'), b('1'), { expiresAtMs: now() + 1000 });
    await backend.close();
    const again = await openLocalBackend({ store, reapIntervalMs: 0 });
    expect(await again.stats(2)).toEqual({ keys: 2, expires: 1 });
    await again.close();
  });

  it('reports one node owning every slot', async () => {
    const { backend } = await setup();
    const t = await backend.topology({ host: '127.0.0.1', port: 7000 });
    expect(t.ranges).toEqual([{ start: 0, end: 16383, owners: [t.self] }]);
    expect(t.self).toEqual({ id: backend.nodeId, host: '127.0.0.1', port: 7000 });
    expect(t.self.id).toMatch(/^[0-9a-f]{40}$/);
  });
});
