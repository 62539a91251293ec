/**
 * The process the crash test kills: `node --conditions=source crash.child.ts <dir> <seed>`.
 * It opens the store, prints `ready`, then writes from several concurrent
 * writers with puts (one in four non-durable) and durable batches, and prints one line per write only
 * after the store acknowledged it:
 *   `put <id>`           one put of key(id)
 *   `batch <id> <n>`     one durable batch of keys id/0 … id/n-1
 *   `counter <n>`        the counter key now holds n (written in order by one writer)
 * Keys and values derive from ids (crash-data.ts) so the parent can check them.
 */
import { batchKey, counterKey, putKey, valueFor } from './crash-data.ts';
import { openFsStore } from './fs-store.ts';

const [dir, seedArg] = process.argv.slice(2);
if (!dir || !seedArg) throw new Error('usage: crash.child.ts <dir> <seed>');
let x = Number(seedArg) >>> 0 || 1;
const random = (n: number): number => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  return x % n;
};

const store = await openFsStore(dir);
const say = (line: string) => process.stdout.write(`${line}\n`);
say('ready');

const writersMax = 8;
let next = 0;
async function writer(): Promise<never> {
  for (;;) {
    const id = `${seedArg}-${next++}`;
    if (random(3) === 0) {
      const n = 1 + random(40);
      const ops = [];
      for (let i = 0; i < n; i++) {
        const key = batchKey(id, i);
        ops.push({ type: 'put' as const, key, value: valueFor(key) });
      }
      await store.batch(ops);
      say(`batch ${id} ${n}`);
    } else {
      // One put in four is non-durable: it must survive a process crash too (not a power loss).
      const key = putKey(id);
      await store.put(key, valueFor(key), { durable: random(4) !== 0 });
      say(`put ${id}`);
    }
  }
}

async function counter(): Promise<never> {
  const last = await store.get(counterKey);
  let n = last === undefined ? 0 : new DataView(last.buffer, last.byteOffset).getUint32(0);
  for (;;) {
    n++;
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, n);
    await store.put(counterKey, value);
    say(`counter ${n}`);
  }
}

await Promise.all([counter(), ...Array.from({ length: writersMax }, writer)]);
