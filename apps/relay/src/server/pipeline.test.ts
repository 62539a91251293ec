/**
 * Pipelined commands: independent key commands run at once, yet every reply
 * comes back in order and a command sees the writes pipelined before it.
 */
import { openMemoryStore } from '@tessera/storage';
import { afterEach, describe, expect, it } from 'vitest';
import type { KvBackend } from '../backend/backend.ts';
import { openLocalBackend } from '../backend/local-backend.ts';
import { encodeCommand } from '../resp/encode.ts';
import { PIPELINE_PARALLEL_MAX } from './connection.ts';
import { startRespServer } from './server.ts';
import { plain, RawClient, startTestServer } from './test-harness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pipeline(client: RawClient, commands: string[][]): Promise<unknown[]> {
  client.write(Buffer.concat(commands.map((c) => encodeCommand(c))));
  const replies: unknown[] = [];
  for (let i = 0; i < commands.length; i++) replies.push(plain(await client.reply()));
  return replies;
}

describe('pipelining', () => {
  it('answers in order, with each command seeing the writes before it', async () => {
    const t = await startTestServer();
    cleanups.push(() => t.close());
    const client = await RawClient.connect(t.port);
    cleanups.push(async () => client.close());
    const replies = await pipeline(client, [
      ['SET', 'a', '1'],
      ['GET', 'a'],
      ['INCR', 'n'],
      ['INCR', 'n'],
      ['GET', 'n'],
      ['MSET', 'b', '2', 'c', '3'],
      ['MGET', 'a', 'b', 'c', 'zz'],
      ['DEL', 'a'],
      ['EXISTS', 'a', 'b'],
      ['SELECT', '1'],
      ['GET', 'b'],
      ['SELECT', '0'],
      ['GET', 'b'],
      ['SET', 'b', 'x', 'XX', 'GET'],
      ['GET', 'b'],
    ]);
    expect(replies).toEqual([
      'OK',
      '1',
      1,
      2,
      '2',
      'OK',
      ['1', '2', '3', null],
      1,
      1,
      'OK',
      null,
      'OK',
      '2',
      '2',
      'x',
    ]);
  });

  it('runs independent pipelined reads at the same time', async () => {
    const store = await openMemoryStore();
    const local = await openLocalBackend({ store });
    const together = PIPELINE_PARALLEL_MAX / 4;
    let inFlight = 0;
    let release: () => void = () => {};
    const allIn = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Each GET waits (bounded) until `together` GETs are running: one at a time, none would see the others.
    const get = async (): Promise<Uint8Array> => {
      inFlight++;
      if (inFlight === together) release();
      const met = await Promise.race([
        allIn.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 5000)),
      ]);
      return Buffer.from(met ? 'together' : 'alone');
    };
    const backend = new Proxy(local, {
      get: (target, property) => {
        if (property === 'get') return get;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as KvBackend;
    const server = await startRespServer({ backend, port: 0 });
    cleanups.push(async () => {
      await server.close();
      await local.close();
      await store.close();
    });
    const client = await RawClient.connect(server.port);
    cleanups.push(async () => client.close());
    const replies = await pipeline(
      client,
      Array.from({ length: together }, (_, i) => ['GET', `k${i}`]),
    );
    expect(replies).toEqual(Array.from({ length: together }, () => 'together'));
  });
});
