import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClusterAuthority } from './authority.ts';
import { issueToken } from './capability.ts';
import { issueCertificate, verifyCertificate } from './certificate.ts';
import { ClusterSigner } from './cluster-key.ts';

const NOW = 1_800_000_000_000;
const signer = await ClusterSigner.generate();
const context = { verifier: signer.verifier, cluster: 'c1', nowMs: NOW, clockSkewMs: 1000 };

describe('membership certificates', () => {
  it('certify the peer id they name, with role and expiry', async () => {
    const bytes = await issueCertificate(signer, {
      cluster: 'c1',
      peerId: 'peerA',
      role: 'owner',
      ttlMs: 10_000,
      nowMs: NOW,
    });
    await expect(verifyCertificate(bytes, 'peerA', context)).resolves.toEqual({
      peerId: 'peerA',
      role: 'owner',
      issuedAtMs: NOW,
      expiresAtMs: NOW + 10_000,
    });
  });

  it('are refused for another peer, expired, other cluster, or as a token', async () => {
    const bytes = await issueCertificate(signer, {
      cluster: 'c1',
      peerId: 'peerA',
      role: 'owner',
      ttlMs: 10_000,
      nowMs: NOW,
    });
    await expect(verifyCertificate(bytes, 'peerB', context)).rejects.toMatchObject({
      name: 'NotAMemberError',
    });
    await expect(
      verifyCertificate(bytes, 'peerA', { ...context, nowMs: NOW + 11_001 }),
    ).rejects.toMatchObject({
      name: 'NotAMemberError',
      cause: expect.objectContaining({ name: 'TokenExpiredError' }),
    });
    await expect(verifyCertificate(bytes, 'peerA', { ...context, cluster: 'c2' })).rejects.toMatchObject({
      cause: expect.objectContaining({ name: 'WrongClusterError' }),
    });
    const token = await issueToken(signer, {
      cluster: 'c1',
      subject: 'peerA',
      databases: '*',
      read: true,
      write: true,
      ttlMs: 10_000,
      nowMs: NOW,
    });
    const authority = await ClusterAuthority.create({
      clusterPublicKey: signer.verifier.publicKey,
      cluster: 'c1',
      now: () => NOW,
    });
    // A token's envelope kind differs, so it can never pass as a certificate (and the reverse).
    const { fromBase64url } = await import('./base64url.ts');
    await expect(authority.admit('peerA', fromBase64url(token))).rejects.toMatchObject({
      name: 'NotAMemberError',
    });
  });

  it('property: a tampered certificate never admits anyone', async () => {
    const bytes = await issueCertificate(signer, {
      cluster: 'c1',
      peerId: 'peerA',
      role: 'client',
      ttlMs: 10_000,
      nowMs: NOW,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bytes.byteLength - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (index, flip) => {
          const tampered = bytes.slice();
          tampered[index] = (tampered[index] as number) ^ flip;
          await expect(verifyCertificate(tampered, 'peerA', context)).rejects.toMatchObject({
            name: 'NotAMemberError',
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('ClusterAuthority', () => {
  it('admits members, forgets them at expiry, and caches tokens while re-checking expiry', async () => {
    let now = NOW;
    const authority = await ClusterAuthority.create({
      clusterPublicKey: signer.verifier.publicKeyText,
      cluster: 'c1',
      clockSkewMs: 0,
      now: () => now,
    });
    expect(authority.member('peerA')).toBeUndefined();
    expect(() => authority.requireMember('peerA')).toThrow(
      expect.objectContaining({ name: 'NotAMemberError' }),
    );
    const bytes = await issueCertificate(signer, {
      cluster: 'c1',
      peerId: 'peerA',
      role: 'owner',
      ttlMs: 100,
      nowMs: NOW,
    });
    await authority.admit('peerA', bytes);
    expect(authority.member('peerA')?.role).toBe('owner');
    now = NOW + 101;
    expect(authority.member('peerA')).toBeUndefined();

    now = NOW;
    const token = await issueToken(signer, {
      cluster: 'c1',
      subject: 's',
      databases: ['a'],
      read: true,
      write: false,
      ttlMs: 100,
      nowMs: NOW,
    });
    expect((await authority.capability(token)).subject).toBe('s');
    now = NOW + 101;
    await expect(authority.capability(token)).rejects.toMatchObject({ name: 'TokenExpiredError' });
    await expect(authority.capability(undefined)).rejects.toMatchObject({ name: 'AuthRequiredError' });
  });

  it('round-trips the signing key through PKCS#8', async () => {
    const restored = await ClusterSigner.fromPrivateKey(await signer.exportPrivateKey());
    expect(restored.verifier.publicKeyText).toBe(signer.verifier.publicKeyText);
    const bytes = await issueCertificate(restored, {
      cluster: 'c1',
      peerId: 'p',
      role: 'owner',
      ttlMs: 10,
      nowMs: NOW,
    });
    await expect(verifyCertificate(bytes, 'p', context)).resolves.toMatchObject({ role: 'owner' });
    await expect(ClusterSigner.fromPrivateKey(new Uint8Array(10))).rejects.toMatchObject({
      name: 'CredentialMalformedError',
    });
  });
});
