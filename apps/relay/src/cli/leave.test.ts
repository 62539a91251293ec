/**
 * `tessera join` and `tessera leave` with real processes: one `tessera start`
 * peer, three `tessera join` peers that each print `joined` once a committed
 * map takes them in, then under a SET load through the leaver and a stayer,
 * `tessera leave` drains one peer: it prints progress, the leaving process
 * exits 0, the map has the other three as owners of every slot, and every
 * acknowledged SET reads back. A second leave (N=3, three owners) is refused
 * and that peer keeps serving.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@tessera/peer/testing';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import type { StartSummary } from './node.ts';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const children: ChildProcess[] = [];
let dir: string | undefined;

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  summary: StartSummary;
  /** JSON lines printed after the summary (join progress). */
  events: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
}

async function launch(command: 'start' | 'join', name: string, bootstrap: string[]): Promise<Running> {
  const root = dir as string;
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      main,
      command,
      '--json',
      '--log-level',
      'info',
      '--cluster-key-file',
      join(root, 'cluster-key.json'),
      ...bootstrap.flatMap((address) => ['--bootstrap', address]),
    ],
    {
      env: {
        ...process.env,
        TESSERA_DATA_DIR: join(root, name),
        TESSERA_P2P_PORT: '0',
        TESSERA_WS_PORT: '0',
        TESSERA_RESP_PORT: '0',
        TESSERA_HTTP_PORT: '0',
        TESSERA_METRICS_PORT: '0',
        TESSERA_REPLICATION_FACTOR: '3',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const events: Record<string, unknown>[] = [];
  const lines = createInterface({ input: child.stdout! });
  const summary = await new Promise<StartSummary>((resolve, reject) => {
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.event === 'started') resolve(parsed as unknown as StartSummary);
      else events.push(parsed);
    });
    void exited.then((code) => reject(new Error(`${name} exited ${code} before starting: ${stderr}`)));
  });
  return { child, summary, events, stderr: () => stderr, exited };
}

interface Status {
  peer_id: string;
  members: { id: string; status: string }[];
  slots: { epoch: number; covered: number; ranges: { start: number; end: number; owners: string[] }[] };
}

async function status(peer: Running): Promise<Status> {
  const response = await fetch(`http://127.0.0.1:${peer.summary.http.port}/v1/status`, {
    signal: AbortSignal.timeout(10_000),
  });
  return (await response.json()) as Status;
}

const ownersOf = (s: Status) => [...new Set(s.slots.ranges.flatMap((r) => r.owners))].sort();
const short = (id: string) => id.slice(-6);

/** Waits until every peer reports the same epoch whose owners are exactly `owners`; logs each new view seen. */
async function waitForMap(peers: Running[], owners: string[], what: string): Promise<Status> {
  const wanted = JSON.stringify([...owners].sort());
  let lastSeen = '';
  return waitFor(
    async () => {
      const views = await Promise.all(peers.map(status));
      const seen = JSON.stringify(
        views.map((v) => [short(v.peer_id), v.slots.epoch, ownersOf(v).map(short)]),
      );
      if (seen !== lastSeen) console.log(`${what}: views ${seen}`);
      lastSeen = seen;
      const first = views[0]!;
      const agreed = views.every((v) => v.slots.epoch === first.slots.epoch && first.slots.epoch > 0);
      return agreed && JSON.stringify(ownersOf(first)) === wanted && first.slots.covered === 16384 && first;
    },
    { what, timeoutMs: 240_000, intervalMs: 1000 },
  );
}

function tessera(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--conditions=source', main, ...args], (error, stdout, err) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout, stderr: err });
    });
  });
}

/** SETs `prefix:<lane>:<n>` through `port` on a few lanes until stopped or the server goes away. */
function setLoad(port: number, prefix: string) {
  const acknowledged: string[] = [];
  let running = true;
  let refused = 0;
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  const done = (async () => {
    await redis.connect();
    await Promise.all(
      Array.from({ length: 4 }, async (_, lane) => {
        for (let n = 0; running; n++) {
          const key = `${prefix}:${lane}:${n}`;
          try {
            if ((await redis.set(key, key)) === 'OK') acknowledged.push(key);
          } catch {
            if (redis.status !== 'ready') return; // the server closed: nothing later is acknowledged
            refused += 1; // an error answer (e.g. a quorum miss) is no acknowledgement
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }),
    );
  })();
  return {
    acknowledged,
    refused: () => refused,
    stop: async () => {
      running = false;
      await done;
      redis.disconnect();
    },
  };
}

it('three peers join a running one, then one leaves under SET load without losing an acknowledged write', async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-leave-'));
  const first = await launch('start', 'p0', []);
  const seed = first.summary.multiaddrs.find((a) => a.includes('/tcp/') && !a.includes('/ws'))!;
  await waitForMap([first], [first.summary.peerId], 'the first peer commits a map of itself');
  const joiners = await Promise.all(['p1', 'p2', 'p3'].map((name) => launch('join', name, [seed])));
  const peers = [first, ...joiners];
  const ids = peers.map((p) => p.summary.peerId);
  const fourOwners = await waitForMap(peers, ids, 'a map over four owners');
  for (const range of fourOwners.slots.ranges) expect(range.owners).toHaveLength(3);
  // Each join printed its progress and `joined` once a committed map named it.
  for (const joiner of joiners) {
    await waitFor(() => joiner.events.some((e) => e.event === 'joined'), {
      what: `${short(joiner.summary.peerId)} to print joined`,
      timeoutMs: 30_000,
    });
    const joined = joiner.events.find((e) => e.event === 'joined')!;
    expect(joined.slotsOwned as number).toBeGreaterThan(0);
    expect(joiner.events.some((e) => e.event === 'joining')).toBe(true);
  }

  const leaver = joiners[0]!;
  const stayers = peers.filter((p) => p !== leaver);
  const throughStayer = setLoad(stayers[0]!.summary.resp.port, 'stayer');
  const throughLeaver = setLoad(leaver.summary.resp.port, 'leaver');
  await waitFor(() => throughStayer.acknowledged.length >= 20 && throughLeaver.acknowledged.length >= 20, {
    what: '20 acknowledged SETs through each',
    timeoutMs: 60_000,
  });
  // A leave needs N other owners up in the leaver's view (else it is refused, as tested below).
  let lastMembers = '';
  await waitFor(
    async () => {
      const view = await status(leaver);
      const seen = JSON.stringify(view.members.map((m) => [short(m.id), m.status]));
      if (seen !== lastMembers) console.log(`the leaver's members: ${seen}`);
      lastMembers = seen;
      return view.members.filter((m) => m.id !== leaver.summary.peerId && m.status === 'up').length === 3;
    },
    { what: 'the leaver to see the three others up', timeoutMs: 60_000, intervalMs: 500 },
  );
  const left = await tessera(['leave', '--http', `127.0.0.1:${leaver.summary.http.port}`]);
  console.log(`tessera leave printed:\n${left.stdout}${left.stderr}`);
  expect(left.code, left.stderr).toBe(0);
  expect(left.stdout).toMatch(/^leaving: epoch \d+, this peer owns [1-9]\d* slots, the map names 4 owners$/m);
  expect(left.stdout).toMatch(/^ {2}slotcopy on \S+ \d+ \w+ \[[#.]+\] \d+\/\d+$/m);
  expect(left.stdout).toMatch(/^left: epoch \d+ names 3 owners; the peer stopped$/m);
  expect(await leaver.exited).toBe(0);
  expect(leaver.stderr()).toMatch(/"msg":"left the cluster"/);
  await throughLeaver.stop();
  await throughStayer.stop();

  const threeOwners = await waitForMap(
    stayers,
    stayers.map((p) => p.summary.peerId),
    'a map over the three stayers',
  );
  for (const range of threeOwners.slots.ranges) expect(range.owners).toHaveLength(3);
  const acknowledged = [...throughStayer.acknowledged, ...throughLeaver.acknowledged];
  console.log(
    `acknowledged ${throughStayer.acknowledged.length} SETs through a stayer, ${throughLeaver.acknowledged.length} through the leaver; ${throughStayer.refused() + throughLeaver.refused()} answered with an error`,
  );
  const reader = new Redis({
    port: stayers[1]!.summary.resp.port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 2,
  });
  try {
    const missing: string[] = [];
    for (let i = 0; i < acknowledged.length; i += 50) {
      const batch = acknowledged.slice(i, i + 50);
      const values = await Promise.all(batch.map((key) => reader.get(key)));
      batch.forEach((key, j) => {
        if (values[j] !== key) missing.push(key);
      });
    }
    expect(missing).toEqual([]);

    // N=3 and three owners: another leave would leave two copies of every slot.
    const refused = await tessera(['leave', '--http', `127.0.0.1:${stayers[0]!.summary.http.port}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/leave refused \(409\): leave refused: 2 other owner\(s\) up/);
    expect(await reader.set('after-refusal', 'v')).toBe('OK');
    expect(stayers[0]!.child.exitCode).toBe(null);
  } finally {
    reader.disconnect();
  }
  for (const stayer of stayers) stayer.child.kill('SIGTERM');
  for (const stayer of stayers) expect(await stayer.exited).toBe(0);
}, 600_000);
