/**
 * The replicated backend over real peers: two in-process peers, each with
 * its own RESP server, and a third peer in its own process (filesystem
 * store), all owners of every slot (N=3, W=2, R=2) through a fixed slot map
 * shared by the three. Clients are real: redis-cli and ioredis.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPeer, type Peer } from '@tessera/peer';
import {
  type PeerProcess,
  spawnPeerProcess,
  testReplication,
  testTiming,
  waitFor,
} from '@tessera/peer/testing';
import { StaticPlacement } from '@tessera/replication/testing';
import { openMemoryStore } from '@tessera/storage';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RespServer, startRespServer } from '../server/server.ts';
import { openReplicatedBackend } from './replicated.ts';
import { RespEndpoints } from './resp-endpoints.ts';

const CLUSTER = 'relay-replicated';
const cleanups: (() => Promise<void>)[] = [];
/**
 * The expiry clock of both RESP backends: real time plus an offset the TTL
 * test moves, so "expired" never depends on how fast a loaded machine runs.
 */
let clockOffsetMs = 0;
const clock = () => Date.now() + clockOffsetMs;

interface RespPeer {
  peer: Peer;
  server: RespServer;
  stop(): Promise<void>;
}

async function startRespPeer(bootstrap: string[]): Promise<RespPeer> {
  const storage = await openMemoryStore();
  const peer = await createPeer({
    storage,
    cluster: CLUSTER,
    bootstrap,
    timing: testTiming,
    bootstrapRetry: { delayMsMin: 100, delayMsMax: 1000 },
    memberDialing: { intervalMs: 500 },
    replication: testReplication,
  });
  const endpoints = new RespEndpoints(peer);
  const server = await startRespServer({
    backend: openReplicatedBackend({ peer, endpoints, now: clock }),
    port: 0,
  });
  await endpoints.start({ host: '127.0.0.1', port: server.port });
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      endpoints.stop();
      await server.close();
      await peer.stop();
      await storage.close();
    })();
    return stopped;
  };
  cleanups.push(stop);
  return { peer, server, stop };
}

function tcpAddress(peer: Peer): string {
  const address = peer.multiaddrs.find((a) => !a.includes('/ws'));
  if (address === undefined) throw new Error('no TCP address');
  return address;
}

/** Runs redis-cli against `port`; resolves with stdout (an error reply is printed there without "(error)" when stdout is not a tty). */
function cli(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`redis-cli exited ${code}: ${err}`)),
    );
  });
}

function client(port: number): Redis {
  // No reconnecting: peer 2 stops in the last test while these clients are still open.
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  cleanups.push(async () => {
    redis.disconnect();
  });
  return redis;
}

/**
 * Whether the third owner's own quorum read finds `key`. Retried (bounded) on a
 * quorum miss: its 3 s request timeout was overrun under full-suite load.
 */
async function readOnC(key: string): Promise<boolean> {
  const read = await waitFor(
    async () => {
      try {
        return (await c.call({ cmd: 'get', key })) as { found: boolean };
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_QUORUM_NOT_REACHED') return undefined;
        throw error;
      }
    },
    { what: `a quorum read of ${key} on the third owner`, timeoutMs: 60_000 },
  );
  return read.found;
}

/**
 * TTL (seconds) of a key set with EX `seconds` at or after `sinceMs`: at most
 * `seconds`, and lower only by the time that has passed since (Redis rounds).
 * Not a fixed margin: a loaded machine spent over 10 s between SET and TTL.
 */
function expectTtlFrom(ttl: number, seconds: number, sinceMs: number): void {
  const elapsedS = Math.ceil((Date.now() - sinceMs) / 1000);
  expect(ttl).toBeLessThanOrEqual(seconds);
  expect(ttl).toBeGreaterThanOrEqual(seconds - elapsedS - 1);
}

let a: RespPeer;
let b: RespPeer;
let c: PeerProcess;

beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-relay-repl-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  a = await startRespPeer([]);
  const seed = tcpAddress(a.peer);
  b = await startRespPeer([seed]);
  c = await spawnPeerProcess(
    {
      cluster: CLUSTER,
      bootstrap: [seed],
      dataDir,
      timing: testTiming,
      replication: testReplication,
      // Generous: a child process took over 30 s to start with four copies of this file running at once.
    },
    90_000,
  );
  cleanups.push(() => c.kill());
  const owners = [a.peer.id, b.peer.id, c.id].sort();
  for (const { peer } of [a, b]) peer.placement.slots = new StaticPlacement(owners, 3);
  await c.call({ cmd: 'placement', peers: owners, ownersPerSlot: 3 });
  await waitFor(
    () =>
      [a, b].every(({ peer }) =>
        owners.every((id) => peer.members().find((m) => m.id === id)?.liveness === 'alive'),
      ),
    { what: 'all three owners alive in both views', timeoutMs: 90_000 },
  );
  // Alive is not yet writable: the first request to each owner opens its replication stream, which
  // overran the 3 s request timeout under full-suite load. Ready = a quorum write through each peer.
  await waitFor(
    async () =>
      (await cli(a.server.port, ['SET', 'ready:a', '1'])) === 'OK\n' &&
      (await cli(b.server.port, ['SET', 'ready:b', '1'])) === 'OK\n',
    { what: 'a quorum write through each RESP peer', timeoutMs: 90_000, intervalMs: 500 },
  );
}, 300_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}, 60_000);

describe('RESP over the replicated store', () => {
  it('a SET through peer 1 is read through peer 2 (redis-cli and ioredis), and by the third owner', async () => {
    expect(await cli(a.server.port, ['SET', 'cli:k', 'hello world'])).toBe('OK\n');
    expect(await cli(b.server.port, ['GET', 'cli:k'])).toBe('hello world\n');
    // The record is the local backend's layout, { v: bytes }, on the owner in the other process too.
    expect(await readOnC('cli:k')).toBe(true);

    const one = client(a.server.port);
    const two = client(b.server.port);
    await Promise.all([one.connect(), two.connect()]);
    const binary = Buffer.from([0, 255, 13, 10, 7]);
    expect(await one.set('io:bin', binary)).toBe('OK');
    expect(await two.getBuffer('io:bin')).toEqual(binary);
    expect(await two.set('io:k', 'v2')).toBe('OK');
    expect(await one.get('io:k')).toBe('v2');
    expect(await one.exists('io:k', 'io:k', 'io:none')).toBe(2);
    expect(await two.mget('io:k', 'io:none', 'cli:k')).toEqual(['v2', null, 'hello world']);
    expect(await one.del('io:k', 'io:none')).toBe(1);
    expect(await two.get('io:k')).toBe(null);
    // SELECT: databases are separate key spaces on every peer.
    await one.select(3);
    await one.set('io:db', 'three');
    expect(await two.get('io:db')).toBe(null);
    await two.select(3);
    expect(await two.get('io:db')).toBe('three');
  });

  it('a value or key over the replicated bound is -ERR …exceeded (not TRYAGAIN), and nothing is written', async () => {
    const one = client(a.server.port);
    const two = client(b.server.port);
    await Promise.all([one.connect(), two.connect()]);
    // Under the store's 1 MiB and 1024-byte limits, but over them once wrapped in the replica record and slot index.
    await expect(one.set('big:v', Buffer.alloc(1024 * 1024 - 100, 1))).rejects.toThrow(
      /^ERR valueBytesMax exceeded: \d+ > \d+$/,
    );
    await expect(one.set(Buffer.alloc(1010, 0x6b), 'v')).rejects.toThrow(
      /^ERR keyBytesMax exceeded: \d+ > \d+$/,
    );
    expect(await two.get('big:v')).toBe(null);
    // A read of a key no write can store is refused the same way.
    await expect(two.get(Buffer.alloc(1010, 0x6b))).rejects.toThrow(/^ERR keyBytesMax exceeded/);
    expect(await readOnC('big:v')).toBe(false);
  });

  it('SET EX/PX/EXAT and KEEPTTL are visible on another peer, and an expired key is gone there', async () => {
    const one = client(a.server.port);
    const two = client(b.server.port);
    await Promise.all([one.connect(), two.connect()]);
    const setAtMs = Date.now();
    expect(await one.set('ttl:ex', 'x', 'EX', 100)).toBe('OK');
    expectTtlFrom(await two.ttl('ttl:ex'), 100, setAtMs);
    expect(await one.set('ttl:ex', 'y', 'KEEPTTL')).toBe('OK');
    expect(await two.get('ttl:ex')).toBe('y');
    expectTtlFrom(await two.ttl('ttl:ex'), 100, setAtMs);
    expect(await one.set('ttl:none', 'z')).toBe('OK');
    expect(await two.ttl('ttl:none')).toBe(-1);
    expect(await two.ttl('ttl:absent')).toBe(-2);

    // PX, then the backends' clock moved past it (a real 300 ms expiry raced the GET on a loaded machine).
    expect(await one.set('ttl:short', 'soon', 'PX', 60_000)).toBe('OK');
    expect(await two.get('ttl:short')).toBe('soon');
    const pttl = await two.pttl('ttl:short');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    clockOffsetMs += 61_000;
    try {
      expect(await two.get('ttl:short')).toBe(null);
      expect(await two.exists('ttl:short')).toBe(0);
      expect(await two.pttl('ttl:short')).toBe(-2);
    } finally {
      clockOffsetMs -= 61_000;
    }
    // An EXAT in the past deletes, as in Redis.
    expect(await one.set('ttl:none', 'gone', 'EXAT', 1)).toBe('OK');
    expect(await two.get('ttl:none')).toBe(null);
  });

  it('SET NX/XX/GET, the INCR family, MSET, KEYS, SCAN and DBSIZE work across peers', async () => {
    const one = client(a.server.port);
    const two = client(b.server.port);
    await Promise.all([one.connect(), two.connect()]);
    expect(await one.set('cw:k', 'v1', 'NX')).toBe('OK');
    expect(await two.set('cw:k', 'v2', 'NX')).toBe(null);
    expect(await two.set('cw:absent', 'x', 'XX')).toBe(null);
    expect(await two.exists('cw:absent')).toBe(0);
    expect(await two.call('SET', 'cw:k', 'v3', 'XX', 'GET')).toBe('v1');
    expect(await one.get('cw:k')).toBe('v3');
    expect(await one.call('SET', 'cw:k', 'v4', 'GET')).toBe('v3');
    expect(await two.set('cw:new', 'n', 'GET')).toBe(null);
    expect(await one.get('cw:new')).toBe('n');
    // NX with an expiry on another peer, and KEEPTTL forwarded with it.
    const ttlSetAtMs = Date.now();
    expect(await two.call('SET', 'cw:ttl', 'a', 'NX', 'EX', '100')).toBe('OK');
    expect(await one.call('SET', 'cw:ttl', 'b', 'XX', 'KEEPTTL')).toBe('OK');
    expectTtlFrom(await two.ttl('cw:ttl'), 100, ttlSetAtMs);

    expect(await one.incr('cw:n')).toBe(1);
    expect(await two.incrby('cw:n', 41)).toBe(42);
    expect(await one.decr('cw:n')).toBe(41);
    expect(await two.decrby('cw:n', 50)).toBe(-9);
    expect(await one.get('cw:n')).toBe('-9');
    await expect(two.incr('cw:k')).rejects.toThrow('ERR value is not an integer or out of range');
    expect(await one.get('cw:k')).toBe('v4');
    await one.set('cw:max', '9223372036854775807');
    await expect(two.incr('cw:max')).rejects.toThrow('ERR increment or decrement would overflow');
    expect(await one.get('cw:max')).toBe('9223372036854775807');

    expect(await one.mset('ms:a', '1', 'ms:b', '2', 'ms:a', '3')).toBe('OK');
    expect(await two.mget('ms:a', 'ms:b')).toEqual(['3', '2']);

    // KEYS, SCAN and DBSIZE walk every slot of a database, whichever peer is asked.
    await one.select(5);
    await two.select(5);
    const written = Array.from({ length: 40 }, (_, i) => `sc:${i}`);
    await Promise.all(written.map((k) => one.set(k, k)));
    await one.set('sc:ttl', 'x', 'EX', 100);
    await one.set('other', 'y');
    await one.set('sc:gone', 'z', 'PX', 60_000);
    clockOffsetMs += 61_000;
    try {
      expect((await two.keys('sc:*')).sort()).toEqual([...written, 'sc:ttl'].sort());
      expect(await two.dbsize()).toBe(42);
      // SCAN in small pages through its cursor (the server's, over the Replicator's scan position).
      const paged: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await two.scan(cursor, 'MATCH', 'sc:*', 'COUNT', 7);
        paged.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      expect(paged.sort()).toEqual([...written, 'sc:ttl'].sort());
      const scanned = (await cli(b.server.port, ['-n', '5', '--scan', '--pattern', 'sc:*']))
        .trim()
        .split('\n');
      expect(scanned.sort()).toEqual([...written, 'sc:ttl'].sort());
    } finally {
      clockOffsetMs -= 61_000;
    }
    // INFO still answers (ioredis sends it on connect); counting is DBSIZE's job, so its keyspace section is empty.
    expect(await cli(b.server.port, ['INFO', 'keyspace'])).toContain('# Keyspace');
    // A value written through peer.put by another front end (the dashboard's key browser) is not a RESP string.
    await a.peer.put('un:foreign', { name: 'Ada' });
    expect(await cli(b.server.port, ['GET', 'un:foreign'])).toMatch(
      /^ERR reading a key written by another front end is not supported on the replicated backend yet/,
    );
    expect(await cli(b.server.port, ['KEYS', 'un:*'])).toBe('\n');
  });

  it("racing read-modify-writes through two peers are serialized at the key's primary", async () => {
    const clients = [
      client(a.server.port),
      client(a.server.port),
      client(b.server.port),
      client(b.server.port),
    ];
    await Promise.all(clients.map((c) => c.connect()));
    // 4 clients x 25 INCR of one key: each number 1..100 handed out exactly once, none lost.
    const results = await Promise.all(
      clients.map(async (c) => {
        const seen: number[] = [];
        for (let i = 0; i < 25; i++) seen.push(await c.incr('race:ctr'));
        return seen;
      }),
    );
    expect(results.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(await clients[0]!.get('race:ctr')).toBe('100');
    // Eight SET NX of one key at once through both peers: exactly one wins, and its value stays.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => clients[i % 4]!.set('race:nx', `w${i}`, 'NX')),
    );
    const winners = outcomes.flatMap((o, i) => (o === 'OK' ? [`w${i}`] : []));
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o === null)).toHaveLength(7);
    expect(await clients[3]!.get('race:nx')).toBe(winners[0]);
  });

  it("CLUSTER SLOTS follows the peer's slot map with each owner's published RESP endpoint", async () => {
    const ports = new Map([
      [a.peer.id, a.server.port],
      [b.peer.id, b.server.port],
    ]);
    // The slot map the peers run themselves (three owners, N=3); the third publishes no RESP endpoint.
    await waitFor(() => a.peer.slotMap.map.ranges.some((r) => r.owners.length === 3), {
      what: 'a committed slot map with three owners',
      timeoutMs: 120_000,
    });
    const expected = () =>
      a.peer.slotMap.map.ranges.map((r) => [
        r.start,
        r.end,
        r.owners.filter((id) => ports.has(id)).map((id) => ports.get(id)),
      ]);
    // Malformed endpoint messages from a peer are ignored; its last good endpoint stays.
    for (const payload of [{ host: 5, port: 'x' }, { host: '127.0.0.1', port: 70_000 }, null]) {
      await b.peer.publish({ messageType: 'relay', eventType: 'resp-endpoint', payload });
    }
    const relayMessagesFromB = async () => {
      let n = 0;
      for await (const m of a.peer.messages()) if (m.from === b.peer.id && m.messageType === 'relay') n++;
      return n;
    };
    await waitFor(async () => (await relayMessagesFromB()) >= 4, { what: 'peer 1 to hold the bad messages' });
    const redis = client(a.server.port);
    await redis.connect();
    const slots = await redis.cluster('SLOTS');
    const seen = slots.map(([start, end, ...owners]) => [start, end, owners.map((o) => o[1])]);
    expect(seen).toEqual(expected());
    expect(seen.flatMap((r) => r[2] as number[])).toContain(b.server.port);
    const nodes = String(await redis.cluster('NODES'));
    expect(nodes).toContain(`127.0.0.1:${b.server.port}@`);
    expect(nodes).toMatch(/myself,master/);

    // ioredis in Cluster mode follows that map; writes land wherever it sends them and read back anywhere.
    const cluster = new Cluster([{ host: '127.0.0.1', port: a.server.port }], {
      lazyConnect: true,
      // ioredis' default 1 s for CLUSTER SLOTS failed the connect under full-suite load.
      slotsRefreshTimeout: 20_000,
      redisOptions: { maxRetriesPerRequest: 0 },
    });
    cleanups.push(async () => cluster.disconnect());
    await cluster.connect();
    for (let i = 0; i < 20; i++) expect(await cluster.set(`cl:${i}`, `v${i}`)).toBe('OK');
    const two = client(b.server.port);
    await two.connect();
    for (let i = 0; i < 20; i++) expect(await two.get(`cl:${i}`)).toBe(`v${i}`);
    // Before peer 2 stops below, or the cluster client keeps reconnecting to it.
    cluster.disconnect();
  }, 180_000);

  it('an owner process SIGKILLed under RESP SET load loses no acknowledged SET', async () => {
    const writers = [client(a.server.port), client(a.server.port), client(b.server.port)];
    await Promise.all(writers.map((w) => w.connect()));
    const acknowledged = new Map<string, string>();
    let failed = 0;
    const failures = new Map<string, number>();
    let running = true;
    const loops = writers.map(async (w, i) => {
      let seq = 0;
      while (running) {
        const key = `kill:${i}:${seq}`;
        const value = `v-${i}-${seq++}`;
        try {
          if ((await w.set(key, value)) === 'OK') acknowledged.set(key, value);
        } catch (error) {
          failed++;
          const kind = String(error).replace(/\d+/g, 'N');
          failures.set(kind, (failures.get(kind) ?? 0) + 1);
          // Back off as a cluster client does on TRYAGAIN (ioredis: 100 ms): a hot retry loop
          // only measures how fast failures can spin, and starves the two in-process peers.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });
    await waitFor(() => acknowledged.size >= 60, {
      what: '60 acknowledged SETs before the kill',
      timeoutMs: 60_000,
    });
    await c.kill();
    const atKill = acknowledged.size;
    await waitFor(() => acknowledged.size >= atKill + 60, {
      what: '60 more acknowledged SETs after the kill',
      timeoutMs: 60_000,
    });
    running = false;
    await Promise.all(loops);

    const reader = client(b.server.port);
    await reader.connect();
    const keys = [...acknowledged.keys()];
    const lost: string[] = [];
    for (let i = 0; i < keys.length; i += 50) {
      const batch = keys.slice(i, i + 50);
      // A read that misses its quorum (a 3 s request timeout overrun under full-suite load) is asked
      // again: it says nothing about the write. Any answer is final and must be the acknowledged value.
      const values = await Promise.all(
        batch.map((k) =>
          waitFor(
            async () => {
              try {
                return { value: await reader.get(k) };
              } catch (error) {
                if (String(error).includes('TRYAGAIN quorum not reached')) return undefined;
                throw error;
              }
            },
            { what: `a quorum read of ${k}`, timeoutMs: 60_000 },
          ).then((r) => r.value),
        ),
      );
      batch.forEach((k, j) => {
        if (values[j] !== acknowledged.get(k)) lost.push(`${k}=${values[j]}`);
      });
    }
    expect(lost).toEqual([]);
    expect(keys.length).toBeGreaterThanOrEqual(120);
    // A failed SET is allowed (it was not acknowledged) only as a quorum miss while the kill is noticed,
    // and it must not be the norm with 2 of 3 owners up.
    const kinds = [...failures.keys()];
    expect(
      kinds.every((k) => k.startsWith('ReplyError: TRYAGAIN quorum not reached')),
      JSON.stringify([...failures]),
    ).toBe(true);
    expect(failed, JSON.stringify([...failures])).toBeLessThan(keys.length);
  }, 180_000);

  it('with two of three owners gone, a SET is -TRYAGAIN quorum not reached', async () => {
    // The third owner was killed above; now stop peer 2 as well.
    await b.stop();
    const out = await cli(a.server.port, ['SET', 'q:k', 'v']);
    expect(out.trim()).toBe('TRYAGAIN quorum not reached: 1 of 2 acknowledged');
    // A conditional write: its primary (peer 2) is gone or its quorum is, either way TRYAGAIN, nothing done.
    expect(await cli(a.server.port, ['INCR', 'q:n'])).toMatch(/^TRYAGAIN /);
    expect(await cli(a.server.port, ['SET', 'q:nx', 'v', 'NX'])).toMatch(/^TRYAGAIN /);
    const read = await cli(a.server.port, ['GET', 'q:k']);
    expect(read.trim()).toBe('TRYAGAIN quorum not reached: 1 of 2 acknowledged');

    // TESSERA.CONSISTENCY one on a connection: W = R = 1 there, while other connections keep quorum.
    const relaxed = client(a.server.port);
    await relaxed.connect();
    expect(await relaxed.call('TESSERA.CONSISTENCY')).toBe('default');
    expect(await relaxed.call('TESSERA.CONSISTENCY', 'one')).toBe('OK');
    expect(await relaxed.call('TESSERA.CONSISTENCY')).toBe('one');
    expect(await relaxed.set('q:one', 'v1')).toBe('OK');
    expect(await relaxed.get('q:one')).toBe('v1');
    expect((await cli(a.server.port, ['GET', 'q:one'])).trim()).toBe(
      'TRYAGAIN quorum not reached: 1 of 2 acknowledged',
    );
    await expect(relaxed.call('TESSERA.CONSISTENCY', 'most')).rejects.toThrow(
      'ERR consistency must be one, quorum, all or default',
    );
    expect(await relaxed.call('TESSERA.CONSISTENCY', 'default')).toBe('OK');
    await expect(relaxed.get('q:one')).rejects.toThrow('TRYAGAIN quorum not reached: 1 of 2 acknowledged');
  }, 60_000);
});
