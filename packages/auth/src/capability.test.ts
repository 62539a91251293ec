import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from './base64url.ts';
import { allows, issueToken, requireAccess, verifyToken } from './capability.ts';
import { ClusterSigner } from './cluster-key.ts';
import type { VerifyContext } from './envelope.ts';

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;
const signer = await ClusterSigner.generate();
const context = (overrides: Partial<VerifyContext> = {}): VerifyContext => ({
  verifier: signer.verifier,
  cluster: 'shop-cluster',
  nowMs: NOW,
  clockSkewMs: 60_000,
  ...overrides,
});
const issue = (overrides: Partial<Parameters<typeof issueToken>[1]> = {}) =>
  issueToken(signer, {
    cluster: 'shop-cluster',
    subject: 'checkout',
    databases: ['shop'],
    read: true,
    write: false,
    ttlMs: HOUR,
    nowMs: NOW,
    ...overrides,
  });

describe('capability tokens', () => {
  it('round-trips the claims and checks access per database', async () => {
    const token = await issue();
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const capability = await verifyToken(token, context());
    expect(capability).toMatchObject({ subject: 'checkout', databases: ['shop'], read: true, write: false });
    expect(capability.expiresAtMs).toBe(NOW + HOUR);
    expect(allows(capability, 'shop', 'read')).toBe(true);
    expect(allows(capability, 'shop', 'write')).toBe(false);
    expect(allows(capability, 'other', 'read')).toBe(false);
    expect(() => requireAccess(capability, 'shop', 'write')).toThrow(
      expect.objectContaining({ name: 'CapabilityDeniedError' }),
    );
    const all = await verifyToken(await issue({ databases: '*', write: true }), context());
    expect(allows(all, 0, 'write')).toBe(true);
  });

  it('two tokens with the same claims differ (nonce)', async () => {
    expect(await issue()).not.toBe(await issue());
  });

  it('refuses an expired token, within and beyond the skew', async () => {
    const token = await issue({ ttlMs: 1000 });
    await expect(verifyToken(token, context({ nowMs: NOW + 1000 + 60_000 }))).resolves.toBeDefined();
    await expect(verifyToken(token, context({ nowMs: NOW + 1000 + 60_001 }))).rejects.toMatchObject({
      name: 'TokenExpiredError',
    });
    await expect(verifyToken(token, context({ nowMs: NOW - 60_001 }))).rejects.toMatchObject({
      name: 'TokenExpiredError',
    });
  });

  it('refuses a token of another cluster key or cluster name', async () => {
    const other = await ClusterSigner.generate();
    const foreign = await issueToken(other, {
      cluster: 'shop-cluster',
      subject: 's',
      databases: '*',
      read: true,
      write: true,
      ttlMs: HOUR,
      nowMs: NOW,
    });
    await expect(verifyToken(foreign, context())).rejects.toMatchObject({ name: 'WrongClusterError' });
    await expect(verifyToken(await issue(), context({ cluster: 'other' }))).rejects.toMatchObject({
      name: 'WrongClusterError',
    });
  });

  it('refuses a forged signature: same claims, other key, key id copied', async () => {
    const other = await ClusterSigner.generate();
    const forgedKid = Object.create(other) as ClusterSigner;
    Object.defineProperty(forgedKid, 'verifier', { value: signer.verifier });
    Object.defineProperty(forgedKid, 'sign', { value: (m: Uint8Array) => other.sign(m) });
    const forged = await issueToken(forgedKid, {
      cluster: 'shop-cluster',
      subject: 'x',
      databases: '*',
      read: true,
      write: true,
      ttlMs: HOUR,
      nowMs: NOW,
    });
    await expect(verifyToken(forged, context())).rejects.toMatchObject({ name: 'TokenSignatureError' });
  });

  it('refuses garbage without throwing anything untyped', async () => {
    for (const text of ['', 'not base64!', 'AAAA', toBase64url(new Uint8Array(5000)), 'x'.repeat(100_000)]) {
      await expect(verifyToken(text, context())).rejects.toMatchObject({ name: 'CredentialMalformedError' });
    }
  });

  it('property: any tampered byte is refused with a typed error', async () => {
    const token = fromBase64url(await issue({ write: true }));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: token.byteLength - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (index, flip) => {
          const tampered = token.slice();
          tampered[index] = (tampered[index] as number) ^ flip;
          const error = await verifyToken(toBase64url(tampered), context()).then(
            () => null,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(Error);
          expect(['CredentialMalformedError', 'TokenSignatureError', 'WrongClusterError']).toContain(
            (error as Error).name,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses bad issue requests', async () => {
    await expect(issue({ read: false, write: false })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    });
    await expect(issue({ databases: [] })).rejects.toMatchObject({ name: 'InvalidArgumentError' });
    await expect(issue({ ttlMs: 0 })).rejects.toMatchObject({ name: 'InvalidArgumentError' });
  });
});
