/**
 * What the guard costs on RESP, against a baseline in the same run: pipelined
 * SETs on the local backend over loopback with no guard, then with token
 * auth and a (never reached) per-database rate limit.
 * Run: node --conditions=source apps/relay/src/auth/guard.bench.ts
 */
import { ClusterAuthority, ClusterSigner, issueToken } from '@tessera/auth';
import { RawClient, startTestServer } from '../server/test-harness.ts';
import { RelayGuard } from './relay-guard.ts';

const COMMANDS = 20_000;
const PIPELINE = 100;

async function run(name: string, guard: RelayGuard | undefined, token: string | undefined): Promise<number> {
  const server = await startTestServer(guard === undefined ? {} : { guard });
  const client = await RawClient.connect(server.port);
  if (token !== undefined) await client.call('AUTH', token);
  const start = performance.now();
  for (let i = 0; i < COMMANDS; i += PIPELINE) {
    let batch = '';
    for (let j = 0; j < PIPELINE; j++)
      batch += `*3\r\n$3\r\nSET\r\n$8\r\nk${String(i + j).padStart(7, '0')}\r\n$1\r\nv\r\n`;
    client.write(batch);
    for (let j = 0; j < PIPELINE; j++) await client.reply();
  }
  const perSecond = COMMANDS / ((performance.now() - start) / 1000);
  client.close();
  await server.close();
  console.log(`${name.padEnd(32)} ${Math.round(perSecond).toLocaleString('en')} SET/s`);
  return perSecond;
}

const signer = await ClusterSigner.generate();
const authority = await ClusterAuthority.create({
  clusterPublicKey: signer.verifier.publicKey,
  cluster: 'bench',
});
const token = await issueToken(signer, {
  cluster: 'bench',
  subject: 'b',
  databases: ['0'],
  read: true,
  write: true,
  ttlMs: 3_600_000,
});
const guard = new RelayGuard({ authority, rateLimit: { ratePerSecond: 1e9, burst: 1e9 } });
// Alternated, so JIT warm-up and machine noise fall on both sides.
const baseline: number[] = [];
const guarded: number[] = [];
for (let round = 0; round < 3; round++) {
  baseline.push(await run(`no guard (baseline) #${round + 1}`, undefined, undefined));
  guarded.push(await run(`token + rate limit #${round + 1}`, guard, token));
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`guarded / baseline (means): ${(mean(guarded) / mean(baseline)).toFixed(2)}`);
