/**
 * `npm start`: a local Tessera cluster for trying things out. Starts three
 * `tessera start` peers as child processes (data under ./.data/, peers 2
 * and 3 bootstrapping from peer 1), writes ./.data/peers.json with their
 * WebSocket addresses, starts the dashboard's Vite dev server when
 * apps/dashboard exists, and prints every address. Ctrl-C (or SIGTERM)
 * stops everything and waits for each child to exit.
 *
 *   node --conditions=source scripts/start.ts [--peers n] [--data dir] [--no-dashboard] [--json] [--ephemeral]
 *
 * --ephemeral: every port is picked by the OS (tests); otherwise the usual
 * ports (RESP 6379…, HTTP 8080…) are used when free.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs, stripVTControlCharacters } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const tesseraMain = join(root, 'apps/relay/src/cli/main.ts');
const dashboardDir = join(root, 'apps/dashboard');
const CLUSTER = 'local';
/** Longest wait for a peer or the dashboard to come up, ms (a loaded laptop can be slow). */
const START_TIMEOUT_MS = 120_000;
/** Longest wait for a child to exit after SIGTERM before SIGKILL, ms. */
const STOP_TIMEOUT_MS = 15_000;
/** Preferred ports of peer i (0-based) when free; otherwise the OS picks. */
const preferred = (i: number) => ({
  p2p: 4001 + 2 * i,
  ws: 4002 + 2 * i,
  resp: 6379 + i,
  http: 8080 + i,
  metrics: 9464 + i,
});
const DASHBOARD_PORT = 5173;

interface PeerSummary {
  peerId: string;
  multiaddrs: string[];
  wsMultiaddrs: string[];
  resp: { host: string; port: number };
  http: { host: string; port: number };
  metrics: { host: string; port: number };
  respBackend: string;
  pid: number;
}

const { values: options } = parseArgs({
  options: {
    peers: { type: 'string', default: '3' },
    data: { type: 'string', default: join(root, '.data') },
    'no-dashboard': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    ephemeral: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  process.stdout.write(
    'Usage: npm start -- [--peers n] [--data dir] [--no-dashboard] [--json] [--ephemeral]\n',
  );
  process.exit(0);
}
const peerCount = Number(options.peers);
if (!Number.isInteger(peerCount) || peerCount < 1 || peerCount > 9) {
  process.stderr.write('start: --peers must be 1..9\n');
  process.exit(2);
}
const dataRoot = resolve(options.data);

const children: ChildProcess[] = [];

function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

async function pick(port: number): Promise<number> {
  if (options.ephemeral) return 0;
  return (await portFree(port)) ? port : 0;
}

/** Spawns a child in its own process group (so a terminal's Ctrl-C reaches only this script, which stops them in order). */
function launch(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = root): ChildProcess {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  return child;
}

async function startPeer(index: number, bootstrap: string[]): Promise<PeerSummary> {
  const ports = preferred(index);
  const dataDir = join(dataRoot, `peer-${index + 1}`);
  const args = [
    '--conditions=source',
    tesseraMain,
    'start',
    '--json',
    '--data-dir',
    dataDir,
    '--cluster',
    CLUSTER,
    // One cluster key for every local peer (the first to start creates it), so they admit each other.
    '--cluster-key-file',
    join(dataRoot, 'cluster-key.json'),
    '--p2p-port',
    String(await pick(ports.p2p)),
    '--ws-port',
    String(await pick(ports.ws)),
    '--resp-port',
    String(await pick(ports.resp)),
    '--http-port',
    String(await pick(ports.http)),
    '--metrics-port',
    String(await pick(ports.metrics)),
    ...bootstrap.flatMap((address) => ['--bootstrap', address]),
  ];
  await mkdir(dataRoot, { recursive: true });
  const child = launch(process.execPath, args, {
    ...process.env,
    TESSERA_LOG_LEVEL: process.env.TESSERA_LOG_LEVEL ?? 'warn',
  });
  // Logs of every peer go to this terminal's stderr, prefixed.
  createInterface({ input: child.stderr! }).on('line', (line) =>
    process.stderr.write(`[peer-${index + 1}] ${line}\n`),
  );
  const lines = createInterface({ input: child.stdout! });
  return new Promise<PeerSummary>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`peer-${index + 1} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    lines.once('line', (line) => {
      clearTimeout(timer);
      done(JSON.parse(line) as PeerSummary);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`peer-${index + 1} exited with ${code} before starting`));
    });
  });
}

async function startDashboard(peersJson: string): Promise<string | undefined> {
  if (options['no-dashboard'] || !existsSync(join(dashboardDir, 'package.json'))) return undefined;
  const port = await pick(DASHBOARD_PORT);
  const vite = join(root, 'node_modules/vite/bin/vite.js');
  const child = launch(
    process.execPath,
    // Vite treats port 0 as "its default"; without --strictPort it moves on to a free one itself.
    [vite, '--port', String(port === 0 ? DASHBOARD_PORT : port), '--host', '127.0.0.1'],
    { ...process.env, TESSERA_PEERS_JSON: peersJson },
    dashboardDir,
  );
  createInterface({ input: child.stderr! }).on('line', (line) =>
    process.stderr.write(`[dashboard] ${line}\n`),
  );
  const lines = createInterface({ input: child.stdout! });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error('the dashboard did not start')), START_TIMEOUT_MS);
    lines.on('line', (line) => {
      // Vite prints "Local:   http://127.0.0.1:5173/" (with colour codes).
      const plain = stripVTControlCharacters(line);
      const url = /Local:\s+(http:\/\/\S+)/.exec(plain)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        done(url);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the dashboard exited with ${code}`));
    });
  });
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      done();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

let stopping: Promise<void> | undefined;
function stopAll(code: number): Promise<void> {
  stopping ??= (async () => {
    process.stderr.write('start: stopping…\n');
    // The dashboard first, then peers in reverse start order.
    for (const child of [...children].reverse()) killGroup(child, 'SIGTERM');
    await Promise.all(children.map((child) => waitExit(child, STOP_TIMEOUT_MS)));
    process.stderr.write('start: stopped\n');
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
// Last resort if this script dies some other way: no orphans left behind.
process.on('exit', () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) killGroup(child, 'SIGKILL');
});

try {
  const first = await startPeer(0, []);
  const seed = first.multiaddrs.find((a) => !a.includes('/ws/')) ?? first.multiaddrs[0]!;
  const rest = await Promise.all(Array.from({ length: peerCount - 1 }, (_, i) => startPeer(i + 1, [seed])));
  const peers = [first, ...rest];
  const peersJson = join(dataRoot, 'peers.json');
  await writeFile(
    peersJson,
    `${JSON.stringify({ cluster: CLUSTER, peers: peers.map((p) => p.wsMultiaddrs[0]).filter(Boolean) }, null, 2)}\n`,
  );
  const dashboard = await startDashboard(peersJson);
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ event: 'started', cluster: CLUSTER, dataRoot, peers, dashboard: dashboard ?? null, pid: process.pid })}\n`,
    );
  } else {
    const lines = [`Tessera local cluster "${CLUSTER}" (${peers.length} peers, data in ${dataRoot})`, ''];
    peers.forEach((p, i) => {
      lines.push(`peer-${i + 1}  ${p.peerId}`);
      lines.push(`  RESP     redis-cli -p ${p.resp.port}`);
      lines.push(`  HTTP     http://${p.http.host}:${p.http.port}/v1/status`);
      lines.push(`  metrics  http://${p.metrics.host}:${p.metrics.port}/metrics`);
      for (const address of p.multiaddrs) lines.push(`  libp2p   ${address}`);
    });
    if (peers[0]!.respBackend === 'local') {
      lines.push(
        '',
        "NOTE: RESP runs on each peer's LOCAL backend (not replicated); the HTTP API is replicated.",
      );
    } else {
      lines.push(
        '',
        'Replicated: SET/GET/DEL/EXISTS/TTL over RESP and the HTTP key-value API, through any peer',
        '(quorum reads and writes; slot owners from the coordinator slot map). A SET on one peer is',
        "read on any other. SET NX/XX/GET and INCR/DECR run at the key's primary; MSET writes key by",
        'key; KEYS/SCAN/DBSIZE walk the cluster. CLUSTER SLOTS follows the slot map (redis-cli -c works).',
      );
    }
    lines.push(
      '',
      dashboard === undefined
        ? 'dashboard: not started (apps/dashboard missing or --no-dashboard)'
        : `dashboard: ${dashboard}`,
    );
    lines.push(`peers.json: ${peersJson}`, '', 'Ctrl-C stops everything.');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} catch (error) {
  process.stderr.write(`start: ${(error as Error).message}\n`);
  await stopAll(1);
}
