import { describe, expect, it } from 'vitest';
import { ClusterAuthority } from './authority.ts';
import { issueToken } from './capability.ts';
import { issueCertificate } from './certificate.ts';
import { ClusterSigner } from './cluster-key.ts';

describe('auth in Chromium (WebCrypto Ed25519)', () => {
  it('issues and verifies tokens and certificates, and refuses a foreign key', async () => {
    const signer = await ClusterSigner.generate();
    const authority = await ClusterAuthority.create({
      clusterPublicKey: signer.verifier.publicKeyText,
      cluster: 'b',
    });
    const token = await issueToken(signer, {
      cluster: 'b',
      subject: 'tab',
      databases: ['shop'],
      read: true,
      write: true,
      ttlMs: 60_000,
    });
    expect((await authority.capability(token)).databases).toEqual(['shop']);
    const cert = await issueCertificate(signer, {
      cluster: 'b',
      peerId: 'p1',
      role: 'client',
      ttlMs: 60_000,
    });
    expect((await authority.admit('p1', cert)).role).toBe('client');
    const other = await ClusterSigner.generate();
    const foreign = await issueToken(other, {
      cluster: 'b',
      subject: 'x',
      databases: '*',
      read: true,
      write: true,
      ttlMs: 60_000,
    });
    await expect(authority.capability(foreign)).rejects.toMatchObject({ name: 'WrongClusterError' });
    const restored = await ClusterSigner.fromPrivateKey(await signer.exportPrivateKey());
    expect(restored.verifier.publicKeyText).toBe(signer.verifier.publicKeyText);
  });
});
