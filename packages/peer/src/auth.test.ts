/**
 * Auth with real peers on loopback TCP: one certified owner, an intruder
 * without credentials that runs as an owner, and non-member clients with a
 * read-only, a write, an expired or no capability token.
 */
import { ClusterSigner, issueCertificate, issueToken } from '@tessera/auth';
import { encodeValue, keySlot } from '@tessera/core';
import { decodeReply, encodeRequest, type ReplicaOp } from '@tessera/replication';
import { openMemoryStore } from '@tessera/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvRecordKey } from './data.ts';
import { createPeer, type Peer, type PeerOptions } from './index.ts';
import { testTiming } from './testing/replication-cluster.ts';
import { waitFor } from './testing/wait.ts';

const CLUSTER = 'auth-test';
const HOUR = 3_600_000;
const running: Peer[] = [];
let signer: ClusterSigner;
let owner: Peer;
let ownerAddress: string;

async function start(options: Partial<PeerOptions>): Promise<Peer> {
  const peer = await createPeer({
    storage: await openMemoryStore(),
    cluster: CLUSTER,
    timing: testTiming,
    replicationFactor: 1,
    slotMap: { timing: { settleMs: 300, checkPeriodMs: 300 } },
    // Generous: the shared test machine can be slow to answer a first request (it fetches credentials).
    replication: { limits: { requestTimeoutMs: 20_000 } },
    ...(ownerAddress === undefined ? {} : { bootstrap: [ownerAddress] }),
    ...options,
  });
  running.push(peer);
  return peer;
}

const token = (databases: string[] | '*', read: boolean, write: boolean, nowMs = Date.now()) =>
  issueToken(signer, {
    cluster: CLUSTER,
    subject: 'test-client',
    databases,
    read,
    write,
    ttlMs: HOUR,
    nowMs,
  });

async function client(tokenText: string | undefined): Promise<Peer> {
  return start({
    role: 'client',
    auth: {
      clusterPublicKey: signer.verifier.publicKeyText,
      ...(tokenText === undefined ? {} : { token: tokenText }),
    },
  });
}

/** Sends one replication op straight to the owner, skipping the client's own capability check. */
async function rawRequest(from: Peer, op: ReplicaOp): Promise<ReturnType<typeof decodeReply>> {
  await waitFor(() => from.members().some((m) => m.id === owner.id), {
    timeoutMs: 60_000,
    what: 'client sees the owner',
  });
  const reply = await from.replicaTransport.request(owner.id, encodeRequest(1, [op]), { timeoutMs: 10_000 });
  return decodeReply(reply, 1);
}

const mint = (key: string, database: string): ReplicaOp => ({
  op: 'mint',
  key: kvRecordKey(key, database),
  slot: keySlot(key),
  deleted: false,
  value: encodeValue('forged'),
  context: null,
  idempotencyKey: null,
});

beforeAll(async () => {
  signer = await ClusterSigner.generate();
  owner = await start({
    auth: {
      clusterPublicKey: signer.verifier.publicKey,
      certificate: (peerId) =>
        issueCertificate(signer, { cluster: CLUSTER, peerId, role: 'owner', ttlMs: HOUR }),
    },
  });
  ownerAddress = owner.multiaddrs.find((a) => a.includes('/tcp/') && !a.includes('/ws')) as string;
  await waitFor(() => owner.slotMap.map.epoch > 0, {
    what: 'the owner commits its slot map',
    timeoutMs: 60_000,
  });
  await owner.put('stock', 7, { database: 'shop' });
}, 120_000);

/** Stops every peer but the owner, so a heavy test does not share the machine with idle ones. */
async function stopAllButOwner(): Promise<void> {
  const others = running.filter((peer) => peer !== owner);
  running.splice(0, running.length, owner);
  await Promise.all(others.map((peer) => peer.stop()));
}

afterAll(async () => {
  await Promise.all(running.splice(0).map((peer) => peer.stop()));
});

describe('membership', () => {
  it('refuses to start an owner without an owner certificate for its own id', async () => {
    const auth = { clusterPublicKey: signer.verifier.publicKey };
    await expect(
      createPeer({ storage: await openMemoryStore(), cluster: CLUSTER, auth }),
    ).rejects.toMatchObject({
      name: 'NotAMemberError',
    });
    const foreign = await ClusterSigner.generate();
    await expect(
      createPeer({
        storage: await openMemoryStore(),
        cluster: CLUSTER,
        auth: {
          ...auth,
          certificate: (peerId) =>
            issueCertificate(foreign, { cluster: CLUSTER, peerId, role: 'owner', ttlMs: HOUR }),
        },
      }),
    ).rejects.toMatchObject({ name: 'NotAMemberError' });
  });

  it('an intruder joining as owner is never a member, its coordinator and slot-map messages are dropped', async () => {
    const intruder = await start({ role: 'owner' });
    await waitFor(() => (owner.auth?.stats.gossipRejected ?? 0) > 0, {
      timeoutMs: 60_000,
      what: "the intruder's state is rejected",
    });
    const forged = await intruder.publish({
      messageType: 'slotmap',
      eventType: 'commit',
      payload: { epoch: 1_000_000, owners: [intruder.id] },
    });
    expect(forged.from).toBe(intruder.id);
    await waitFor(() => (owner.auth?.stats.gossipIgnored ?? 0) > 0, {
      timeoutMs: 60_000,
      what: "the intruder's messages are ignored",
    });
    // The intruder's own slot-map service proposed too (it sees itself as an owner).
    const intruderSent: string[] = [];
    for await (const message of intruder.messages())
      if (message.from === intruder.id) intruderSent.push(message.eventType);
    expect(intruderSent).toContain('commit');

    expect(owner.members().map((m) => m.id)).not.toContain(intruder.id);
    for await (const message of owner.messages()) expect(message.from).not.toBe(intruder.id);
    expect(owner.slotMap.map.ranges.flatMap((r) => r.owners)).not.toContain(intruder.id);
    // Catch-up never pulls from it either: it is not listed as a partner.
    expect(owner.network.connectedPeers()).not.toContain(intruder.id);
    expect(owner.libp2p.getPeers().map(String)).toContain(intruder.id);
  }, 120_000);

  it('the gossip validator rejects a forged or borrowed certificate', async () => {
    const auth = owner.auth;
    if (auth === undefined) throw new Error('auth is on');
    const stranger = 'QmStranger';
    const foreign = await ClusterSigner.generate();
    const forgedCert = await issueCertificate(foreign, {
      cluster: CLUSTER,
      peerId: stranger,
      role: 'owner',
      ttlMs: HOUR,
    });
    const state = (cert: Uint8Array, role = 'owner') =>
      encodeValue({ v: 1, kind: 'state', id: stranger, role, cert });
    expect(await auth.validateGossip(state(forgedCert), stranger)).toBe('reject');
    const borrowed = await issueCertificate(signer, {
      cluster: CLUSTER,
      peerId: owner.id,
      role: 'owner',
      ttlMs: HOUR,
    });
    expect(await auth.validateGossip(state(borrowed), stranger)).toBe('reject');
    const clientCert = await issueCertificate(signer, {
      cluster: CLUSTER,
      peerId: stranger,
      role: 'client',
      ttlMs: HOUR,
    });
    expect(await auth.validateGossip(state(clientCert, 'owner'), stranger)).toBe('reject');
    expect(await auth.validateGossip(state(clientCert, 'client'), stranger)).toBe('accept');
    expect(await auth.validateGossip(encodeValue({ v: 1, kind: 'message', from: stranger }), stranger)).toBe(
      'accept',
    );
    expect(await auth.validateGossip(new Uint8Array([0xff, 0x00]), stranger)).toBe('reject');
  });
});

describe('client capabilities', () => {
  it('a read-only token reads, and its writes fail on the client and again on the owner', async () => {
    const reader = await client(await token(['shop'], true, false));
    await waitFor(() => reader.slotMap.map.epoch > 0, {
      timeoutMs: 60_000,
      what: 'client follows the slot map',
    });
    expect((await reader.get('stock', { database: 'shop' })).value).toBe(7);
    await expect(reader.put('stock', 0, { database: 'shop' })).rejects.toMatchObject({
      name: 'CapabilityDeniedError',
    });
    await expect(reader.get('stock', { database: 'other' })).rejects.toMatchObject({
      name: 'CapabilityDeniedError',
    });
    const reply = await rawRequest(reader, mint('stock', 'shop'));
    expect(reply).toMatchObject({ error: { code: 'ERR_CAPABILITY_DENIED' } });
    expect((await owner.get('stock', { database: 'shop' })).value).toBe(7);
  }, 120_000);

  it('no token or an expired token: refused on the client and on the owner', async () => {
    const anonymous = await client(undefined);
    await expect(anonymous.get('stock', { database: 'shop' })).rejects.toMatchObject({
      name: 'AuthRequiredError',
    });
    expect(await rawRequest(anonymous, mint('stock', 'shop'))).toMatchObject({
      error: { code: 'ERR_AUTH_REQUIRED' },
    });
    expect(await rawRequest(anonymous, { op: 'read', key: kvRecordKey('stock', 'shop') })).toMatchObject({
      error: { code: 'ERR_AUTH_REQUIRED' },
    });

    const expired = await client(await token(['shop'], true, true, Date.now() - 3 * HOUR));
    await expect(expired.put('stock', 1, { database: 'shop' })).rejects.toMatchObject({
      name: 'TokenExpiredError',
    });
    expect(await rawRequest(expired, mint('stock', 'shop'))).toMatchObject({
      error: { code: 'ERR_AUTH_REQUIRED' },
    });
    // Owner-to-owner operations are for members whatever the token says.
    expect(await rawRequest(expired, { op: 'digests', slots: [0], minN: 1 })).toMatchObject({
      error: { code: 'ERR_NOT_A_MEMBER' },
    });
    expect((await owner.get('stock', { database: 'shop' })).value).toBe(7);
  }, 120_000);

  it('a write token writes its database only, and the owner serves it alongside the refusals', async () => {
    const writer = await client(await token(['shop'], true, true));
    await waitFor(() => writer.slotMap.map.epoch > 0, {
      timeoutMs: 60_000,
      what: 'client follows the slot map',
    });
    await writer.put('basket', ['tea'], { database: 'shop' });
    expect((await owner.get('basket', { database: 'shop' })).value).toEqual(['tea']);
    expect(await rawRequest(writer, mint('x', 'other'))).toMatchObject({
      error: { code: 'ERR_CAPABILITY_DENIED' },
    });
    expect(owner.auth?.stats.replicaRequestsDenied).toBeGreaterThanOrEqual(5);
  }, 120_000);
});

describe('a flood from one client', () => {
  it('every flooded request is refused, credentials are fetched a few times only, and a writer is served meanwhile', async () => {
    await stopAllButOwner();
    const flooder = await client(undefined);
    const writer = await client(await token(['shop'], true, true));
    await waitFor(() => writer.slotMap.map.epoch > 0, {
      timeoutMs: 60_000,
      what: 'writer follows the slot map',
    });
    await waitFor(() => flooder.members().some((m) => m.id === owner.id), {
      timeoutMs: 60_000,
      what: 'flooder sees the owner',
    });
    const fetchesBefore = owner.auth?.stats.credentialFetches ?? 0;
    const flood = Array.from({ length: 100 }, (_, i) =>
      flooder.replicaTransport
        .request(owner.id, encodeRequest(1, [mint(`flood${i}`, 'shop')]), { timeoutMs: 30_000 })
        .then((reply) => decodeReply(reply, 1)),
    );
    const writes = Array.from({ length: 20 }, (_, i) => writer.put(`order${i}`, i, { database: 'shop' }));
    const [flooded, written] = await Promise.all([Promise.all(flood), Promise.all(writes)]);
    expect(flooded.every((r) => 'error' in r && r.error.code === 'ERR_AUTH_REQUIRED')).toBe(true);
    expect(written).toHaveLength(20);
    for (let i = 0; i < 20; i++) expect((await owner.get(`order${i}`, { database: 'shop' })).value).toBe(i);
    expect((await owner.get('flood0', { database: 'shop' })).found).toBe(false);
    // One fetch per CREDENTIALS_RETRY_MS window at most for the flooder (plus the writer's one).
    expect((owner.auth?.stats.credentialFetches ?? 0) - fetchesBefore).toBeLessThanOrEqual(10);
  }, 120_000);
});

describe('requireClientTokens: false (a loopback laptop cluster)', () => {
  it('membership stays enforced, but a client without a token reads and writes', async () => {
    await stopAllButOwner();
    const cluster = 'auth-open';
    const base = {
      timing: testTiming,
      replicationFactor: 1,
      slotMap: { timing: { settleMs: 300, checkPeriodMs: 300 } },
      replication: { limits: { requestTimeoutMs: 20_000 } },
    };
    const openOwner = await createPeer({
      storage: await openMemoryStore(),
      cluster,
      ...base,
      auth: {
        clusterPublicKey: signer.verifier.publicKey,
        certificate: (peerId) => issueCertificate(signer, { cluster, peerId, role: 'owner', ttlMs: HOUR }),
        requireClientTokens: false,
      },
    });
    running.push(openOwner);
    const address = openOwner.multiaddrs.find((a) => a.includes('/tcp/') && !a.includes('/ws')) as string;
    const anonymous = await createPeer({
      storage: await openMemoryStore(),
      cluster,
      ...base,
      role: 'client',
      bootstrap: [address],
      auth: { clusterPublicKey: signer.verifier.publicKey, requireClientTokens: false },
    });
    running.push(anonymous);
    await waitFor(() => openOwner.slotMap.map.epoch > 0 && anonymous.slotMap.map.epoch > 0, {
      what: 'both follow the slot map',
      timeoutMs: 60_000,
    });
    await waitFor(() => anonymous.members().some((m) => m.id === openOwner.id), {
      timeoutMs: 60_000,
      what: 'client sees the owner',
    });
    await anonymous.put('free', 1, { database: 'any' });
    expect((await openOwner.get('free', { database: 'any' })).value).toBe(1);
    const reply = await anonymous.replicaTransport.request(
      openOwner.id,
      encodeRequest(1, [{ op: 'digests', slots: [0], minN: 1 }]),
      { timeoutMs: 10_000 },
    );
    expect(decodeReply(reply, 1)).toMatchObject({ error: { code: 'ERR_NOT_A_MEMBER' } });
    const seen = await waitFor(() => openOwner.members().find((m) => m.id === anonymous.id), {
      timeoutMs: 60_000,
      what: "the owner sees the client's state",
    });
    expect(seen.role).toBe('client');
  }, 120_000);
});
