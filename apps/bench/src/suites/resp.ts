/**
 * RESP suite: redis-benchmark (SET and GET, 50 clients, 100-byte values,
 * random keys from 100k, with and without `-P 16`) against two clusters
 * started by this run, one after the other on the same machine:
 * - Redis Cluster: three cluster-enabled redis-server masters (Debian's,
 *   installed by scripts/ensure-redis-server.sh when missing), no replicas,
 *   no persistence: the baseline;
 * - Tessera: three `tessera start` processes (`scripts/start.ts
 *   --ephemeral`), replicated RESP backend, N=3, W=R=quorum (2 of 3), every
 *   acknowledged SET durable on two owners' LMDB stores.
 * Both run with `redis-benchmark --cluster` (clients spread over the three
 * nodes by CLUSTER NODES/SLOTS). Each case is sized by a short probe to run
 * for about `caseMs`. The goal is Tessera >= 30% of Redis Cluster.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { atLeastRatio, type Measurement, printTable, type Row } from '../harness.ts';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const clients = 50;
const valueBytes = 100;
const keySpace = 100_000;
/** Each measured case runs for about this long (sized from a probe). */
const caseMs = 3000;
const requestsMin = 500;
const requestsMax = 3_000_000;
const readyTimeoutMs = 180_000;
const goalRatio = 0.3;
/** A peer using less than this fraction of a core is idle (heartbeats and gossip only). */
const quietCpuFraction = 0.1;

interface Endpoint {
  readonly host: string;
  readonly port: number;
}

interface BenchCase {
  readonly test: 'SET' | 'GET';
  readonly pipeline: number;
}

const cases: BenchCase[] = [
  { test: 'SET', pipeline: 1 },
  { test: 'GET', pipeline: 1 },
  { test: 'SET', pipeline: 16 },
  { test: 'GET', pipeline: 16 },
];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exec(command: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A port whose cluster bus port (+10000) is also free, as redis-server needs both. */
async function redisPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10_000 > 65_535) continue;
    const bus = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port + 10_000, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (bus) return port;
  }
}

/** `redis-benchmark --csv` → requests per second and latency percentiles of the one test it ran. */
function parseCsv(name: string, csv: string): Measurement {
  // --cluster prints the masters it found before the CSV lines.
  const rows = csv
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('"'))
    .map((line) => line.split(',').map((cell) => cell.replace(/^"|"$/g, '')));
  const header = rows[0] ?? [];
  const values = rows.find((r) => r !== header && r.length === header.length);
  if (values === undefined) throw new Error(`redis-benchmark printed no result:\n${csv}`);
  const field = (key: string) => Number(values[header.indexOf(key)]);
  const rps = field('rps');
  if (!(rps > 0)) throw new Error(`redis-benchmark result without rps:\n${csv}`);
  return {
    name,
    ops: 0,
    elapsedMs: 0,
    opsPerSec: rps,
    latencyUs: {
      p50: field('p50_latency_ms') * 1000,
      p90: field('p95_latency_ms') * 1000,
      p99: field('p99_latency_ms') * 1000,
      max: field('max_latency_ms') * 1000,
    },
  };
}

function benchArgs(target: Endpoint, c: BenchCase, requests: number): string[] {
  return [
    '--cluster',
    '-h',
    target.host,
    '-p',
    String(target.port),
    '-c',
    String(clients),
    '-n',
    String(requests),
    '-r',
    String(keySpace),
    '-d',
    String(valueBytes),
    '-P',
    String(c.pipeline),
    '-t',
    c.test.toLowerCase(),
    '--csv',
  ];
}

/** One case against `target`: a probe sizes the run to about `caseMs`. */
async function benchCase(label: string, target: Endpoint, c: BenchCase, probeRequests: number) {
  const probe = parseCsv('probe', await exec('redis-benchmark', benchArgs(target, c, probeRequests)));
  const sized = Math.round((probe.opsPerSec * caseMs) / 1000);
  const requests = Math.min(requestsMax, Math.max(requestsMin, sized));
  const name = `${label} ${c.test}${c.pipeline > 1 ? ` -P ${c.pipeline}` : ''}`;
  return parseCsv(name, await exec('redis-benchmark', benchArgs(target, c, requests)));
}

async function benchAll(label: string, target: Endpoint, probeRequests: number): Promise<Measurement[]> {
  const results: Measurement[] = [];
  for (const c of cases) results.push(await benchCase(label, target, c, probeRequests));
  return results;
}

/** Three cluster-enabled redis-server masters, joined with `redis-cli --cluster create`. */
async function withRedisCluster<T>(body: (seed: Endpoint) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-redis-'));
  const servers: ChildProcess[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await redisPort();
      ports.push(port);
      const server = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
        ],
        { stdio: 'ignore' },
      );
      servers.push(server);
    }
    for (const port of ports) await waitForRedis(port, ['PING'], (out) => out.trim() === 'PONG');
    await exec('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await waitForRedis(port, ['CLUSTER', 'INFO'], (out) => out.includes('cluster_state:ok'));
    }
    return await body({ host: '127.0.0.1', port: ports[0]! });
  } finally {
    for (const server of servers) server.kill('SIGKILL');
    await Promise.all(
      servers.map((s) => (s.exitCode !== null ? undefined : new Promise((r) => s.once('exit', r)))),
    );
    await rm(dir, { recursive: true, force: true });
  }
}

async function waitForRedis(port: number, args: string[], ok: (out: string) => boolean): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    try {
      if (ok(await exec('redis-cli', ['-p', String(port), ...args], 5000))) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server :${port} not ready (${args.join(' ')})`);
    await sleep(100);
  }
}

interface StartedPeer {
  readonly peerId: string;
  readonly resp: Endpoint;
  readonly http: Endpoint;
}

/** Three `tessera start` peers via scripts/start.ts, ready once every slot has three owners and CLUSTER NODES names all. */
async function withTessera<T>(body: (seed: Endpoint) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-resp-'));
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      join(repoRoot, 'scripts/start.ts'),
      '--no-dashboard',
      '--json',
      '--ephemeral',
      '--data',
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  try {
    const started = await new Promise<{ peers: StartedPeer[] }>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
      child.once('exit', (code) => reject(new Error(`start script exited ${code}: ${stderr}`)));
    });
    const deadline = Date.now() + readyTimeoutMs;
    for (const peer of started.peers) {
      for (;;) {
        const ready = await peerReady(peer, started.peers.length).catch(() => false);
        if (ready) break;
        if (Date.now() > deadline) throw new Error(`tessera peer ${peer.peerId} not ready: ${stderr}`);
        await sleep(250);
      }
    }
    // Steady state: after the first map commits, each peer copies and checks every slot for a few
    // seconds; measuring then would charge that one-off work to the first case.
    for (;;) {
      const jobsDone = (await Promise.all(started.peers.map((peer) => peerJobsDone(peer)))).every(Boolean);
      if (jobsDone && (await processTreeBusy(child.pid!, 1000)) < quietCpuFraction * started.peers.length)
        break;
      if (Date.now() > deadline) throw new Error(`tessera peers never went quiet: ${stderr}`);
    }
    return await body(started.peers[0]!.resp);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether the peer lists no running or pending job (its slot copies are done). */
async function peerJobsDone(peer: StartedPeer): Promise<boolean> {
  const status = (await (await fetch(`http://${peer.http.host}:${peer.http.port}/v1/status`)).json()) as {
    jobs: { status: string }[];
  };
  return status.jobs.every((job) => job.status !== 'running' && job.status !== 'pending');
}

/** CPU ms (user + system) used so far by `pid` and its descendants, from /proc (Linux, like redis-server here). */
async function processTreeCpuMs(pid: number): Promise<number> {
  const stats = new Map<number, { ppid: number; ms: number }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const raw = await readFile(`/proc/${entry}/stat`, 'utf8');
      const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      // After the command: state, ppid, ... utime (12th), stime (13th), in clock ticks of 10 ms.
      stats.set(Number(entry), {
        ppid: Number(fields[1]),
        ms: (Number(fields[11]) + Number(fields[12])) * 10,
      });
    } catch {
      // The process ended while listed.
    }
  }
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop()!;
    total += stats.get(next)?.ms ?? 0;
    for (const [child, stat] of stats) if (stat.ppid === next) pending.push(child);
  }
  return total;
}

/** Cores' worth of CPU `pid` and its descendants used over the next `windowMs`. */
async function processTreeBusy(pid: number, windowMs: number): Promise<number> {
  const before = await processTreeCpuMs(pid);
  await sleep(windowMs);
  return ((await processTreeCpuMs(pid)) - before) / windowMs;
}

async function peerReady(peer: StartedPeer, peers: number): Promise<boolean> {
  const status = (await (await fetch(`http://${peer.http.host}:${peer.http.port}/v1/status`)).json()) as {
    slots: { covered: number; ranges: { owners: string[] }[] };
  };
  if (status.slots.covered !== 16_384 || !status.slots.ranges.every((r) => r.owners.length === peers)) {
    return false;
  }
  const nodes = await exec('redis-cli', ['-p', String(peer.resp.port), 'CLUSTER', 'NODES'], 5000);
  return nodes.trim().split('\n').length === peers;
}

export async function run(): Promise<void> {
  execFileSync('bash', [join(repoRoot, 'scripts/ensure-redis-server.sh')], { stdio: 'inherit' });
  const redis = await withRedisCluster((seed) => benchAll('redis-cluster', seed, 20_000));
  const tessera = await withTessera((seed) => benchAll('tessera', seed, 1_000));
  const rows: Row[] = [];
  cases.forEach((_, i) => {
    rows.push({ result: redis[i]! });
    rows.push({ result: tessera[i]!, baseline: redis[i]!.name, goal: atLeastRatio(goalRatio) });
  });
  printTable(
    `RESP: redis-benchmark --cluster, ${clients} clients, ${valueBytes}-byte values, ${keySpace} keys; ` +
      'Tessera 3 peers N=3 W=R=2 vs Redis Cluster 3 masters',
    rows,
  );
}
