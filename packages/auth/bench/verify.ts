/**
 * How much credential checks cost, against a baseline in the same run:
 * a token verify (Ed25519 in WebCrypto) and a cached capability lookup,
 * both against decoding the same token without checking it.
 * Run: node --conditions=source packages/auth/bench/verify.ts
 */
import { decodeValue } from '@tessera/core';
import {
  ClusterAuthority,
  ClusterSigner,
  fromBase64url,
  issueCertificate,
  issueToken,
  verifyToken,
} from '../src/index.ts';

const signer = await ClusterSigner.generate();
const cluster = 'bench';
const token = await issueToken(signer, {
  cluster,
  subject: 'bench',
  databases: ['shop'],
  read: true,
  write: true,
  ttlMs: 3_600_000,
});
const cert = await issueCertificate(signer, {
  cluster,
  peerId: '12D3KooWBenchBenchBenchBenchBenchBenchBenchBenchBench',
  role: 'owner',
  ttlMs: 3_600_000,
});
const authority = await ClusterAuthority.create({ clusterPublicKey: signer.verifier.publicKey, cluster });
const context = { verifier: signer.verifier, cluster, nowMs: Date.now(), clockSkewMs: 60_000 };

async function rate(name: string, n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await fn();
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const perSecond = n / ((performance.now() - start) / 1000);
  console.log(`${name.padEnd(36)} ${Math.round(perSecond).toLocaleString('en')} /s`);
  return perSecond;
}

console.log(`token ${token.length} chars, certificate ${cert.byteLength} bytes`);
const baseline = await rate('decode only (baseline)', 20_000, () => decodeValue(fromBase64url(token)));
const verify = await rate('verifyToken (signature checked)', 5_000, () => verifyToken(token, context));
const cached = await rate('authority.capability (cached)', 50_000, () => authority.capability(token));
console.log(
  `verify is ${(baseline / verify).toFixed(1)}x the decode cost; cached lookup ${(cached / baseline).toFixed(1)}x decode speed`,
);
