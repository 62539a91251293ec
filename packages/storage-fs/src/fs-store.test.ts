import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runStoreTests } from '@tessera/storage/conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { openFsStore } from './fs-store.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-fs-'));
  dirs.push(dir);
  return dir;
}

runStoreTests('fs (lmdb)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-fs-conf-'));
  // Small pages so scans cross page boundaries in the suite's data sets.
  const open = () => openFsStore(dir, { scanPageEntriesMax: 16 });
  return {
    store: await open(),
    reopen: open,
    teardown: () => rm(dir, { recursive: true, force: true }),
  };
});

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** Runs a snippet in a separate Node process that opens `dir`; resolves with its stdout. */
async function openInOtherProcess(dir: string): Promise<string> {
  const { execFile } = await import('node:child_process');
  const storeModule = new URL('./fs-store.ts', import.meta.url).href;
  const script = `
    const { openFsStore } = await import(${JSON.stringify(storeModule)});
    try { const s = await openFsStore(${JSON.stringify(dir)}); await s.close(); console.log('opened'); }
    catch (e) { console.log(e.name); }`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--input-type=module', '-e', script],
      { timeout: 30_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
    );
  });
}

describe('fs store', () => {
  it('lets one open store hold a directory, in this process and across processes', async () => {
    const dir = await tempDir();
    const store = await openFsStore(dir);
    await expect(openFsStore(dir)).rejects.toMatchObject({
      name: 'StoreLockedError',
      code: 'ERR_STORE_LOCKED',
    });
    expect(await openInOtherProcess(dir)).toBe('StoreLockedError');
    await store.put(text('k'), text('v'));
    await store.close();
    expect(await openInOtherProcess(dir)).toBe('opened');
    const again = await openFsStore(dir);
    expect(await again.get(text('k'))).toEqual(text('v'));
    await again.close();
  });

  it('groups concurrent durable writes into far fewer commits than writes', async () => {
    const store = await openFsStore(await tempDir());
    const before = store.lastCommitId;
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 64; i++) writes.push(store.put(Uint8Array.of(1, i), Uint8Array.of(i)));
    writes.push(store.batch([{ type: 'put', key: text('b'), value: text('v') }]));
    await Promise.all(writes);
    const commits = store.lastCommitId - before;
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(2);
    for (let i = 0; i < 64; i++) expect(await store.get(Uint8Array.of(1, i))).toEqual(Uint8Array.of(i));
    await store.close();
  });

  it('estimates size from the files on disk, growing with the data', async () => {
    const store = await openFsStore(await tempDir());
    const empty = (await store.estimateSize()).usedBytes;
    expect(empty).toBeGreaterThan(0);
    const ops = [];
    for (let i = 0; i < 200; i++)
      ops.push({ type: 'put' as const, key: Uint8Array.of(2, i), value: new Uint8Array(10_000) });
    await store.batch(ops);
    expect((await store.estimateSize()).usedBytes).toBeGreaterThanOrEqual(empty + 2_000_000);
    await store.close();
  });

  it('refuses limits LMDB cannot honour and bad arguments, opening nothing', async () => {
    const dir = await tempDir();
    await expect(openFsStore(dir, { limits: { keyBytesMax: 1979 } })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    });
    await expect(openFsStore(dir, { scanPageEntriesMax: 0 })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    });
    await expect(openFsStore('' as string)).rejects.toMatchObject({ name: 'InvalidArgumentError' });
    await expect(openFsStore(42 as unknown as string)).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    });
    // Nothing above created a file or took the lock.
    expect(await readdir(dir)).toEqual([]);
    const store = await openFsStore(dir, { limits: { keyBytesMax: 1978 } });
    const key = new Uint8Array(1978).fill(7);
    await store.put(key, text('longest key'));
    expect(await store.get(key)).toEqual(text('longest key'));
    await store.close();
  });

  it('keeps non-durable writes in order with durable ones and across reopen', async () => {
    const dir = await tempDir();
    const store = await openFsStore(dir);
    await Promise.all([
      store.put(text('k'), text('durable'), { durable: true }),
      store.put(text('k'), text('relaxed'), { durable: false }),
    ]);
    expect(await store.get(text('k'))).toEqual(text('relaxed'));
    await store.close();
    const again = await openFsStore(dir);
    expect(await again.get(text('k'))).toEqual(text('relaxed'));
    await again.close();
  });

  it('scans pages of small and of large entries with intact, independent bytes', async () => {
    const store = await openFsStore(await tempDir(), { scanPageEntriesMax: 4 });
    // Four 40 KB values make a page too big to share one buffer; the small ones share.
    const sizes = [10, 40_000, 40_000, 3, 40_000, 40_000, 0, 7, 1];
    const expected = sizes.map((size, i) => ({
      key: Uint8Array.of(9, i),
      value: Uint8Array.from({ length: size }, (_, j) => (i * 31 + j) & 0xff),
    }));
    await store.batch(expected.map(({ key, value }) => ({ type: 'put' as const, key, value })));
    const seen = [];
    for await (const entry of store.scan({ prefix: Uint8Array.of(9) })) seen.push(entry);
    expect(seen).toEqual(expected);
    for (const entry of seen) {
      entry.key.fill(0xee);
      entry.value.fill(0xee);
    }
    const again = [];
    for await (const entry of store.scan({ prefix: Uint8Array.of(9), reverse: true })) again.push(entry);
    expect(again).toEqual([...expected].reverse());
    await store.close();
  });
});
