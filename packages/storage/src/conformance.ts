/**
 * The conformance suite every `Store` backend runs. A backend's test file
 * calls `runStoreTests(name, setup)`; `setup` opens a fresh, empty store for
 * each test. Imports vitest and fast-check, so it lives on its own subpath
 * (`@tessera/storage/conformance`) and never reaches a production bundle.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareBytes } from './bytes.ts';
import type { BatchOp, Entry, ScanOptions, Store } from './store.ts';

/** What `setup` gives the suite for one test. */
export interface StoreFixture {
  /** A fresh, empty, open store. */
  readonly store: Store;
  /**
   * Opens the same data again after the suite has closed `store` (backends
   * that persist). The suite closes every store `reopen` returns.
   */
  readonly reopen?: () => Promise<Store>;
  /** Releases everything `setup` made; called after the test, whether or not `store` is already closed. */
  readonly teardown: () => Promise<void>;
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const hex = (value: Uint8Array): string => Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('');

async function collect(scan: () => AsyncIterable<Entry>): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const entry of scan()) out.push(entry);
  return out;
}

async function scanHex(store: Store, options?: ScanOptions): Promise<string[]> {
  return (await collect(() => store.scan(options))).map((entry) => hex(entry.key));
}

/** Fills with a cheap, non-repeating pattern so a misplaced or truncated chunk shows up. */
function patterned(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Expects `promise` to reject with a Tessera error of this name (tests match on name, not class identity). */
async function expectError(promise: Promise<unknown>, name: string, code?: string): Promise<void> {
  await expect(promise).rejects.toMatchObject(code === undefined ? { name } : { name, code });
}

/** What a model of the store expects a scan to return, as hex keys. */
function modelScan(model: Map<string, Uint8Array>, options: ScanOptions): string[] {
  const keys = [...model.values()].sort(compareBytes);
  const { prefix, start, end, reverse, limit } = options;
  let selected = keys.filter(
    (key) =>
      (prefix === undefined || (key.length >= prefix.length && prefix.every((b, i) => key[i] === b))) &&
      (start === undefined || compareBytes(key, start) >= 0) &&
      (end === undefined || compareBytes(key, end) < 0),
  );
  if (reverse) selected = selected.reverse();
  if (limit !== undefined) selected = selected.slice(0, limit);
  return selected.map(hex);
}

/** Options of `runStoreTests`. */
export interface StoreTestOptions {
  /**
   * Whether the backend keeps data across close and reopen (default true).
   * A persistent backend's fixture must give `reopen`; the durability tests
   * fail without it rather than pass vacuously.
   */
  readonly persistent?: boolean;
}

/** Runs the conformance suite against the backend `setup` opens. */
export function runStoreTests(
  name: string,
  setup: () => Promise<StoreFixture>,
  options: StoreTestOptions = {},
): void {
  const persistent = options.persistent ?? true;
  describe(`Store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    const reopened: Store[] = [];

    beforeEach(async () => {
      fixture = await setup();
      store = fixture.store;
    });

    afterEach(async () => {
      for (const other of reopened.splice(0)) await other.close();
      await store.close();
      await fixture.teardown();
    });

    describe('point operations', () => {
      it('gets undefined for a missing key, then what was put', async () => {
        expect(await store.get(text('a'))).toBeUndefined();
        await store.put(text('a'), text('one'));
        expect(await store.get(text('a'))).toEqual(text('one'));
        expect(await store.get(text('b'))).toBeUndefined();
      });

      it('overwrites a key with the latest value', async () => {
        await store.put(text('k'), text('first'));
        await store.put(text('k'), text('second, longer'));
        await store.put(text('k'), text('3'));
        expect(await store.get(text('k'))).toEqual(text('3'));
        expect(await scanHex(store)).toEqual([hex(text('k'))]);
      });

      it('deletes a key, and deleting a missing key is not an error', async () => {
        await store.put(text('a'), text('1'));
        await store.put(text('b'), text('2'));
        await store.delete(text('a'));
        await store.delete(text('never-written'));
        expect(await store.get(text('a'))).toBeUndefined();
        expect(await store.get(text('b'))).toEqual(text('2'));
        expect(await scanHex(store)).toEqual([hex(text('b'))]);
      });

      it('stores an empty value, distinct from a missing key', async () => {
        await store.put(text('empty'), new Uint8Array(0));
        const value = await store.get(text('empty'));
        expect(value).toBeInstanceOf(Uint8Array);
        expect(value?.length).toBe(0);
        const entries = await collect(() => store.scan());
        expect(entries.map((e) => [hex(e.key), e.value.length])).toEqual([[hex(text('empty')), 0]]);
      });

      it('returns Uint8Arrays and keeps its state apart from the caller’s buffers', async () => {
        const key = text('key');
        const value = text('value');
        await store.put(key, value);
        key[0] = 0;
        value[0] = 0;
        const read = await store.get(text('key'));
        expect(read).toBeInstanceOf(Uint8Array);
        expect(read).toEqual(text('value'));
        read![0] = 0;
        expect(await store.get(text('key'))).toEqual(text('value'));
        const [entry] = await collect(() => store.scan());
        expect(entry!.key).toBeInstanceOf(Uint8Array);
        entry!.key[0] = 0;
        entry!.value[0] = 0;
        expect(await collect(() => store.scan())).toEqual([{ key: text('key'), value: text('value') }]);
      });

      it('stores only the bytes a subarray view covers', async () => {
        const buffer = Uint8Array.from([9, 9, 1, 2, 3, 9, 9]);
        await store.put(buffer.subarray(2, 4), buffer.subarray(3, 5));
        expect(await store.get(bytes(1, 2))).toEqual(bytes(2, 3));
        expect(await scanHex(store)).toEqual(['0102']);
        await store.batch([{ type: 'put', key: buffer.subarray(4, 5), value: buffer.subarray(0, 1) }]);
        expect(await store.get(bytes(3))).toEqual(bytes(9));
      });
    });

    describe('ordering', () => {
      it('orders keys as unsigned bytes, a prefix before its extensions', async () => {
        const keys = [
          bytes(0xff),
          bytes(0x01, 0x00),
          bytes(0x80),
          bytes(0x01),
          bytes(0x7f, 0xff),
          bytes(0x00),
          bytes(0x01, 0x00, 0x00),
          bytes(0xff, 0x00),
          bytes(0x00, 0xff),
        ];
        for (const key of keys) await store.put(key, key);
        const expected = ['00', '00ff', '01', '0100', '010000', '7fff', '80', 'ff', 'ff00'];
        expect(await scanHex(store)).toEqual(expected);
        expect(await scanHex(store, { reverse: true })).toEqual([...expected].reverse());
      });

      it('matches a sorted model for random binary keys, puts and deletes (property)', async () => {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.record({
                del: fc.boolean(),
                key: fc.uint8Array({ minLength: 1, maxLength: 6 }),
                value: fc.uint8Array({ maxLength: 8 }),
              }),
              { maxLength: 40 },
            ),
            async (ops) => {
              // Each run writes under its own 4-byte namespace so runs never see each other's keys.
              const ns = bytes(0, (run >>> 16) & 0xff, (run >>> 8) & 0xff, run & 0xff);
              run++;
              const model = new Map<string, Uint8Array>();
              const values = new Map<string, Uint8Array>();
              for (const op of ops) {
                const key = new Uint8Array([...ns, ...op.key]);
                if (op.del) {
                  await store.delete(key);
                  model.delete(hex(key));
                  values.delete(hex(key));
                } else {
                  await store.put(key, op.value);
                  model.set(hex(key), key);
                  values.set(hex(key), op.value);
                }
              }
              const forward = await collect(() => store.scan({ prefix: ns }));
              expect(forward.map((e) => hex(e.key))).toEqual(modelScan(model, {}));
              for (const entry of forward) expect(entry.value).toEqual(values.get(hex(entry.key)));
              expect(await scanHex(store, { prefix: ns, reverse: true })).toEqual(
                modelScan(model, { reverse: true }),
              );
            },
          ),
          { numRuns: 25 },
        );
      });
    });

    describe('scans', () => {
      const keys = ['a', 'aa', 'ab', 'abc', 'b', 'ba', 'c', 'd'].map(text);
      const seed = async () => {
        for (const key of keys) await store.put(key, key);
      };
      const names = (entries: string[]) => entries.map((h) => new TextDecoder().decode(fromHex(h)));
      const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));

      it('scans everything forward and in reverse, with values', async () => {
        await seed();
        const forward = await collect(() => store.scan());
        expect(forward).toEqual(keys.map((key) => ({ key, value: key })));
        const reverse = await collect(() => store.scan({ reverse: true }));
        expect(reverse).toEqual([...keys].reverse().map((key) => ({ key, value: key })));
      });

      it('honours start (inclusive), end (exclusive) and limit, both directions', async () => {
        await seed();
        expect(names(await scanHex(store, { start: text('ab'), end: text('ba') }))).toEqual([
          'ab',
          'abc',
          'b',
        ]);
        expect(names(await scanHex(store, { start: text('ab'), end: text('ba'), reverse: true }))).toEqual([
          'b',
          'abc',
          'ab',
        ]);
        expect(names(await scanHex(store, { start: text('abd') }))).toEqual(['b', 'ba', 'c', 'd']);
        expect(names(await scanHex(store, { end: text('aa') }))).toEqual(['a']);
        expect(names(await scanHex(store, { end: text('b'), reverse: true, limit: 2 }))).toEqual([
          'abc',
          'ab',
        ]);
        expect(names(await scanHex(store, { limit: 3 }))).toEqual(['a', 'aa', 'ab']);
        expect(names(await scanHex(store, { reverse: true, limit: 1 }))).toEqual(['d']);
        expect(await scanHex(store, { limit: 0 })).toEqual([]);
        expect(await scanHex(store, { start: text('c'), end: text('c') })).toEqual([]);
        expect(await scanHex(store, { start: text('d'), end: text('a') })).toEqual([]);
        expect(await scanHex(store, { start: text('e') })).toEqual([]);
      });

      it('scans a prefix, and a prefix combined with start and end is their intersection', async () => {
        await seed();
        expect(names(await scanHex(store, { prefix: text('a') }))).toEqual(['a', 'aa', 'ab', 'abc']);
        expect(names(await scanHex(store, { prefix: text('ab'), reverse: true }))).toEqual(['abc', 'ab']);
        expect(names(await scanHex(store, { prefix: text('a'), start: text('ab') }))).toEqual(['ab', 'abc']);
        expect(names(await scanHex(store, { prefix: text('a'), end: text('ab') }))).toEqual(['a', 'aa']);
        expect(names(await scanHex(store, { prefix: text('b'), start: text('a'), end: text('z') }))).toEqual([
          'b',
          'ba',
        ]);
        expect(await scanHex(store, { prefix: text('x') })).toEqual([]);
        expect(await scanHex(store, { prefix: new Uint8Array(0) })).toEqual(keys.map(hex));
      });

      it('handles prefixes ending in 0xFF bytes and the all-0xFF prefix', async () => {
        const edge = [
          bytes(0x01, 0xfe),
          bytes(0x01, 0xff),
          bytes(0x01, 0xff, 0xfe),
          bytes(0x01, 0xff, 0xff),
          bytes(0x01, 0xff, 0xff, 0x00),
          bytes(0x01, 0xff, 0xff, 0xff, 0xff),
          bytes(0x02),
          bytes(0x02, 0x00),
          bytes(0xfe, 0xff),
          bytes(0xff),
          bytes(0xff, 0x00),
          bytes(0xff, 0xff),
          bytes(0xff, 0xff, 0xff),
        ];
        for (const key of edge) await store.put(key, key);
        expect(await scanHex(store, { prefix: bytes(0xff) })).toEqual(['ff', 'ff00', 'ffff', 'ffffff']);
        expect(await scanHex(store, { prefix: bytes(0xff), reverse: true })).toEqual([
          'ffffff',
          'ffff',
          'ff00',
          'ff',
        ]);
        expect(await scanHex(store, { prefix: bytes(0xff, 0xff) })).toEqual(['ffff', 'ffffff']);
        expect(await scanHex(store, { prefix: bytes(0x01, 0xff, 0xff) })).toEqual([
          '01ffff',
          '01ffff00',
          '01ffffffff',
        ]);
        expect(await scanHex(store, { prefix: bytes(0x01, 0xff, 0xff), reverse: true, limit: 2 })).toEqual([
          '01ffffffff',
          '01ffff00',
        ]);
        expect(await scanHex(store, { prefix: bytes(0x01, 0xff) })).toEqual([
          '01ff',
          '01fffe',
          '01ffff',
          '01ffff00',
          '01ffffffff',
        ]);
        expect(await scanHex(store, { prefix: bytes(0x01) })).toHaveLength(6);
        expect(await scanHex(store, { prefix: new Uint8Array(0), reverse: true })).toEqual(
          edge.map(hex).reverse(),
        );
      });

      it('matches a model for random ranges, prefixes, limits and directions (property)', async () => {
        const stored = new Map<string, Uint8Array>();
        const keyArb = fc
          .uint8Array({ minLength: 1, maxLength: 4 })
          .map((k) => k.map((b) => (b % 4 === 3 ? 0xff : b % 4)));
        const all = fc.sample(fc.uniqueArray(keyArb, { selector: hex, minLength: 60, maxLength: 60 }), {
          numRuns: 1,
          seed: 42,
        })[0]!;
        await store.batch(all.map((key) => ({ type: 'put', key, value: key })));
        for (const key of all) stored.set(hex(key), key);
        const bound = fc.option(keyArb, { nil: undefined });
        await fc.assert(
          fc.asyncProperty(
            fc.record({
              prefix: fc.option(
                fc.uint8Array({ maxLength: 2 }).map((k) => k.map((b) => (b % 4 === 3 ? 0xff : b % 4))),
                { nil: undefined },
              ),
              start: bound,
              end: bound,
              reverse: fc.boolean(),
              limit: fc.option(fc.nat({ max: 70 }), { nil: undefined }),
            }),
            async (options) => {
              expect(await scanHex(store, options)).toEqual(modelScan(stored, options));
            },
          ),
          { numRuns: 60 },
        );
      });

      it('pages through many keys in order, both directions', async () => {
        const count = 1200;
        const ops: BatchOp[] = [];
        for (let i = 0; i < count; i++) {
          ops.push({ type: 'put', key: bytes(0x10, i >> 8, i & 0xff), value: bytes(i & 0xff) });
        }
        await store.batch(ops);
        const forward = await collect(() => store.scan());
        expect(forward).toHaveLength(count);
        forward.forEach((entry, i) => {
          expect(entry.key).toEqual(bytes(0x10, i >> 8, i & 0xff));
          expect(entry.value).toEqual(bytes(i & 0xff));
        });
        const reverse = await scanHex(store, { reverse: true, limit: 700 });
        expect(reverse).toEqual(
          forward
            .map((e) => hex(e.key))
            .reverse()
            .slice(0, 700),
        );
      });

      it('can be stopped early and scanned again', async () => {
        await seed();
        for await (const entry of store.scan()) {
          expect(entry.key).toEqual(text('a'));
          break;
        }
        expect(await scanHex(store)).toHaveLength(keys.length);
      });
    });

    describe('scans under concurrent writes', () => {
      // The documented guarantee: keys not written during the scan appear
      // exactly once, in order; every entry seen holds a value its key had at
      // some point; writes behind the scan position are never seen.
      for (const reverse of [false, true]) {
        it(`sees every untouched key once, in order, with a value it really had (${reverse ? 'reverse' : 'forward'})`, async () => {
          const count = 400;
          const original: BatchOp[] = [];
          for (let i = 0; i < count; i++)
            original.push({ type: 'put', key: bytes(0x20, i >> 7, (i & 0x7f) * 2), value: bytes(1) });
          await store.batch(original);
          const written = new Map<string, Set<number>>();
          for (const op of original) written.set(hex(op.key), new Set([1]));
          const touched = new Set<string>();
          const seen: Entry[] = [];
          let step = 0;
          for await (const entry of store.scan({ reverse })) {
            seen.push(entry);
            step++;
            // Between entries: overwrite a key far ahead, insert a key between
            // two originals, delete one far ahead, and rewrite one behind.
            const i = (step * 7) % count;
            const ahead = original[(i + 200) % count]!.key;
            const fresh = bytes(0x20, i >> 7, (i & 0x7f) * 2 + 1);
            const doomed = original[(i + 101) % count]!.key;
            const behind = entry.key;
            const value = bytes(2 + (step % 200));
            // Issued together and not durable: this test is about visibility, and one
            // relaxed commit per step keeps it quick on slow engines.
            const relaxed = { durable: false };
            await Promise.all([
              store.put(ahead, value, relaxed),
              store.put(fresh, value, relaxed),
              store.delete(doomed, relaxed),
              store.put(behind, bytes(0xee), relaxed),
            ]);
            for (const key of [ahead, fresh, doomed, behind]) touched.add(hex(key));
            for (const key of [ahead, fresh]) {
              const set = written.get(hex(key)) ?? new Set<number>();
              set.add(value[0]!);
              written.set(hex(key), set);
            }
          }
          const seenKeys = seen.map((e) => hex(e.key));
          const sorted = [...seenKeys].sort();
          expect(seenKeys).toEqual(reverse ? sorted.reverse() : sorted);
          expect(new Set(seenKeys).size).toBe(seenKeys.length);
          for (const op of original) {
            if (!touched.has(hex(op.key))) expect(seenKeys).toContain(hex(op.key));
          }
          for (const entry of seen) {
            expect(entry.value).toHaveLength(1);
            expect(entry.value[0]).not.toBe(0xee);
            expect(written.get(hex(entry.key))).toContain(entry.value[0]);
          }
          // After the scan, a fresh one sees the final state.
          const after = await collect(() => store.scan());
          for (const entry of after) expect(await store.get(entry.key)).toEqual(entry.value);
        });
      }
    });

    describe('batches', () => {
      it('applies puts and deletes together, later ops on a key winning', async () => {
        await store.put(text('gone'), text('x'));
        await store.put(text('kept'), text('x'));
        await store.batch([
          { type: 'put', key: text('a'), value: text('1') },
          { type: 'delete', key: text('gone') },
          { type: 'put', key: text('a'), value: text('2') },
          { type: 'put', key: text('b'), value: text('1') },
          { type: 'delete', key: text('b') },
          { type: 'delete', key: text('kept') },
          { type: 'put', key: text('kept'), value: text('back') },
        ]);
        expect(await collect(() => store.scan())).toEqual([
          { key: text('a'), value: text('2') },
          { key: text('kept'), value: text('back') },
        ]);
      });

      it('accepts an empty batch', async () => {
        await store.batch([]);
        expect(await scanHex(store)).toEqual([]);
      });

      it('writes nothing when any op is invalid, wherever it sits', async () => {
        await store.put(text('existing'), text('old'));
        const good: BatchOp[] = [
          { type: 'put', key: text('new'), value: text('v') },
          { type: 'put', key: text('existing'), value: text('new') },
          { type: 'delete', key: text('existing') },
        ];
        const bad: [unknown, string][] = [
          [
            { type: 'put', key: text('x'), value: new Uint8Array(store.limits.valueBytesMax + 1) },
            'LimitExceededError',
          ],
          [
            { type: 'put', key: new Uint8Array(store.limits.keyBytesMax + 1), value: text('v') },
            'LimitExceededError',
          ],
          [{ type: 'put', key: 'string-key', value: text('v') }, 'InvalidArgumentError'],
          [{ type: 'put', key: text('x'), value: [1, 2] }, 'InvalidArgumentError'],
          [{ type: 'put', key: text('x') }, 'InvalidArgumentError'],
          [{ type: 'delete', key: new Uint8Array(0) }, 'InvalidArgumentError'],
          [{ type: 'merge', key: text('x'), value: text('v') }, 'InvalidArgumentError'],
          [null, 'InvalidArgumentError'],
        ];
        for (const [op, errorName] of bad) {
          for (const at of [0, 1, 3]) {
            const ops = [...good] as unknown[];
            ops.splice(at, 0, op);
            await expectError(store.batch(ops as BatchOp[]), errorName);
          }
        }
        await expectError(store.batch('nope' as unknown as BatchOp[]), 'InvalidArgumentError');
        expect(await collect(() => store.scan())).toEqual([{ key: text('existing'), value: text('old') }]);
      });

      it('refuses more than batchOpsMax ops and writes nothing', async () => {
        const max = store.limits.batchOpsMax;
        const ops: BatchOp[] = [];
        for (let i = 0; i <= max; i++)
          ops.push({ type: 'put', key: text(`k${i}`), value: new Uint8Array(0) });
        await expect(store.batch(ops)).rejects.toMatchObject({
          name: 'LimitExceededError',
          code: 'ERR_LIMIT_EXCEEDED',
          limit: 'batchOpsMax',
        });
        expect(await scanHex(store, { limit: 1 })).toEqual([]);
        await store.batch(ops.slice(0, max));
        expect(await scanHex(store)).toHaveLength(max);
      });
    });

    describe('limits and bad input', () => {
      it('publishes positive integer limits', () => {
        for (const limit of [
          store.limits.keyBytesMax,
          store.limits.valueBytesMax,
          store.limits.batchOpsMax,
        ]) {
          expect(Number.isSafeInteger(limit) && limit > 0).toBe(true);
        }
      });

      it('stores a key of exactly keyBytesMax and refuses one byte more, writing nothing', async () => {
        const max = store.limits.keyBytesMax;
        const key = patterned(max, 1);
        await store.put(key, text('v'));
        expect(await store.get(key)).toEqual(text('v'));
        const long = patterned(max + 1, 2);
        await expect(store.put(long, text('v'))).rejects.toMatchObject({
          name: 'LimitExceededError',
          limit: 'keyBytesMax',
          max,
          actual: max + 1,
        });
        await expectError(store.get(long), 'LimitExceededError');
        await expectError(store.delete(long), 'LimitExceededError');
        expect(await scanHex(store)).toEqual([hex(key)]);
      });

      it('stores large values up to valueBytesMax intact and refuses one byte more', async () => {
        const max = store.limits.valueBytesMax;
        const big = patterned(max, 3);
        const almost = patterned(max - 1, 4);
        await store.put(text('big'), big);
        await store.batch([{ type: 'put', key: text('almost'), value: almost }]);
        expect(await store.get(text('big'))).toEqual(big);
        expect(await store.get(text('almost'))).toEqual(almost);
        await expect(store.put(text('too-big'), new Uint8Array(max + 1))).rejects.toMatchObject({
          name: 'LimitExceededError',
          limit: 'valueBytesMax',
        });
        await expectError(store.put(text('big'), new Uint8Array(max + 1)), 'LimitExceededError');
        expect(await store.get(text('too-big'))).toBeUndefined();
        expect(await store.get(text('big'))).toEqual(big);
      });

      it('refuses keys and values that are not Uint8Array, and empty keys, writing nothing', async () => {
        const notBytes: unknown[] = [
          'abc',
          42,
          null,
          undefined,
          [1, 2],
          new ArrayBuffer(2),
          new Uint16Array(2),
          new DataView(new ArrayBuffer(2)),
          { length: 1 },
        ];
        for (const bad of notBytes) {
          await expectError(
            store.put(bad as Uint8Array, text('v')),
            'InvalidArgumentError',
            'ERR_INVALID_ARGUMENT',
          );
          await expectError(store.put(text('k'), bad as Uint8Array), 'InvalidArgumentError');
          await expectError(store.get(bad as Uint8Array), 'InvalidArgumentError');
          await expectError(store.delete(bad as Uint8Array), 'InvalidArgumentError');
        }
        const detached = new Uint8Array(new ArrayBuffer(4));
        structuredClone(detached.buffer, { transfer: [detached.buffer] });
        await expectError(store.put(text('k'), detached), 'InvalidArgumentError');
        await expectError(store.put(detached, text('v')), 'InvalidArgumentError');
        await expectError(store.put(new Uint8Array(0), text('v')), 'InvalidArgumentError');
        await expectError(store.get(new Uint8Array(0)), 'InvalidArgumentError');
        await expectError(
          store.put(text('k'), text('v'), { durable: 'yes' } as never),
          'InvalidArgumentError',
        );
        expect(await scanHex(store)).toEqual([]);
      });

      it('refuses bad scan options with InvalidArgumentError', async () => {
        await store.put(text('a'), text('1'));
        const bad: unknown[] = [
          { limit: -1 },
          { limit: 1.5 },
          { limit: Number.NaN },
          { limit: '3' },
          { start: 'a' },
          { end: [1] },
          { prefix: new ArrayBuffer(1) },
          { reverse: 'yes' },
          'everything',
        ];
        for (const options of bad) {
          await expectError(
            collect(() => store.scan(options as ScanOptions)),
            'InvalidArgumentError',
          );
        }
      });
    });

    describe('closing', () => {
      it('throws StoreClosedError from every method after close, and close is idempotent', async () => {
        await store.put(text('a'), text('1'));
        await store.close();
        await store.close();
        await expectError(store.get(text('a')), 'StoreClosedError', 'ERR_STORE_CLOSED');
        await expectError(store.put(text('b'), text('2')), 'StoreClosedError');
        await expectError(store.delete(text('a')), 'StoreClosedError');
        await expectError(
          store.batch([{ type: 'put', key: text('c'), value: text('3') }]),
          'StoreClosedError',
        );
        await expectError(
          collect(() => store.scan()),
          'StoreClosedError',
        );
        await expectError(store.estimateSize(), 'StoreClosedError');
      });

      it('ends a scan cut by close with StoreClosedError or its end, nothing else', async () => {
        const ops: BatchOp[] = [];
        for (let i = 0; i < 3000; i++)
          ops.push({ type: 'put', key: bytes(0x50, i >> 8, i & 0xff), value: bytes(1) });
        await store.batch(ops);
        const iterator = store.scan()[Symbol.asyncIterator]();
        const first = await iterator.next();
        expect(first.done).toBe(false);
        await store.close();
        let seen = 1;
        let previous = first.value!.key;
        try {
          for (;;) {
            const next = await iterator.next();
            if (next.done) break;
            expect(compareBytes(previous, next.value.key)).toBe(-1);
            previous = next.value.key;
            seen++;
          }
        } catch (error) {
          expect(error).toMatchObject({ name: 'StoreClosedError' });
        }
        expect(seen).toBeLessThanOrEqual(3000);
      });

      it('settles writes issued just before close', async () => {
        const writes = [];
        for (let i = 0; i < 20; i++)
          writes.push(store.put(bytes(0x30, i), bytes(i), { durable: i % 2 === 0 }));
        const closing = store.close();
        const results = await Promise.allSettled(writes);
        await closing;
        // Each write either landed or failed with a typed error; none hangs.
        for (const result of results) {
          if (result.status === 'rejected') expect(result.reason).toMatchObject({ name: 'StoreClosedError' });
        }
        if (persistent) {
          if (!fixture.reopen) throw new Error('a persistent backend’s fixture must give reopen');
          const again = await fixture.reopen();
          reopened.push(again);
          for (let i = 0; i < 20; i++) {
            const value = await again.get(bytes(0x30, i));
            if (results[i]!.status === 'fulfilled') expect(value).toEqual(bytes(i));
          }
        }
      });
    });

    describe('concurrency and durability', () => {
      it('lands every one of many concurrent writes', async () => {
        const writes: Promise<void>[] = [];
        for (let i = 0; i < 300; i++) {
          const key = bytes(0x40, i >> 8, i & 0xff);
          writes.push(store.put(key, patterned(16, i + 1), { durable: i % 3 !== 0 }));
        }
        for (let b = 0; b < 10; b++) {
          const ops: BatchOp[] = [];
          for (let i = 0; i < 20; i++) ops.push({ type: 'put', key: bytes(0x41, b, i), value: bytes(b, i) });
          writes.push(store.batch(ops));
        }
        await Promise.all(writes);
        const entries = await collect(() => store.scan());
        expect(entries).toHaveLength(500);
        for (let i = 0; i < 300; i++)
          expect(await store.get(bytes(0x40, i >> 8, i & 0xff))).toEqual(patterned(16, i + 1));
        for (let b = 0; b < 10; b++) expect(await store.get(bytes(0x41, b, 19))).toEqual(bytes(b, 19));
      });

      it('applies writes from one handle in the order they were called', async () => {
        const pending = [
          store.put(text('k'), text('1')),
          store.put(text('k'), text('2'), { durable: false }),
          store.batch([{ type: 'put', key: text('k'), value: text('3') }]),
          store.delete(text('gone')),
          store.put(text('gone'), text('back')),
          store.put(text('k'), text('4'), { durable: false }),
          store.delete(text('k2')),
        ];
        await Promise.all(pending);
        expect(await store.get(text('k'))).toEqual(text('4'));
        expect(await store.get(text('gone'))).toEqual(text('back'));
      });

      // Registered only for persistent backends, so no test shows as skipped.
      if (persistent) {
        it('keeps every acknowledged write across close and reopen', async () => {
          if (!fixture.reopen) throw new Error('a persistent backend’s fixture must give reopen');
          await store.put(text('durable'), text('1'));
          await store.put(text('relaxed'), text('2'), { durable: false });
          await store.batch([
            { type: 'put', key: text('batched'), value: patterned(5000, 9) },
            { type: 'delete', key: text('durable-gone') },
          ]);
          await store.put(text('overwritten'), text('old'));
          await store.put(text('overwritten'), text('new'));
          await store.put(text('deleted'), text('x'));
          await store.delete(text('deleted'));
          await store.close();
          const again = await fixture.reopen();
          reopened.push(again);
          expect(await collect(() => again.scan())).toEqual([
            { key: text('batched'), value: patterned(5000, 9) },
            { key: text('durable'), value: text('1') },
            { key: text('overwritten'), value: text('new') },
            { key: text('relaxed'), value: text('2') },
          ]);
          await again.put(text('after-reopen'), text('3'));
          expect(await again.get(text('after-reopen'))).toEqual(text('3'));
        });
      }

      it('reports a size estimate', async () => {
        await store.put(text('a'), patterned(10_000, 5));
        const size = await store.estimateSize();
        expect(Number.isFinite(size.usedBytes) && size.usedBytes >= 0).toBe(true);
        if (size.quotaBytes !== undefined)
          expect(Number.isFinite(size.quotaBytes) && size.quotaBytes > 0).toBe(true);
      });
    });
  });
}
