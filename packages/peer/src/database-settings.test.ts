import { encodeKey, INDEX_SECONDARY } from '@tessera/core';
import type { DatabaseOptions } from '@tessera/documents';
import { describe, expect, it } from 'vitest';
import {
  DATABASES_CACHED_MAX,
  type DatabaseId,
  DatabaseSettings,
  databaseOfKey,
  settingsFromOptions,
} from './database-settings.ts';

const defaults = { replicationFactor: 3, consistency: 'quorum' } as const;

/** D records in a map, with a count of reads per database and a switch to make reads fail. */
function records(initial: Record<string, DatabaseOptions> = {}) {
  const stored = new Map<DatabaseId, DatabaseOptions>(Object.entries(initial));
  const reads: DatabaseId[] = [];
  const state = { failing: false };
  const read = async (db: DatabaseId) => {
    reads.push(db);
    await Promise.resolve();
    if (state.failing) throw new Error('no quorum');
    return stored.get(db);
  };
  return { stored, reads, state, read };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('settingsFromOptions', () => {
  it('takes N and consistency from a D record, and the default for what is missing or out of range', () => {
    expect(settingsFromOptions(undefined, defaults)).toBeUndefined();
    expect(settingsFromOptions({ replicationFactor: 5, consistency: 'one' }, defaults)).toEqual({
      replicationFactor: 5,
      consistency: 'one',
    });
    expect(settingsFromOptions({}, defaults)).toEqual(defaults);
    for (const bad of [0, 11, 2.5, -1, '5', null]) {
      expect(settingsFromOptions({ replicationFactor: bad as number }, defaults)?.replicationFactor).toBe(3);
    }
    expect(settingsFromOptions({ consistency: 'most' as 'one' }, defaults)?.consistency).toBe('quorum');
  });
});

describe('databaseOfKey', () => {
  it('names the database of O and I keys only', () => {
    expect(databaseOfKey(encodeKey('O', ['shop', 'kv', new Uint8Array([1])]))).toBe('shop');
    expect(databaseOfKey(encodeKey('O', [3, 'kv', new Uint8Array([1])]))).toBe(3);
    expect(
      databaseOfKey(encodeKey('I', [7, 'users', 'byAge', 30, 'u1'], { valueType: INDEX_SECONDARY })),
    ).toBe(7);
    expect(databaseOfKey(encodeKey('D', ['shop']))).toBeUndefined();
    expect(databaseOfKey(encodeKey('C', ['shop', 'users']))).toBeUndefined();
    expect(databaseOfKey(new Uint8Array([0x4f, 0xff, 0xff]))).toBeUndefined();
    expect(databaseOfKey(new Uint8Array())).toBeUndefined();
  });
});

describe('DatabaseSettings', () => {
  it('reads a D record once, joins concurrent loads, and tells database 3 from database "3"', async () => {
    const d = records({ wide: { replicationFactor: 5 } });
    d.stored.set(3, { replicationFactor: 2, consistency: 'one' });
    const settings = new DatabaseSettings({ read: d.read, defaults, now: () => 0 });
    const [a, b] = await Promise.all([settings.ensure('wide'), settings.ensure('wide')]);
    expect(a).toEqual({ replicationFactor: 5, consistency: 'quorum' });
    expect(b).toEqual(a);
    expect(await settings.ensure(3)).toEqual({ replicationFactor: 2, consistency: 'one' });
    expect(await settings.ensure('3')).toEqual(defaults);
    expect(await settings.ensure('wide')).toEqual(a);
    expect(d.reads).toEqual(['wide', 3, '3']);
  });

  it('answers a key of an uncached database with the defaults and loads it in the background', async () => {
    const d = records({ wide: { replicationFactor: 5 } });
    const settings = new DatabaseSettings({ read: d.read, defaults, now: () => 0 });
    const key = encodeKey('O', ['wide', 'kv', new Uint8Array([1])]);
    expect(settings.settingsOf(key)).toBeUndefined();
    expect(settings.settingsOf(key)).toBeUndefined();
    await settle();
    expect(settings.settingsOf(key)).toEqual({ replicationFactor: 5, consistency: 'quorum' });
    // A database without a D record is remembered as such: the defaults, no read per key.
    const plain = encodeKey('O', [0, 'kv', new Uint8Array([1])]);
    settings.settingsOf(plain);
    await settle();
    expect(settings.settingsOf(plain)).toBeUndefined();
    expect(d.reads).toEqual(['wide', 0]);
    // Metadata keys never trigger a read (the D read itself goes through the Replicator).
    expect(settings.settingsOf(encodeKey('D', ['wide']))).toBeUndefined();
    expect(d.reads).toEqual(['wide', 0]);
  });

  it('keeps using a stale entry while a background read refreshes it, and reports the change', async () => {
    const d = records({ wide: { replicationFactor: 5 } });
    let nowMs = 0;
    const changed: DatabaseId[] = [];
    const settings = new DatabaseSettings({
      read: d.read,
      defaults,
      now: () => nowMs,
      refreshMs: 1000,
      onChange: (db) => changed.push(db),
    });
    expect((await settings.ensure('wide')).replicationFactor).toBe(5);
    expect(changed).toEqual(['wide']); // the defaults applied before the first read
    d.stored.set('wide', { replicationFactor: 4 });
    nowMs = 999;
    expect((await settings.ensure('wide')).replicationFactor).toBe(5);
    expect(d.reads).toHaveLength(1);
    nowMs = 1000;
    expect((await settings.ensure('wide')).replicationFactor).toBe(5); // stale, served at once
    await settle();
    expect((await settings.ensure('wide')).replicationFactor).toBe(4);
    expect(changed).toEqual(['wide', 'wide']);
    // The same options read again are no change.
    nowMs = 2500;
    await settings.ensure('wide');
    await settle();
    expect(changed).toEqual(['wide', 'wide']);
    expect(d.reads).toHaveLength(3);
  });

  it('falls back to the defaults when the D record cannot be read, and reads again a refresh period later', async () => {
    const d = records({ wide: { replicationFactor: 5 } });
    const errors: DatabaseId[] = [];
    let nowMs = 0;
    const settings = new DatabaseSettings({
      read: d.read,
      defaults,
      now: () => nowMs,
      refreshMs: 100,
      onError: (db) => errors.push(db),
    });
    d.state.failing = true;
    expect(await settings.ensure('wide')).toEqual(defaults);
    expect(errors).toEqual(['wide']);
    // Not one failing quorum read per write: the defaults stand for a refresh period.
    expect(await settings.ensure('wide')).toEqual(defaults);
    expect(d.reads).toHaveLength(1);
    d.state.failing = false;
    nowMs = 100;
    await settings.ensure('wide'); // stale: served, refreshed in the background
    await settle();
    expect((await settings.ensure('wide')).replicationFactor).toBe(5);
    expect(d.reads).toHaveLength(2);
  });

  it('a failed background refresh keeps the known settings and waits a refresh period before retrying', async () => {
    const d = records({ wide: { replicationFactor: 5 } });
    let nowMs = 0;
    const settings = new DatabaseSettings({ read: d.read, defaults, now: () => nowMs, refreshMs: 100 });
    await settings.ensure('wide');
    d.state.failing = true;
    nowMs = 100;
    const key = encodeKey('O', ['wide', 'kv', new Uint8Array([1])]);
    expect(settings.settingsOf(key)?.replicationFactor).toBe(5);
    await settle();
    await settle();
    expect(settings.settingsOf(key)?.replicationFactor).toBe(5);
    expect(d.reads).toHaveLength(2); // not once per key
  });

  it('remember() takes options this peer wrote; the cache stays bounded', async () => {
    const d = records();
    const settings = new DatabaseSettings({ read: d.read, defaults, now: () => 0 });
    settings.remember('wide', { replicationFactor: 7, consistency: 'all' });
    expect(await settings.ensure('wide')).toEqual({ replicationFactor: 7, consistency: 'all' });
    expect(d.reads).toHaveLength(0);
    for (let db = 0; db <= DATABASES_CACHED_MAX; db++) settings.remember(db, undefined);
    expect(settings.size).toBe(DATABASES_CACHED_MAX);
  });
});
