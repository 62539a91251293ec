import { keySlot } from '@tessera/core';
import { openMemoryStore } from '@tessera/storage';
import { afterEach, describe, expect, it } from 'vitest';
import type { KvBackend } from '../backend/backend.ts';
import { openLocalBackend } from '../backend/local-backend.ts';
import { encodeCommand } from '../resp/encode.ts';
import { startRespServer } from './server.ts';
import { plain, RawClient, startTestServer, type TestServer } from './test-harness.ts';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function setup(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const t = await startTestServer(options);
  open.push(t);
  return t;
}

async function client(t: TestServer): Promise<RawClient> {
  const c = await RawClient.connect(t.port);
  open.push(c);
  return c;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RESP server over raw TCP', () => {
  it("speaks the seeds' inline text protocol", async () => {
    const t = await setup();
    const c = await client(t);
    c.write('SET k v\r\n');
    expect(plain(await c.reply())).toBe('OK');
    c.write('GET k\r\n');
    expect(plain(await c.reply())).toBe('v');
    c.write('DEL k\n');
    expect(plain(await c.reply())).toBe(1);
    c.write('GET k\r\n');
    expect(plain(await c.reply())).toBe(null);
    c.write('SET "two words" "a\\x00b"\r\nGET "two words"\r\n');
    expect(plain(await c.reply())).toBe('OK');
    expect(plain(await c.reply())).toBe('a\0b');
  });

  it('answers pipelined commands in order, from one write', async () => {
    const t = await setup();
    const c = await client(t);
    const commands: string[][] = [];
    for (let i = 0; i < 200; i++) commands.push(['SET', `k${i}`, `v${i}`], ['GET', `k${i}`], ['INCR', 'n']);
    c.write(Buffer.concat(commands.map((x) => encodeCommand(x))));
    for (let i = 0; i < 200; i++) {
      expect(plain(await c.reply())).toBe('OK');
      expect(plain(await c.reply())).toBe(`v${i}`);
      expect(plain(await c.reply())).toBe(i + 1);
    }
    expect(await c.call('DBSIZE')).toBe(201);
  });

  it('keeps binary values intact', async () => {
    const t = await setup();
    const c = await client(t);
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await c.call('SET', Buffer.from([0, 13, 10]), value)).toBe('OK');
    c.write(encodeCommand(['GET', Buffer.from([0, 13, 10])]));
    const reply = await c.reply();
    expect(reply.type).toBe('bulk');
    expect(Buffer.compare(Buffer.from((reply as { value: Uint8Array }).value), value)).toBe(0);
  });

  it('switches to RESP3 with HELLO 3 and back', async () => {
    const t = await setup();
    const c = await client(t);
    c.write(encodeCommand(['HELLO', '3']));
    const hello = await c.reply();
    expect(hello.type).toBe('map');
    expect(plain(hello)).toMatchObject({ proto: 3, server: 'tessera', mode: 'cluster', role: 'master' });
    c.write(encodeCommand(['GET', 'missing']));
    expect((await c.reply()).type).toBe('null');
    c.write(encodeCommand(['CLUSTER', 'INFO']));
    expect((await c.reply()).type).toBe('verbatim');
    c.write(encodeCommand(['HELLO', '2']));
    expect((await c.reply()).type).toBe('array');
    c.write(encodeCommand(['GET', 'missing']));
    const nil = await c.reply();
    expect(nil.type).toBe('null');
    expect(await c.call('HELLO', '4')).toEqual({ error: 'NOPROTO unsupported protocol version' });
  });

  it('words errors like Redis', async () => {
    const t = await setup();
    const c = await client(t);
    expect(await c.call('FOO', 'a', 'b')).toEqual({
      error: "ERR unknown command 'FOO', with args beginning with: 'a' 'b' ",
    });
    expect(await c.call('GET')).toEqual({ error: "ERR wrong number of arguments for 'get' command" });
    expect(await c.call('SET', 'k')).toEqual({ error: "ERR wrong number of arguments for 'set' command" });
    expect(await c.call('MSET', 'a', '1', 'b')).toEqual({
      error: "ERR wrong number of arguments for 'mset' command",
    });
    expect(await c.call('CLUSTER', 'KEYSLOT')).toEqual({
      error: "ERR wrong number of arguments for 'cluster|keyslot' command",
    });
    expect(await c.call('CLUSTER', 'NOPE')).toEqual({
      error: "ERR unknown subcommand 'NOPE'. Try CLUSTER HELP.",
    });
    expect(await c.call('SET', 'k', 'v', 'NX', 'XX')).toEqual({ error: 'ERR syntax error' });
    expect(await c.call('SET', 'k', 'v', 'EX', '0')).toEqual({
      error: "ERR invalid expire time in 'set' command",
    });
    expect(await c.call('SET', 'k', 'v', 'EX', 'x')).toEqual({
      error: 'ERR value is not an integer or out of range',
    });
    expect(await c.call('SET', 'k', 'v', 'KEEPTTL', 'PX', '5')).toEqual({ error: 'ERR syntax error' });
    expect(await c.call('SET', 's', 'abc')).toBe('OK');
    expect(await c.call('INCR', 's')).toEqual({ error: 'ERR value is not an integer or out of range' });
    expect(await c.call('INCRBY', 'n', '1.5')).toEqual({
      error: 'ERR value is not an integer or out of range',
    });
    expect(await c.call('SET', 'max', '9223372036854775807')).toBe('OK');
    expect(await c.call('INCR', 'max')).toEqual({ error: 'ERR increment or decrement would overflow' });
    expect(await c.call('DECRBY', 'n', '-9223372036854775808')).toEqual({
      error: 'ERR decrement would overflow',
    });
    expect(await c.call('SELECT', '16')).toEqual({ error: 'ERR DB index is out of range' });
    expect(await c.call('SELECT', 'x')).toEqual({ error: 'ERR value is not an integer or out of range' });
    expect(await c.call('PING')).toBe('PONG');
  });

  it('runs SET with every option, expiry included', async () => {
    const t = await setup();
    const c = await client(t);
    expect(await c.call('SET', 'k', '1', 'XX')).toBe(null);
    expect(await c.call('SET', 'k', '1', 'NX')).toBe('OK');
    expect(await c.call('SET', 'k', '2', 'NX')).toBe(null);
    expect(await c.call('SET', 'k', '3', 'XX', 'GET')).toBe('1');
    expect(await c.call('SET', 'k', '4', 'GET', 'EX', '100')).toBe('3');
    const ttl = await c.call('PTTL', 'k');
    expect(ttl).toBeGreaterThan(90_000);
    expect(ttl).toBeLessThanOrEqual(100_000);
    expect(await c.call('SET', 'k', '5', 'KEEPTTL')).toBe('OK');
    expect(await c.call('TTL', 'k')).toBeGreaterThan(90);
    expect(await c.call('SET', 'k', '6')).toBe('OK');
    expect(await c.call('TTL', 'k')).toBe(-1);
    const future = Date.now() + 60_000;
    expect(await c.call('SET', 'at', 'x', 'PXAT', String(future))).toBe('OK');
    expect(await c.call('PTTL', 'at')).toBeGreaterThan(0);
    expect(await c.call('SET', 'at2', 'x', 'EXAT', String(Math.floor(future / 1000)))).toBe('OK');
    expect(await c.call('TTL', 'at2')).toBeGreaterThan(0);
    expect(await c.call('SET', 'past', 'x', 'PXAT', '1')).toBe('OK');
    expect(await c.call('EXISTS', 'past')).toBe(0);
    expect(await c.call('SET', 'short', 'x', 'PX', '30')).toBe('OK');
    expect(await c.call('GET', 'short')).toBe('x');
    await sleep(80);
    expect(await c.call('GET', 'short')).toBe(null);
    expect(await c.call('EXISTS', 'short')).toBe(0);
    expect(await c.call('PTTL', 'short')).toBe(-2);
  });

  it('reaps expired keys in the background', async () => {
    const t = await setup();
    const c = await client(t);
    for (let i = 0; i < 20; i++) expect(await c.call('SET', `e${i}`, 'v', 'PX', '20')).toBe('OK');
    expect(await c.call('SET', 'stay', 'v')).toBe('OK');
    let size = await c.call('DBSIZE');
    for (let i = 0; i < 100 && size !== 1; i++) {
      await sleep(20);
      size = await c.call('DBSIZE');
    }
    expect(size).toBe(1);
  });

  it('runs MGET, MSET, EXISTS, DEL, INCR and DECR', async () => {
    const t = await setup();
    const c = await client(t);
    expect(await c.call('MSET', 'a', '1', 'b', '2')).toBe('OK');
    expect(await c.call('MGET', 'a', 'b', 'c')).toEqual(['1', '2', null]);
    expect(await c.call('EXISTS', 'a', 'a', 'c')).toBe(2);
    expect(await c.call('INCR', 'a')).toBe(2);
    expect(await c.call('INCRBY', 'a', '10')).toBe(12);
    expect(await c.call('DECR', 'a')).toBe(11);
    expect(await c.call('DECRBY', 'a', '20')).toBe(-9);
    expect(await c.call('DEL', 'a', 'b', 'c', 'a')).toBe(2);
    expect(await c.call('DBSIZE')).toBe(0);
  });

  it('keeps databases apart with SELECT', async () => {
    const t = await setup();
    const c = await client(t);
    expect(await c.call('SET', 'k', 'zero')).toBe('OK');
    expect(await c.call('SELECT', '3')).toBe('OK');
    expect(await c.call('GET', 'k')).toBe(null);
    expect(await c.call('SET', 'k', 'three')).toBe('OK');
    expect(await c.call('KEYS', '*')).toEqual(['k']);
    expect(await c.call('SELECT', '0')).toBe('OK');
    expect(await c.call('GET', 'k')).toBe('zero');
    const info = String(await c.call('INFO', 'keyspace'));
    expect(info).toContain('db0:keys=1,expires=0');
    expect(info).toContain('db3:keys=1,expires=0');
  });

  it('lists keys with KEYS and walks them with SCAN cursors, MATCH and COUNT', async () => {
    const t = await setup();
    const c = await client(t);
    const names = Array.from({ length: 150 }, (_, i) => `user:${i}`);
    for (const n of names) await c.call('SET', n, 'v');
    for (let i = 0; i < 20; i++) await c.call('SET', `order:${i}`, 'v');
    expect(((await c.call('KEYS', 'user:*')) as string[]).sort()).toEqual([...names].sort());
    expect(((await c.call('KEYS', 'order:1?')) as string[]).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `order:1${i}`).sort(),
    );
    const seen: string[] = [];
    let cursor = '0';
    let steps = 0;
    do {
      const [next, keys] = (await c.call('SCAN', cursor, 'MATCH', 'user:*', 'COUNT', '17')) as [
        string,
        string[],
      ];
      expect(next).toMatch(/^\d+$/);
      seen.push(...keys);
      cursor = next;
      steps++;
    } while (cursor !== '0');
    expect(steps).toBeGreaterThan(5);
    expect(seen.sort()).toEqual([...names].sort());
    expect(await c.call('SCAN', '12345')).toEqual({ error: 'ERR invalid cursor' });
    expect(await c.call('SCAN', '0', 'COUNT', '0')).toEqual({ error: 'ERR syntax error' });
    expect(await c.call('SCAN', '0', 'COUNT', '1000', 'TYPE', 'hash')).toEqual(['0', []]);
  });

  it('serves the cluster commands from the backend topology', async () => {
    const t = await setup();
    const c = await client(t);
    for (const key of ['foo', 'bar', '{user1000}.following', 'foo{}{bar}']) {
      expect(await c.call('CLUSTER', 'KEYSLOT', key)).toBe(keySlot(key));
    }
    expect(await c.call('CLUSTER', 'KEYSLOT', 'foo')).toBe(12182);
    const id = t.backend.nodeId;
    expect(await c.call('CLUSTER', 'MYID')).toBe(id);
    expect(await c.call('CLUSTER', 'SLOTS')).toEqual([[0, 16383, ['127.0.0.1', t.port, id, []]]]);
    const nodes = String(await c.call('CLUSTER', 'NODES'));
    expect(nodes.endsWith('\n')).toBe(true);
    const fields = nodes.trim().split(' ');
    const bus = t.port + 10000 <= 65535 ? t.port + 10000 : 0;
    expect(fields.slice(0, 5)).toEqual([id, `127.0.0.1:${t.port}@${bus}`, 'myself,master', '-', '0']);
    expect(fields[5]).toMatch(/^\d+$/);
    expect(fields.slice(6)).toEqual(['0', 'connected', '0-16383']);
    const info = String(await c.call('CLUSTER', 'INFO'));
    expect(info).toContain('cluster_state:ok\r\n');
    expect(info).toContain('cluster_slots_assigned:16384\r\n');
    const shards = (await c.call('CLUSTER', 'SHARDS')) as string[][];
    expect(shards).toHaveLength(1);
    expect(await c.call('READONLY')).toBe('OK');
    expect(String(await c.call('CLIENT', 'INFO'))).toContain('flags=r');
    expect(await c.call('READWRITE')).toBe('OK');
  });

  it('names clients and reports them', async () => {
    const t = await setup();
    const c = await client(t);
    const id = await c.call('CLIENT', 'ID');
    expect(typeof id).toBe('number');
    expect(await c.call('CLIENT', 'GETNAME')).toBe(null);
    expect(await c.call('CLIENT', 'SETNAME', 'worker-1')).toBe('OK');
    expect(await c.call('CLIENT', 'GETNAME')).toBe('worker-1');
    expect(await c.call('CLIENT', 'SETNAME', 'has space')).toEqual({
      error: 'ERR Client names cannot contain spaces, newlines or special characters.',
    });
    const line = String(await c.call('CLIENT', 'INFO'));
    expect(line).toContain(`id=${id} `);
    expect(line).toContain('name=worker-1 ');
    expect(line).toContain('cmd=client|info ');
    const other = await client(t);
    await other.call('PING');
    expect(
      String(await c.call('CLIENT', 'LIST'))
        .trim()
        .split('\n'),
    ).toHaveLength(2);
    expect(await c.call('ECHO', 'hi')).toBe('hi');
    expect(await c.call('PING', 'x')).toBe('x');
    expect(await c.call('COMMAND', 'COUNT')).toBe(((await c.call('COMMAND')) as unknown[]).length);
  });

  it('requires AUTH when a password is set', async () => {
    const t = await setup({ password: 's3cret' });
    const c = await client(t);
    expect(await c.call('GET', 'k')).toEqual({ error: 'NOAUTH Authentication required.' });
    expect(await c.call('AUTH', 'wrong')).toEqual({
      error: 'WRONGPASS invalid username-password pair or user is disabled.',
    });
    expect(await c.call('AUTH', 's3cret')).toBe('OK');
    expect(await c.call('SET', 'k', 'v')).toBe('OK');
    const h = await client(t);
    expect(await h.call('HELLO', '3')).toMatchObject({
      error: expect.stringMatching(/^NOAUTH HELLO must be called/),
    });
    expect(await h.call('HELLO', '3', 'AUTH', 'default', 'nope')).toEqual({
      error: 'WRONGPASS invalid username-password pair or user is disabled.',
    });
    expect(await h.call('HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'h')).toMatchObject({
      proto: 3,
    });
    expect(await h.call('GET', 'k')).toBe('v');
    expect(await h.call('CLIENT', 'GETNAME')).toBe('h');
    const open = await setup();
    const o = await client(open);
    expect(await o.call('AUTH', 'x')).toEqual({
      error: expect.stringMatching(/^ERR AUTH <password> called without/),
    });
  });

  it('cuts an unauthenticated client that declares a big request', async () => {
    const t = await setup({ password: 'p' });
    const c = await client(t);
    c.write('*2\r\n$4\r\nAUTH\r\n$100000\r\n');
    expect(await c.repliesUntilClosed()).toEqual([
      { error: 'ERR Protocol error: unauthenticated bulk length' },
    ]);
  });

  it('closes after QUIT', async () => {
    const t = await setup();
    const c = await client(t);
    c.write(encodeCommand(['QUIT']));
    expect(await c.repliesUntilClosed()).toEqual(['OK']);
  });

  it('answers everything a half-closed client sent before closing', async () => {
    const t = await setup();
    const c = await client(t);
    c.socket.end('SET a 1\r\nGET a\r\nINCR a\r\n');
    expect(await c.repliesUntilClosed()).toEqual(['OK', '1', 2]);
  });

  it('tells a client over a store limit, and keeps its connection', async () => {
    const t = await setup();
    const c = await client(t);
    expect(await c.call('SET', 'big', Buffer.alloc(2 * 1024 * 1024, 1))).toEqual({
      error: expect.stringMatching(/^ERR valueBytesMax exceeded/),
    });
    expect(await c.call('GET', 'big')).toBe(null);
    expect(t.errors).toEqual([]);
  });
});

describe('RESP server under hostile clients', () => {
  it('cuts malformed RESP with a protocol error, after answering what came before', async () => {
    const t = await setup();
    const bad = await client(t);
    const good = await client(t);
    bad.write('*1\r\n$4\r\nPING\r\n*1\r\n+PING\r\n');
    expect(await bad.repliesUntilClosed()).toEqual([
      'PONG',
      { error: "ERR Protocol error: expected '$', got '+'" },
    ]);
    expect(await good.call('SET', 'still', 'here')).toBe('OK');
    expect(await good.call('GET', 'still')).toBe('here');
  });

  it('cuts a huge bulk string header before allocating it', async () => {
    const t = await setup();
    const bad = await client(t);
    const good = await client(t);
    bad.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$9999999999\r\n');
    expect(await bad.repliesUntilClosed()).toEqual([{ error: 'ERR Protocol error: invalid bulk length' }]);
    const other = await client(t);
    other.write('*2147483648\r\n');
    expect(await other.repliesUntilClosed()).toEqual([
      { error: 'ERR Protocol error: invalid multibulk length' },
    ]);
    expect(await good.call('PING')).toBe('PONG');
  });

  it('cuts a client whose single command outgrows queryBufferBytesMax', async () => {
    const t = await setup({ limits: { queryBufferBytesMax: 64 * 1024, bulkBytesMax: 1024 * 1024 } });
    const bad = await client(t);
    bad.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$200000\r\n');
    bad.write(Buffer.alloc(100_000, 0x61));
    const replies = await bad.repliesUntilClosed();
    expect(replies).toEqual([
      { error: expect.stringMatching(/^ERR Protocol error: query buffer limit exceeded/) },
    ]);
    const good = await client(t);
    expect(await good.call('PING')).toBe('PONG');
  });

  it('cuts a slowloris client while another client keeps working', async () => {
    const t = await setup({ partialCommandTimeoutMs: 300 });
    const slow = await client(t);
    const good = await client(t);
    const bytes = Buffer.from('*2\r\n$3\r\nGET\r\n$10\r\nabcdefghij\r\n');
    let sent = 0;
    let closed = false;
    void slow.closed.then(() => {
      closed = true;
    });
    let goodReplies = 0;
    while (!closed && sent < bytes.length) {
      slow.write(bytes.subarray(sent, sent + 1));
      sent++;
      expect(await good.call('INCR', 'ticks')).toBe(++goodReplies);
      await sleep(50);
    }
    const replies = await slow.repliesUntilClosed();
    expect(sent).toBeLessThan(bytes.length);
    expect(replies).toEqual([{ error: expect.stringMatching(/partialCommandTimeoutMs/) }]);
    expect(await good.call('GET', 'ticks')).toBe(String(goodReplies));
  });

  it('closes idle connections after clientIdleTimeoutMs when set', async () => {
    const t = await setup({ clientIdleTimeoutMs: 200 });
    const c = await client(t);
    expect(await c.call('PING')).toBe('PONG');
    await c.closed;
    for (let i = 0; i < 100 && t.server.connectionCount > 0; i++) await sleep(10);
    expect(t.server.connectionCount).toBe(0);
  });

  it('refuses connections beyond connectionsMax', async () => {
    const t = await setup({ connectionsMax: 2 });
    const a = await client(t);
    const b = await client(t);
    expect(await a.call('PING')).toBe('PONG');
    expect(await b.call('PING')).toBe('PONG');
    const c = await client(t);
    expect(await c.repliesUntilClosed()).toEqual([{ error: 'ERR max number of clients reached' }]);
    expect(t.server.stats.connectionsRejected).toBe(1);
    a.close();
    await a.closed;
    for (let i = 0; i < 50 && t.server.connectionCount > 1; i++) await sleep(10);
    const d = await client(t);
    expect(await d.call('PING')).toBe('PONG');
  });

  it('bounds the replies queued for a client that does not read, and loses none', async () => {
    const highWater = 256 * 1024;
    const t = await setup({ outputHighWaterBytes: highWater });
    const watcher = await client(t);
    const value = Buffer.alloc(100 * 1024, 0x62);
    expect(await watcher.call('SET', 'big', value)).toBe('OK');
    const reader = await client(t);
    reader.socket.pause();
    const count = 300;
    reader.write(Buffer.concat(Array.from({ length: count }, () => encodeCommand(['GET', 'big']))));
    const readerOmem = async (): Promise<number> => {
      const list = String(await watcher.call('CLIENT', 'LIST'));
      const line = list.split('\n').find((l) => !l.includes('cmd=client|list'))!;
      return Number(/omem=(\d+)/.exec(line)![1]);
    };
    // The server stops writing (and reading) for this client only once its
    // output passes the high-water mark, so wait for that before checking the bound.
    let omem = await readerOmem();
    for (let i = 0; i < 500 && omem <= highWater; i++) {
      await sleep(10);
      omem = await readerOmem();
    }
    expect(omem).toBeGreaterThan(highWater);
    expect(omem).toBeLessThanOrEqual(highWater + value.length + 64);
    // Still bounded a moment later: the server is waiting, not still queueing.
    await sleep(100);
    expect(await readerOmem()).toBeLessThanOrEqual(highWater + value.length + 64);
    reader.socket.resume();
    for (let i = 0; i < count; i++) {
      const reply = await reader.reply();
      expect(reply.type === 'bulk' && reply.value.length).toBe(value.length);
    }
  });

  it('never throws on random garbage and stays up', async () => {
    const t = await setup();
    for (let i = 0; i < 20; i++) {
      const c = await client(t);
      const garbage = Buffer.from(Array.from({ length: 200 }, (_, j) => (i * 131 + j * 17) % 256));
      c.write(garbage);
      c.socket.end();
      await c.closed;
    }
    const good = await client(t);
    expect(await good.call('PING')).toBe('PONG');
    expect(t.errors).toEqual([]);
  });

  it('closes gracefully: a running command still gets its reply', async () => {
    const store = await openMemoryStore();
    const backend = await openLocalBackend({ store });
    // Hold SET inside the backend so close() lands while it runs.
    let entered!: () => void;
    const inSet = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowSet: KvBackend['set'] = async (...args) => {
      entered();
      await gate;
      return backend.set(...args);
    };
    const slow = new Proxy(backend as KvBackend, {
      get(target, prop) {
        if (prop === 'set') return slowSet;
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const server = await startRespServer({ backend: slow, port: 0 });
    const c = await RawClient.connect(server.port);
    open.push(c, { close: () => backend.close() }, { close: () => store.close() });
    c.write(encodeCommand(['SET', 'k', 'v']));
    await inSet;
    const closing = server.close();
    release();
    expect(await c.repliesUntilClosed()).toEqual(['OK']);
    await closing;
    expect(server.connectionCount).toBe(0);
    expect(await backend.get(0, Buffer.from('k'))).toEqual(new Uint8Array(Buffer.from('v')));
    await expect(RawClient.connect(server.port)).rejects.toThrow();
  });
});
