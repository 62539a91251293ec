/**
 * `tessera token` and what `tessera start` does with auth: the cluster key
 * file is created once (also when peers race), tokens and certificates the
 * CLI prints verify, and a started peer with `--client-auth on` answers
 * NOAUTH until `AUTH <token>`, with the same token as an HTTP Bearer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ClusterAuthority, certificateFromText } from '@tessera/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateClusterKeyFile } from '../auth/cluster-key-file.ts';
import { RawClient } from '../server/test-harness.ts';
import type { StartSummary } from './node.ts';
import { parseDuration, runToken } from './token.ts';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-token-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<string> {
  let out = '';
  // An empty environment: a TESSERA_* variable of the test runner must not change the outcome.
  const code = await runToken(
    argv,
    (line) => {
      out += line;
    },
    process.cwd(),
    {},
  );
  expect(code).toBe(0);
  return out.trim();
}

describe('cluster key file', () => {
  it('is created once, mode 0600, even when several peers start together', async () => {
    const path = join(dir, 'race', 'cluster-key.json');
    await rm(join(dir, 'race'), { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'race'));
    const keys = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateClusterKeyFile(path)));
    expect(new Set(keys.map((k) => k.verifier.publicKeyText)).size).toBe(1);
    expect(keys.filter((k) => k.created)).toHaveLength(1);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateClusterKeyFile(path);
    expect(again.created).toBe(false);
    expect(again.verifier.publicKeyText).toBe(keys[0]?.verifier.publicKeyText);
  });
});

describe('tessera token', () => {
  it('issue prints a token for the databases and access asked for; member prints a certificate', async () => {
    const key = await loadOrCreateClusterKeyFile(join(dir, 'cluster-key.json'));
    const authority = await ClusterAuthority.create({
      clusterPublicKey: key.verifier.publicKey,
      cluster: 'shop-cl',
    });
    const token = await run([
      'issue',
      '--data-dir',
      dir,
      '--cluster',
      'shop-cl',
      '--db',
      'shop',
      '--read',
      '--write',
      '--expires',
      '1h',
    ]);
    const capability = await authority.capability(token);
    expect(capability).toMatchObject({ databases: ['shop'], read: true, write: true, subject: 'client' });
    expect(capability.expiresAtMs - capability.issuedAtMs).toBe(3_600_000);
    const readOnly = await authority.capability(
      await run([
        'issue',
        '--cluster-key-file',
        join(dir, 'cluster-key.json'),
        '--cluster',
        'shop-cl',
        '--db',
        '*',
        '--read',
      ]),
    );
    expect(readOnly).toMatchObject({ databases: '*', read: true, write: false });
    const cert = await run([
      'member',
      '--data-dir',
      dir,
      '--cluster',
      'shop-cl',
      '--peer-id',
      'peerX',
      '--role',
      'client',
    ]);
    expect(await authority.admit('peerX', certificateFromText(cert))).toMatchObject({ role: 'client' });
  });

  it('reads the data dir and cluster from the environment, like tessera start', async () => {
    const key = await loadOrCreateClusterKeyFile(join(dir, 'cluster-key.json'));
    let out = '';
    const argv = ['issue', '--db', 'shop', '--read', '--write', '--expires', '1h'];
    const env = { TESSERA_DATA_DIR: dir, TESSERA_CLUSTER: 'env-cl' };
    expect(await runToken(argv, (line) => (out += line), dir, env)).toBe(0);
    const authority = await ClusterAuthority.create({
      clusterPublicKey: key.verifier.publicKey,
      cluster: 'env-cl',
    });
    expect(await authority.capability(out.trim())).toMatchObject({ databases: ['shop'], write: true });
  });

  it('keygen creates a key file once and prints its public-only form', async () => {
    const path = join(dir, 'ca', 'key.json');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'ca'));
    const first = JSON.parse(await run(['keygen', '--cluster-key-file', path])) as { publicKey: string };
    const second = JSON.parse(await run(['keygen', '--cluster-key-file', path])) as { publicKey: string };
    expect(second).toEqual(first);
    expect(Object.keys(first)).toEqual(['publicKey']);
  });

  it('refuses incomplete requests and a key file without the private key', async () => {
    await expect(run(['issue', '--data-dir', dir, '--db', 'shop'])).rejects.toMatchObject({
      name: 'UsageError',
    });
    await expect(run(['issue', '--data-dir', dir, '--read'])).rejects.toMatchObject({ name: 'UsageError' });
    await expect(run(['issue', '--db', 'x', '--read'])).rejects.toMatchObject({ name: 'UsageError' });
    expect(() => parseDuration('1 hour')).toThrow(expect.objectContaining({ name: 'UsageError' }));
    expect(parseDuration('15m')).toBe(900_000);
    const key = JSON.parse(await readFile(join(dir, 'cluster-key.json'), 'utf8')) as { publicKey: string };
    const publicOnly = join(dir, 'public.json');
    await writeFile(publicOnly, JSON.stringify({ publicKey: key.publicKey }));
    await expect(
      run(['issue', '--cluster-key-file', publicOnly, '--db', 'x', '--read']),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/no private key/),
    });
  });
});

describe('tessera start --client-auth on', () => {
  let child: ChildProcess;
  let summary: StartSummary;
  let stderr = '';
  const clients: RawClient[] = [];
  beforeAll(async () => {
    child = spawn(
      process.execPath,
      [
        '--conditions=source',
        main,
        'start',
        '--json',
        '--log-level',
        'warn',
        '--client-auth',
        'on',
        '--cluster',
        'cli-auth',
      ],
      {
        env: {
          ...process.env,
          TESSERA_DATA_DIR: join(dir, 'peer'),
          TESSERA_P2P_PORT: '0',
          TESSERA_WS_PORT: '0',
          TESSERA_RESP_PORT: '0',
          TESSERA_HTTP_PORT: '0',
          TESSERA_METRICS_PORT: '0',
          TESSERA_REPLICATION_FACTOR: '1',
          TESSERA_BACKEND: 'local',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const lines = createInterface({ input: child.stdout! });
    summary = await new Promise<StartSummary>((resolve, reject) => {
      lines.once('line', (line) => resolve(JSON.parse(line) as StartSummary));
      child.once('exit', (code) => reject(new Error(`tessera exited ${code} before starting: ${stderr}`)));
    });
  }, 90_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('creates the cluster key in the data dir and prints only its public half', async () => {
    expect(summary.auth).toMatchObject({ membership: 'on', clientAuth: 'on', clusterKeyCreated: true });
    const file = JSON.parse(await readFile(join(dir, 'peer', 'cluster-key.json'), 'utf8')) as Record<
      string,
      string
    >;
    expect(summary.auth.clusterPublicKey).toBe(file.publicKey);
    expect(JSON.stringify(summary)).not.toContain(file.privateKey);
    expect(stderr).not.toContain(file.privateKey);
  });

  it('RESP and HTTP refuse clients until they present a token the CLI issued', async () => {
    const client = await RawClient.connect(summary.resp.port);
    clients.push(client);
    expect(await client.call('SET', 'k', 'v')).toEqual({ error: expect.stringMatching(/^NOAUTH /) });
    const token = await run([
      'issue',
      '--data-dir',
      join(dir, 'peer'),
      '--cluster',
      'cli-auth',
      '--db',
      '0',
      '--read',
      '--write',
    ]);
    expect(await client.call('AUTH', token)).toBe('OK');
    expect(await client.call('SET', 'k', 'v')).toBe('OK');
    expect(await client.call('GET', 'k')).toBe('v');
    const base = `http://127.0.0.1:${summary.http.port}`;
    const unauthorized = await fetch(`${base}/v1/tenants/shop`);
    expect(unauthorized.status).toBe(401);
    // The same token maps to the same capability on HTTP: database 0 only, so tenant shop is forbidden.
    const forbidden = await fetch(`${base}/v1/tenants/shop`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(forbidden.status).toBe(403);
  });
});
