/**
 * The `npm start` script (scripts/start.ts) as a real process tree: three
 * peers come up and see each other as up, agree on a slot map with three
 * owners per slot, and a SET through one peer's RESP port is read through
 * the others' (redis-cli, plain and -c); SIGINT stops the script and every
 * peer process, with no orphans left.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@tessera/peer/testing';
import { afterAll, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../../../scripts/start.ts', import.meta.url));
const ensureRedisTools = fileURLToPath(new URL('../../scripts/ensure-redis-tools.sh', import.meta.url));
let dir: string | undefined;
let child: ChildProcess | undefined;
let pids: number[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (child?.pid !== undefined && alive(child.pid)) child.kill('SIGKILL');
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface Started {
  peers: {
    peerId: string;
    http: { port: number };
    resp: { port: number };
    respBackend: string;
    pid: number;
    wsMultiaddrs: string[];
  }[];
  dataRoot: string;
}

it('starts three peers that see each other as up, and stops every process on SIGINT', async () => {
  execFileSync('bash', [ensureRedisTools], { stdio: 'pipe' });
  dir = await mkdtemp(join(tmpdir(), 'tessera-npm-start-'));
  child = spawn(
    process.execPath,
    ['--conditions=source', script, '--no-dashboard', '--json', '--ephemeral', '--data', dir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const started = await new Promise<Started>((resolve, reject) => {
    createInterface({ input: child!.stdout! }).once('line', (line) => resolve(JSON.parse(line) as Started));
    child!.once('exit', (code) => reject(new Error(`start script exited ${code}: ${stderr}`)));
  });
  pids = started.peers.map((p) => p.pid);
  expect(pids).toHaveLength(3);
  expect(new Set(started.peers.map((p) => p.peerId)).size).toBe(3);
  const peersJson = JSON.parse(await readFile(join(dir, 'peers.json'), 'utf8')) as { peers: string[] };
  expect(peersJson.peers).toEqual(started.peers.map((p) => p.wsMultiaddrs[0]));

  // Every peer's membership view reaches three members, all up.
  const ids = started.peers.map((p) => p.peerId).sort();
  for (const peer of started.peers) {
    let view: { id: string; status: string }[] = [];
    for (let attempt = 0; attempt < 240; attempt++) {
      const body = (await (await fetch(`http://127.0.0.1:${peer.http.port}/v1/status`)).json()) as {
        members: { id: string; status: string }[];
      };
      view = body.members;
      if (view.length === 3 && view.every((m) => m.status === 'up')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(view.map((m) => m.id).sort()).toEqual(ids);
    expect(view.map((m) => m.status)).toEqual(['up', 'up', 'up']);
  }

  // Replicated RESP: the peers' slot map gives every slot all three owners (N=3), then any peer serves any key.
  for (const peer of started.peers) {
    expect(peer.respBackend).toBe('replicated');
    await waitFor(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${peer.http.port}/v1/status`)).json()) as {
          slots: { covered?: number; ranges?: { owners: string[] }[] };
        };
        return body.slots.covered === 16384 && body.slots.ranges!.every((r) => r.owners.length === 3);
      },
      { what: 'a slot map with three owners per slot', timeoutMs: 90_000 },
    );
  }
  const cli = (i: number, args: string[]) =>
    execFileSync('redis-cli', ['-p', String(started.peers[i]!.resp.port), ...args]).toString();
  // A map is not yet writable: each peer's first request to an owner opens its replication stream,
  // which overran the request timeout under full-suite load. Ready = a quorum write through each peer.
  for (let i = 0; i < 3; i++) {
    await waitFor(() => cli(i, ['SET', `npm:ready:${i}`, '1']) === 'OK\n', {
      what: `a quorum write through peer ${i + 1}`,
      timeoutMs: 90_000,
      intervalMs: 500,
    });
  }
  expect(cli(0, ['SET', 'npm:k', 'from peer 1'])).toBe('OK\n');
  expect(cli(1, ['GET', 'npm:k'])).toBe('from peer 1\n');
  expect(cli(2, ['GET', 'npm:k'])).toBe('from peer 1\n');
  expect(cli(2, ['-c', 'SET', 'npm:c', 'cluster mode'])).toBe('OK\n');
  expect(cli(0, ['GET', 'npm:c'])).toBe('cluster mode\n');
  // CLUSTER NODES names all three RESP servers (each peer published its endpoint).
  // Endpoints travel as coordinator messages: wait (bounded) until peer 2 has heard all three.
  const nodes = await waitFor(
    () => {
      const text = cli(1, ['CLUSTER', 'NODES']);
      return started.peers.every((peer) => text.includes(`:${peer.resp.port}@`)) ? text : undefined;
    },
    { what: 'CLUSTER NODES naming all three RESP servers', timeoutMs: 60_000, intervalMs: 500 },
  );
  for (const peer of started.peers) expect(nodes).toContain(`:${peer.resp.port}@`);

  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(stderr).toContain('start: stopped');
  expect(pids.filter(alive)).toEqual([]);
  // Above the waits inside (membership, slot map, first writes): the 60 s default cut it under load.
}, 420_000);
