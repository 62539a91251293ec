/**
 * `tessera start` as a real child process: it prints its JSON line, answers
 * redis-cli and HTTP, `tessera status` and `tessera inspect` work against
 * it, and SIGTERM stops it gracefully with exit code 0.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodeValue } from '@tessera/core';
import { waitFor } from '@tessera/peer/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartSummary } from './node.ts';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const ensureRedisTools = fileURLToPath(new URL('../../scripts/ensure-redis-tools.sh', import.meta.url));

let dir: string;
let child: ChildProcess;
let summary: StartSummary;
let stderr = '';

function tessera(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--conditions=source', main, ...args], (error, stdout, err) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout, stderr: err });
    });
  });
}

beforeAll(async () => {
  execFileSync('bash', [ensureRedisTools], { stdio: 'pipe' });
  dir = await mkdtemp(join(tmpdir(), 'tessera-start-'));
  child = spawn(process.execPath, ['--conditions=source', main, 'start', '--json', '--log-level', 'info'], {
    env: {
      ...process.env,
      TESSERA_DATA_DIR: join(dir, 'data'),
      TESSERA_P2P_PORT: '0',
      TESSERA_WS_PORT: '0',
      TESSERA_RESP_PORT: '0',
      TESSERA_HTTP_PORT: '0',
      TESSERA_METRICS_PORT: '0',
      TESSERA_REPLICATION_FACTOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const lines = createInterface({ input: child.stdout! });
  summary = await new Promise<StartSummary>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as StartSummary));
    child.once('exit', (code) => reject(new Error(`tessera exited ${code} before starting: ${stderr}`)));
  });
  // The peer owns no slot until its slot map commits (a lone owner proposes itself for every slot).
  await waitFor(
    async () => {
      const status = (await (await fetch(`http://127.0.0.1:${summary.http.port}/v1/status`)).json()) as {
        slots: { covered?: number };
      };
      return status.slots.covered === 16384;
    },
    { what: 'the slot map to cover every slot', timeoutMs: 60_000 },
  );
}, 90_000);

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('tessera start', () => {
  it('prints one JSON line with its addresses and ports', () => {
    expect(summary.event).toBe('started');
    expect(summary.pid).toBe(child.pid);
    expect(summary.multiaddrs.some((a) => /\/tcp\/\d+\/p2p\//.test(a))).toBe(true);
    expect(summary.wsMultiaddrs[0]).toMatch(/\/tcp\/\d+\/ws\/p2p\/12D3Koo/);
    for (const port of [summary.resp.port, summary.http.port, summary.metrics.port])
      expect(port).toBeGreaterThan(0);
    // RESP goes through the Replicator by default (--backend local is the single-node opt-in).
    expect(summary.respBackend).toBe('replicated');
  });

  it('answers redis-cli', () => {
    const out = (args: string[]) =>
      execFileSync('redis-cli', ['-p', String(summary.resp.port), ...args]).toString();
    expect(out(['PING'])).toBe('PONG\n');
    expect(out(['SET', 'cli:k', 'v1'])).toBe('OK\n');
    expect(out(['GET', 'cli:k'])).toBe('v1\n');
  });

  it('answers the HTTP API and /metrics', async () => {
    const base = `http://127.0.0.1:${summary.http.port}`;
    const created = await fetch(`${base}/v1/tenants`, {
      method: 'POST',
      body: JSON.stringify({ tenant_id: 'app', replication_factor: 1 }),
    });
    expect(created.status).toBe(201);
    const status = (await (await fetch(`${base}/v1/status`)).json()) as {
      peer_id: string;
      members: { id: string }[];
    };
    expect(status.peer_id).toBe(summary.peerId);
    expect(status.members.map((m) => m.id)).toContain(summary.peerId);
    const metrics = await (await fetch(`http://127.0.0.1:${summary.metrics.port}/metrics`)).text();
    expect(metrics).toMatch(/tessera_ops_total\{frontend="resp",command="set",result="ok"\} 1/);
    expect(metrics).toMatch(/tessera_op_duration_seconds_count\{frontend="resp",command="get"\} 1/);
    expect(metrics).toMatch(/tessera_http_requests_total\{route="tenants",status="201"\} 1/);
    // Creating a tenant reads the D record (absent) and writes it, both through the replicator.
    expect(metrics).toMatch(/tessera_ops_total\{frontend="http",command="put",result="ok"\} 1/);
    expect(metrics).toMatch(/tessera_members\{status="\w+"\} 1/);
  });

  it('tessera status shows the members', async () => {
    const result = await tessera(['status', '--http', `127.0.0.1:${summary.http.port}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(summary.peerId);
    expect(result.stdout).toContain('(this peer)');
    expect(result.stdout).toContain('slots: 16384/16384 covered (slot map)');
    // The slot map's own proposal is a job.
    expect(result.stdout).toMatch(/slotmap/);
  });

  it('tessera rebalance asks the peer: a lone owner is already balanced', async () => {
    const result = await tessera(['rebalance', '--http', `127.0.0.1:${summary.http.port}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^slot map already balanced \(epoch [1-9]\d*\)\n$/);
    const bad = await tessera(['rebalance', '--http', `127.0.0.1:${summary.http.port}`, '--replicas', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--replicas must be an integer >= 1/);
  });

  it('tessera inspect refuses the data dir while the peer runs', async () => {
    const result = await tessera(['inspect', summary.dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/locked by a running peer/);
  });

  it('on SIGTERM under SET load, finishes the writes it acknowledged and exits 0; inspect then decodes the records', async () => {
    // Four connections, each keeping 16 SETs in flight, until the server goes away.
    const acknowledged: string[] = [];
    let running = true;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      const redis = new Redis({
        port: summary.resp.port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        enableOfflineQueue: false,
      });
      redis.on('error', () => {});
      await redis.connect();
      let seq = 0;
      const lane = async (l: number) => {
        while (running) {
          const key = `term:${w}:${l}:${seq++}`;
          try {
            if ((await redis.set(key, 'x')) === 'OK') acknowledged.push(key);
          } catch {
            return; // the server closed this connection: every later SET is unacknowledged
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, l) => lane(l)));
      redis.disconnect();
    });
    await waitFor(() => acknowledged.length >= 50, { what: '50 acknowledged SETs', timeoutMs: 60_000 });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    running = false;
    await Promise.all(writers);
    expect(stderr).toMatch(/"msg":"shutting down"/);
    expect(stderr).toMatch(/"msg":"stopped"/);
    const result = await tessera([
      'inspect',
      summary.dataDir,
      '--category',
      'O',
      '--prefix',
      '[0,"kv"]',
      '--limit',
      '1000000',
    ]);
    expect(result.code, result.stderr).toBe(0);
    // Every SET that was answered OK is on disk: the server finished it before the store closed.
    const missing = acknowledged.filter((key) => !result.stdout.includes(`[0,"kv",{"bytes":"${key}"}]`));
    expect(missing).toEqual([]);
    // The whole listing arrived through the pipe (it was cut at 64 KiB before the CLI waited for stdout).
    const listed = result.stdout.split('\n').filter((line) => line.startsWith('  [0,"kv",')).length;
    expect(result.stdout).toContain(`O objects: ${listed}`);
    expect(listed).toBeGreaterThan(acknowledged.length);
    // A replica record whose value is the RESP layout, the CBOR map { v: bytes }.
    const value = Buffer.from(encodeValue({ v: new TextEncoder().encode('v1') })).toString('hex');
    expect(result.stdout).toContain('[0,"kv",{"bytes":"cli:k"}] = {"v":');
    expect(result.stdout).toContain(`"value":{"bytes":{"hex":"${value}"}`);
    const all = await tessera(['inspect', summary.dataDir, '--json']);
    const categories = new Set(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { category: string }).category),
    );
    expect(categories).toContain('S');
  });
});
