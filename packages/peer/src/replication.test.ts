import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lpStream } from '@libp2p/utils';
import { decodeKey, decodeValue, encodeKey, encodeValue, InvalidArgumentError, keySlot } from '@tessera/core';
import { QuorumNotReachedError, REPLICATION_PROTOCOL } from '@tessera/replication';
import { StaticPlacement } from '@tessera/replication/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type DataChange, kvRecordKey, type Peer, routingKeyOfRecord } from './index.ts';
import { REQUEST_ID_BYTES, splitRequestId, withRequestId } from './replica-channel.ts';
import { type PeerProcess, spawnPeerProcess } from './testing/peer-process-control.ts';
import {
  startTestPeer,
  tcpAddress,
  testReplication,
  testSlotMap,
  testTiming,
  waitForSlotMap,
} from './testing/replication-cluster.ts';
import { waitFor } from './testing/wait.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const allAlive = (peer: Peer, ids: readonly string[]) =>
  ids.every((id) => peer.members().find((m) => m.id === id)?.liveness === 'alive');

describe('replication over libp2p: three owners, N=3 W=2 R=2', () => {
  it('a write through any peer (a child process, an owner, a client) is read through another', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tessera-repl-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const a = await startTestPeer(cleanups, 'repl-rw', []);
    const seed = tcpAddress(a);
    const b = await startTestPeer(cleanups, 'repl-rw', [seed]);
    const c: PeerProcess = await spawnPeerProcess({
      cluster: 'repl-rw',
      bootstrap: [seed],
      dataDir,
      timing: testTiming,
      replication: testReplication,
      slotMap: testSlotMap,
    });
    cleanups.push(() => c.kill());
    const client = await startTestPeer(cleanups, 'repl-rw', [seed], 'client');
    const owners = [a.id, b.id, c.id].sort();
    // The data plane routes with the committed slot map every peer runs.
    await waitForSlotMap([a, b, client], owners, [c]);
    await waitFor(() => [a, b, client].every((peer) => allAlive(peer, owners)), { what: 'all owners alive' });

    const written = await c.call<{ acknowledged: number; required: number }>({
      cmd: 'put',
      key: 'from-c',
      value: 'written in the child',
    });
    expect(written.required).toBe(2);
    expect(written.acknowledged).toBeGreaterThanOrEqual(2);
    const readOnA = await a.get('from-c');
    expect(readOnA).toMatchObject({ found: true, value: 'written in the child', required: 2 });
    expect(readOnA.answered).toBeGreaterThanOrEqual(2);

    await a.put('from-a', { n: 1, tags: ['x'] });
    expect(await c.call({ cmd: 'get', key: 'from-a' })).toMatchObject({
      found: true,
      value: { n: 1, tags: ['x'] },
    });

    // A client owns nothing: its writes and reads go to the owners.
    expect(owners).not.toContain(client.id);
    const byClient = await client.put('from-client', 'routed', { consistency: 'all' });
    expect(byClient.acknowledged).toBe(3);
    expect(await b.get('from-client', { consistency: { r: 3 } })).toMatchObject({
      found: true,
      value: 'routed',
    });
    expect(await client.get('from-c')).toMatchObject({ found: true, value: 'written in the child' });

    await b.delete('from-c');
    expect(await c.call({ cmd: 'get', key: 'from-c' })).toMatchObject({ found: false });
    expect(await client.get('from-c')).toMatchObject({ found: false });

    // Databases are separate keyspaces.
    await a.put('same', 'db 0');
    await a.put('same', 'db app', { database: 'app' });
    expect((await b.get('same')).value).toBe('db 0');
    expect((await b.get('same', { database: 'app' })).value).toBe('db app');

    // Documents over the same peers: written through an owner, found by index through the client.
    const users = await a.database('shop').collection('users', {
      fields: { id: 'string', city: 'string' },
      primaryKey: 'id',
      indexes: { byCity: ['city'] },
    });
    for (let i = 0; i < 12; i++) await users.insert({ id: `u${i}`, city: i % 3 === 0 ? 'Oslo' : 'Lima' });
    await expect(users.insert({ id: 'bad', city: 7 })).rejects.toMatchObject({
      name: 'SchemaViolationError',
    });
    const viaClient = await client.database('shop').collection('users');
    const found = await viaClient.find('byCity', { eq: ['Oslo'] });
    expect(found.documents.map((d) => d.id).sort()).toEqual(['u0', 'u3', 'u6', 'u9']);
    expect(await viaClient.get('bad')).toBeUndefined();

    // A retried write with the same idempotency key writes nothing new.
    const first = await client.put('once', 'v1', { idempotencyKey: 'req-1' });
    const retry = await client.put('once', 'v1', { idempotencyKey: 'req-1' });
    expect(first.isDuplicate).toBe(false);
    expect(retry).toMatchObject({ isDuplicate: true, version: first.version });
    await expect(client.put('once', 'other', { idempotencyKey: 'req-1' })).rejects.toMatchObject({
      name: 'IdempotencyKeyConflictError',
    });
  }, 240_000);

  it('lays a plain key out as an object of the kv collection, routed by the Redis slot of the user key', () => {
    const recordKey = kvRecordKey('foo');
    expect(decodeKey(recordKey)).toMatchObject({
      category: 'O',
      elements: [0, 'kv', new TextEncoder().encode('foo')],
    });
    expect(keySlot(routingKeyOfRecord(recordKey))).toBe(12182);
    expect(keySlot(routingKeyOfRecord(kvRecordKey('{user1000}.following', 'app')))).toBe(3443);
    // A record key that is not a kv object routes by its own bytes.
    const other = encodeKey('O', ['db', 'users', 42]);
    expect(routingKeyOfRecord(other)).toBe(other);
    expect(() => kvRecordKey('')).toThrow(InvalidArgumentError);
  });

  it('tells each owner of every change it stores (watch), filtered by database; a client owns nothing and hears nothing', async () => {
    const a = await startTestPeer(cleanups, 'repl-watch', []);
    const seed = tcpAddress(a);
    const b = await startTestPeer(cleanups, 'repl-watch', [seed]);
    const c = await startTestPeer(cleanups, 'repl-watch', [seed]);
    const client = await startTestPeer(cleanups, 'repl-watch', [seed], 'client');
    const owners = [a, b, c];
    const ids = owners.map((peer) => peer.id).sort();
    await waitForSlotMap([...owners, client], ids);
    await waitFor(() => [...owners, client].every((peer) => allAlive(peer, ids)), {
      what: 'all owners alive',
    });

    const seen = new Map<string, DataChange[]>();
    const appOnly: DataChange[] = [];
    for (const peer of [...owners, client]) {
      seen.set(peer.id, []);
      peer.watch((change) => seen.get(peer.id)!.push(change));
    }
    const stopApp = b.watch((change) => appOnly.push(change), { database: 'app' });
    expect(() => b.watch(() => undefined, { database: '' })).toThrow(InvalidArgumentError);

    const first = await client.put('w', { n: 1 }, { consistency: 'all' });
    await client.put(new Uint8Array([0xff, 0x00]), 'binary key', { consistency: 'all' });
    await a.put('w', 'in app', { database: 'app', consistency: 'all' });
    await c.delete('w', { consistency: 'all' });
    await Promise.all(owners.map((peer) => peer.replicator.settle()));

    for (const peer of owners) {
      const changes = seen.get(peer.id)!;
      expect(changes.map((ch) => [ch.database, ch.keyText, ch.deleted, ch.value])).toEqual([
        [0, 'w', false, { n: 1 }],
        [0, undefined, false, 'binary key'],
        ['app', 'w', false, 'in app'],
        [0, 'w', true, undefined],
      ]);
      expect(changes[0]!.version).toEqual(first.version);
      expect(changes[1]!.key).toEqual(new Uint8Array([0xff, 0x00]));
    }
    expect(seen.get(client.id)).toEqual([]);
    expect(appOnly.map((ch) => ch.value)).toEqual(['in app']);
    stopApp();
    await a.put('w2', 'after unsubscribe', { database: 'app', consistency: 'all' });
    await b.replicator.settle();
    expect(appOnly).toHaveLength(1);
  }, 180_000);

  it('fails with QuorumNotReachedError when two of three owners are down, and writes nothing as acknowledged', async () => {
    const a = await startTestPeer(cleanups, 'repl-qnr', []);
    const seed = tcpAddress(a);
    const b = await startTestPeer(cleanups, 'repl-qnr', [seed]);
    const c = await startTestPeer(cleanups, 'repl-qnr', [seed]);
    const owners = [a.id, b.id, c.id].sort();
    await waitForSlotMap([a, b, c], owners);
    await waitFor(() => [a, b, c].every((peer) => allAlive(peer, owners)), { what: 'all owners alive' });
    await a.put('k', 'before');

    await b.stop();
    await c.stop();
    const error = await a.put('k', 'after').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(QuorumNotReachedError);
    expect(error).toMatchObject({ required: 2, acknowledged: 1 });
    await expect(a.get('k')).rejects.toBeInstanceOf(QuorumNotReachedError);
    // With R=1 the local copy answers; the failed write is there (it was never acknowledged).
    expect((await a.get('k', { consistency: 'one' })).found).toBe(true);
    expect(a.replicator.hintCount).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('answers a bad frame with ERR_BAD_FRAME, aborts a stream with an oversized or id-less frame, and keeps serving', async () => {
    const a = await startTestPeer(cleanups, 'repl-bad', []);
    const b = await startTestPeer(cleanups, 'repl-bad', [tcpAddress(a)]);
    const owners = [a.id, b.id].sort();
    for (const peer of [a, b]) peer.placement.slots = new StaticPlacement(owners, 2);
    await waitFor(() => allAlive(a, owners) && allAlive(b, owners), { what: 'both alive' });

    // One stream carries many requests: each frame is a 4-byte request id, then replication's frame.
    const stream = await b.libp2p.dialProtocol(a.libp2p.peerId, REPLICATION_PROTOCOL);
    const lp = lpStream(stream, { maxDataLength: 8 << 20 });
    const exchange = async (id: number, frame: Uint8Array) => {
      await lp.write(withRequestId(id, frame));
      const reply = splitRequestId((await lp.read()).subarray());
      expect(reply.id).toBe(id);
      return decodeValue(reply.payload) as { error?: { code: string } };
    };
    expect((await exchange(7, new Uint8Array([0xff, 0x00, 0x13]))).error?.code).toBe('ERR_BAD_FRAME');
    const hostile = encodeValue({ v: 1, clock: 1, ops: [{ op: 'apply', key: 'not bytes', slot: -1 }] });
    expect((await exchange(8, hostile)).error?.code).toBe('ERR_BAD_FRAME');
    await stream.close();

    const rejectedBefore = a.replicaTransport.stats.requestsRejected;
    const oversized = await b.libp2p.dialProtocol(a.libp2p.peerId, REPLICATION_PROTOCOL);
    await lpStream(oversized, { maxDataLength: 8 << 20 }).write(
      new Uint8Array(a.replicaTransport.frameBytesMax + REQUEST_ID_BYTES + 1),
    );
    await waitFor(() => a.replicaTransport.stats.requestsRejected > rejectedBefore, {
      what: 'the oversized frame to be rejected',
    });
    oversized.abort(new Error('test done'));

    const rejectedBeforeShort = a.replicaTransport.stats.requestsRejected;
    const short = await b.libp2p.dialProtocol(a.libp2p.peerId, REPLICATION_PROTOCOL);
    await lpStream(short).write(new Uint8Array([1, 2]));
    await waitFor(() => a.replicaTransport.stats.requestsRejected > rejectedBeforeShort, {
      what: 'the frame without a request id to be rejected',
    });
    short.abort(new Error('test done'));

    await b.put('still', 'serving');
    expect(await a.get('still')).toMatchObject({ found: true, value: 'serving' });
  });
});
