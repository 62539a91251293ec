/**
 * The `npm start` script (scripts/start.ts) as a real process tree: three
 * peers come up and see each other as up; SIGINT stops the script and every
 * peer process, with no orphans left.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../../../scripts/start.ts', import.meta.url));
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
  peers: { peerId: string; http: { port: number }; pid: number; wsMultiaddrs: string[] }[];
  dataRoot: string;
}

it('starts three peers that see each other as up, and stops every process on SIGINT', async () => {
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

  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(stderr).toContain('start: stopped');
  expect(pids.filter(alive)).toEqual([]);
});
