/**
 * The dashboard against a real cluster: the production build served by Vite
 * preview, three Node peers in child processes (one SIGKILLed, then all),
 * and Debian Chromium driven by Playwright. Screenshots go to
 * apps/dashboard/test-results/ for a person to look at.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoordinatorTiming } from '@tessera/coordinator';
import { type PeerProcess, spawnPeerProcess, testReplication, waitFor } from '@tessera/peer/testing';
import { type Browser, chromium, type Page } from 'playwright';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../../../scripts/chromium.ts';

const appDir = dirname(dirname(fileURLToPath(import.meta.url)));
const resultsDir = join(appDir, 'test-results');

// Short failure detection, so a killed peer turns down within seconds, with
// enough slack that a loaded machine does not make live peers look suspect.
const timing: Partial<CoordinatorTiming> = {
  statePeriodMs: 250,
  suspectAfterMs: 3000,
  downAfterMs: 6000,
  syncPeriodMs: 1000,
  syncIntervalMinMs: 200,
};
// The first slot map is proposed once membership has been quiet for settleMs: long enough here that
// all three owners (slow to spawn on a loaded machine) and this tab have joined first. A peer that joins
// after a commit does not learn the committed map yet (the slot-map messages published before it joined
// do not reach it), so the owners and the tab must all see the first commit live.
// 30 s, not 15: at load average 20+ the second and third owner processes took over 15 s to join, and A
// committed a map of itself alone that they never learned (seen with the diagnostics below).
const slotMap = { timing: { settleMs: 30_000, checkPeriodMs: 30_000 } };
// Bounds for polling and setup: generous, because the machine running the test may be loaded.
const waitMs = 30_000;
const setupMs = 120_000;
// The first map needs the settle time plus a PREPARE/ACK/COMMIT round among processes on a loaded machine.
const slotMapWaitMs = 120_000;
const testMs = 360_000;

let workDir: string;
let server: PreviewServer | undefined;
let browser: Browser | undefined;
let page: Page;
const peers: PeerProcess[] = [];
let baseUrl: string;
let a: PeerProcess;
let b: PeerProcess;
let c: PeerProcess;
const cluster = `dash-${crypto.randomUUID()}`;

const wsAddress = (peer: PeerProcess): string => {
  const address = peer.multiaddrs.find((m) => m.includes('/ws/'));
  if (address === undefined) throw new Error(`no WebSockets address in ${peer.multiaddrs.join(' ')}`);
  return address;
};
const tcpAddress = (peer: PeerProcess): string => {
  const address = peer.multiaddrs.find((m) => !m.includes('/ws'));
  if (address === undefined) throw new Error(`no TCP address in ${peer.multiaddrs.join(' ')}`);
  return address;
};
const listenOf = (peer: PeerProcess): string[] =>
  peer.multiaddrs.map((m) => m.slice(0, m.lastIndexOf('/p2p/')));

async function startPeer(config: Parameters<typeof spawnPeerProcess>[0]): Promise<PeerProcess> {
  // The peer package's test settings for the data plane and the slot map (short settle and check periods).
  const peer = await spawnPeerProcess({ replication: testReplication, slotMap, ...config });
  peers.push(peer);
  return peer;
}

/** Each row of the Peers table as the page shows it. */
function peerRows(): Promise<{ id: string; status: string; role: string; transport: string }[]> {
  return page.$$eval('[data-testid="peers-table"] tbody tr[data-peer]', (rows) =>
    rows.map((row) => ({
      id: row.getAttribute('data-peer') ?? '',
      status: row.getAttribute('data-status') ?? '',
      role: row.children[2]?.textContent ?? '',
      transport: row.querySelector('[data-testid="transport"]')?.textContent ?? '',
    })),
  );
}

const statusOf = async (id: string) => (await peerRows()).find((row) => row.id === id)?.status;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tessera-dashboard-'));
  await mkdir(resultsDir, { recursive: true });
  const outDir = join(workDir, 'dist');
  const configFile = join(appDir, 'vite.config.ts');
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  server = await preview({
    configFile,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const address = server.httpServer.address();
  if (address === null || typeof address === 'string') throw new Error('preview server has no port');
  baseUrl = `http://127.0.0.1:${address.port}`;

  browser = await chromium.launch({ ...chromiumLaunchOptions(), headless: true });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  a = await startPeer({ cluster, timing, dataDir: join(workDir, 'a') });
  [b, c] = await Promise.all([
    startPeer({ cluster, timing, bootstrap: [tcpAddress(a)] }),
    startPeer({ cluster, timing, bootstrap: [tcpAddress(a)] }),
  ]);
}, setupMs);

afterAll(async () => {
  await browser?.close();
  await Promise.all(peers.map((peer) => peer.kill()));
  await server?.close();
  await rm(workDir, { recursive: true, force: true });
}, setupMs);

describe('dashboard against a three-peer cluster', () => {
  it('shows every peer up, live charts, the coordinator log, every peer’s jobs, a SIGKILLed peer going down, and stale data while cut off', {
    timeout: testMs,
  }, async () => {
    const query = new URLSearchParams({ cluster, peer: wsAddress(a) });
    for (const [field, value] of Object.entries(timing)) query.set(field, String(value));
    await page.goto(`${baseUrl}/?${query}`);

    // Peers: the three Node peers and this tab, all up; the tab attached to A over WebSockets.
    await waitFor(async () => (await peerRows()).filter((row) => row.status === 'up').length === 4, {
      timeoutMs: waitMs,
      what: 'four peers up in the table',
    });
    const rows = await peerRows();
    const selfId = await page.evaluate(() => window.tesseraDashboard?.peer?.id);
    expect(rows.map((row) => row.id).sort()).toEqual([a.id, b.id, c.id, selfId].sort());
    expect(rows.find((row) => row.id === selfId)?.role).toBe('client');
    for (const node of [a, b, c]) expect(rows.find((row) => row.id === node.id)?.role).toBe('owner');
    expect(await page.getAttribute('[data-testid="connection-bar"]', 'data-phase')).toBe('attached');
    await waitFor(async () => (await peerRows()).find((row) => row.id === a.id)?.transport === 'WebSockets', {
      timeoutMs: waitMs,
      what: 'the connection to A shown as WebSockets',
    });
    await waitFor(
      async () => (await page.textContent('[data-testid="peers-summary"]'))?.includes('4 of 4 up'),
      {
        timeoutMs: waitMs,
        what: 'the summary saying 4 of 4 up',
      },
    );
    await page.screenshot({ path: join(resultsDir, 'peers-up.png') });

    // Slot map: once the owners' map commits, the tab's peer (a follower) has all 16384 slots covered,
    // every owner in the legend is one of the three Node peers, and the keyboard selects a range.
    await page.click('#tab-slots');
    await waitFor(
      async () =>
        (await page.getAttribute('[data-testid="slots-summary"]', 'data-covered')) === '16384' &&
        Number(await page.getAttribute('[data-testid="slots-summary"]', 'data-epoch')) >= 1,
      { timeoutMs: slotMapWaitMs, what: 'the committed slot map covering 16384 slots' },
    ).catch(async (err) => {
      // Say what each peer holds, so a failure tells a slot-map formation problem from a dashboard one.
      const maps = await Promise.all(
        [a, b, c].map((peer) => peer.call({ cmd: 'slotMap' }, 5000).catch((e: unknown) => String(e))),
      );
      const tab = await page.evaluate(() => {
        const slotMap = window.tesseraDashboard?.peer?.slotMap;
        return slotMap === undefined ? null : { epoch: slotMap.map.epoch, stats: slotMap.stats() };
      });
      throw new Error(`${err}; Node peers' maps: ${JSON.stringify(maps)}; tab: ${JSON.stringify(tab)}`);
    });
    const legend = await page.$$eval('[data-testid="slot-legend"] li[data-owner]', (items) =>
      items.map((item) => item.getAttribute('data-owner')),
    );
    expect(legend.sort()).toEqual([a.id, b.id, c.id].sort());
    await page.focus('[data-testid="slot-canvas"]');
    await page.keyboard.press('End');
    const details = await page.$eval('[data-testid="slot-details"] dl', (dl) => ({
      end: dl.getAttribute('data-range-end'),
      owners: [...dl.querySelectorAll('.owner-list li')].map((li) => li.getAttribute('title')),
    }));
    expect(details.end).toBe('16383');
    expect(details.owners.length).toBe(3);
    expect([...details.owners].sort()).toEqual([a.id, b.id, c.id].sort());
    await page.screenshot({ path: join(resultsDir, 'slot-map.png') });
    // Hovering the top-left cell shows slot 0's range (the map is 128 cells across).
    const box = await page.locator('[data-testid="slot-canvas"]').boundingBox();
    if (box === null) throw new Error('no slot canvas box');
    await page.mouse.move(box.x + 1, box.y + 1);
    expect(await page.getAttribute('[data-testid="slot-details"] dl', 'data-range-start')).toBe('0');
    await page.mouse.move(box.x + box.width - 1, box.y + 1);
    expect(await page.textContent('[data-testid="slot-details"] dd')).toBe('127');

    // Key browser: a put made in the UI through the tab's peer is read back by B, a Node peer.
    const key = `dash-key-${crypto.randomUUID()}`;
    await page.click('#tab-keys');
    await page.fill('[data-testid="kv-key"]', key);
    await page.selectOption('[data-testid="kv-consistency"]', 'all');
    await page.fill('[data-testid="kv-value"]', '{"name": "Ada", "n": [1, 2, 3]}');
    // Right after the first commit the owners may still be settling; a failed put shows its error and is retried.
    let lastResult: string | null = null;
    await waitFor(
      async () => {
        await page.click('[data-testid="kv-put"]');
        await waitFor(() => page.$('[data-testid="kv-written"], [data-testid="kv-error"]'), {
          timeoutMs: waitMs,
          what: 'the put done or failed',
        });
        lastResult = await page.textContent('[data-testid="kv-result"]');
        return lastResult?.startsWith('Put ');
      },
      { timeoutMs: waitMs, intervalMs: 1000, what: 'a put through the UI to succeed' },
    ).catch((err) => {
      throw new Error(`${err}; last result: ${lastResult}`);
    });
    const fromB = await b.call<{ found: boolean; value: unknown; siblings: unknown[] }>({
      cmd: 'get',
      key,
      options: { consistency: 'all' },
    });
    expect(fromB).toMatchObject({ found: true, value: { name: 'Ada', n: [1, 2, 3] } });
    // ...and the UI reads it back (at `all`, like B) with as many siblings as B sees: a put that failed its
    // quorum above may still have landed on an owner, and the retry, without a read's context, is concurrent to it.
    await page.click('[data-testid="kv-get"]');
    await waitFor(() => page.$('[data-testid="kv-read"][data-found="true"]'), {
      timeoutMs: waitMs,
      what: 'the get shown',
    });
    expect(await page.textContent('[data-testid="kv-value-view"]')).toContain('"name": "Ada"');
    expect(await page.textContent('[data-testid="kv-read"]')).toContain(
      `Siblings (${fromB.siblings.length})`,
    );
    // Bad input is refused with a typed error and writes nothing.
    await page.fill('[data-testid="kv-value"]', '{"name": ');
    await page.click('[data-testid="kv-put"]');
    expect(
      await waitFor(() => page.getAttribute('[data-testid="kv-error"]', 'data-error'), {
        timeoutMs: waitMs,
        what: 'the input error',
      }),
    ).toBe('ERR_DASHBOARD_INPUT');
    expect(
      await b.call<{ value: unknown }>({ cmd: 'get', key, options: { consistency: 'all' } }),
    ).toMatchObject({ value: { name: 'Ada' } });
    await page.screenshot({ path: join(resultsDir, 'key-browser.png') });

    // Live charts: a put load through B shows in B's line and the cluster line, from B's gossiped node state.
    const load = await b.call<{ ops: number; errors: number }>(
      {
        cmd: 'bench',
        bench: { op: 'put', clients: 4, warmupMs: 0, durationMs: 3000, valueBytes: 64, keysPerClient: 20 },
      },
      waitMs,
    );
    expect(load.ops).toBeGreaterThan(0);
    await page.click('#tab-charts');
    const bRow = `[data-testid="charts-table"] tr[data-peer="${b.id}"]`;
    await waitFor(
      async () =>
        Number(await page.getAttribute(bRow, 'data-ops-total').catch(() => null)) >= load.ops + load.errors &&
        Number(await page.getAttribute(bRow, 'data-ops-per-sec-max')) > 0 &&
        Number(await page.getAttribute('[data-testid="charts-summary"]', 'data-cluster-ops-max')) > 0,
      { timeoutMs: waitMs, what: "B's put load in the charts" },
    );
    // Every peer that runs the data plane reports: the three Node peers and this tab.
    expect(await page.getAttribute('[data-testid="charts-summary"]', 'data-peers')).toBe('4');
    expect(await page.$(`[data-testid="chart-ops"] path[data-line="${b.id}"]`)).not.toBeNull();
    expect(Number(await page.getAttribute('[data-testid="chart-ops"]', 'data-y-max'))).toBeGreaterThanOrEqual(
      Number(await page.getAttribute(bRow, 'data-ops-per-sec-max')),
    );
    await page.screenshot({ path: join(resultsDir, 'charts.png') });
    await page.click('#tab-peers');

    // Coordinator log: B's message arrives; the keyboard reaches the Log tab; the peer filter keeps only B's.
    b.send({ cmd: 'publish', payload: 'hello from B' });
    c.send({ cmd: 'publish', payload: 'hello from C' });
    await page.focus('#tab-peers');
    await page.keyboard.press('ArrowRight');
    expect(await page.getAttribute('#tab-charts', 'aria-selected')).toBe('true');
    await page.keyboard.press('ArrowRight');
    expect(await page.getAttribute('#tab-log', 'aria-selected')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-log');
    await waitFor(() => page.$(`[data-testid="log-origin"] option[value="${b.id}"]`), {
      timeoutMs: waitMs,
      what: 'B in the log origin filter',
    });
    await waitFor(() => page.$(`[data-testid="log-origin"] option[value="${c.id}"]`), {
      timeoutMs: waitMs,
      what: 'C in the log origin filter',
    });
    await page.selectOption('[data-testid="log-origin"]', b.id);
    // B is in the filter as soon as any message of B's arrived (slot-map messages come first): wait for the hello.
    const origins = await waitFor(
      async () => {
        const rows = await page.$$eval('[data-testid="log-table"] tbody tr', (trs) =>
          trs.map((tr) => [tr.getAttribute('data-from'), tr.textContent ?? '']),
        );
        return rows.some(([, text]) => text?.includes('hello from B')) ? rows : undefined;
      },
      { timeoutMs: waitMs, what: "B's hello in the filtered log" },
    );
    expect(origins.length).toBeGreaterThan(0);
    expect(origins.every(([from]) => from === b.id)).toBe(true);
    expect(origins.some(([, text]) => text?.includes('hello from B'))).toBe(true);
    await page.screenshot({ path: join(resultsDir, 'log-filtered.png') });

    // Jobs: real job records of the tab's own peer and of C (a Node peer), each shown from its node state.
    await page.evaluate(async () => {
      const jobs = window.tesseraDashboard?.peer?.coordinator.jobs;
      if (jobs === undefined) throw new Error('no peer');
      const job = await jobs.create({ kind: 'migrate', slots: [[0, 99]], total: 100, status: 'running' });
      await jobs.update(job.id, { done: 40 });
    });
    const cJob = await c.call<{ id: string }>({
      cmd: 'job',
      job: { kind: 'backfill', total: 200, done: 50 },
    });
    await page.click('#tab-jobs');
    // A peer may list more than one job (an owner that proposed a slot map has a `slotmap` job too, and
    // a later proposal puts it first): pick the row of the job this test made, when it knows its id.
    const progressOf = (node: string, job?: string) =>
      page.$eval(
        `[data-testid="jobs-table"] tr[data-node="${node}"]${job === undefined ? '' : `[data-job="${job}"]`} progress`,
        (p) => [p.getAttribute('value'), p.getAttribute('max')],
      );
    expect(
      await waitFor(() => progressOf(selfId as string).catch(() => undefined), {
        timeoutMs: waitMs,
        what: "the tab's job progress bar",
      }),
    ).toEqual(['40', '100']);
    expect(
      await waitFor(() => progressOf(c.id, cJob.id).catch(() => undefined), {
        timeoutMs: waitMs,
        what: "C's job progress bar",
      }),
    ).toEqual(['50', '200']);
    const cJobRow = `[data-testid="jobs-table"] tr[data-node="${c.id}"][data-job="${cJob.id}"]`;
    expect(await page.getAttribute(cJobRow, 'data-job')).toBe(cJob.id);
    expect(await page.getAttribute(cJobRow, 'data-stale')).toBe('false');
    await page.screenshot({ path: join(resultsDir, 'jobs.png') });

    // SIGKILL C: its row turns down; the others stay up. (Before the owner switch: a peer that joins after a
    // commit does not learn the committed map yet, so the restarted tab would have no map to mark.)
    await c.kill();
    await waitFor(
      async () => {
        const after = await peerRows();
        return after.every((row) => row.status === (row.id === c.id ? 'down' : 'up'));
      },
      { timeoutMs: waitMs, what: 'C shown down after SIGKILL and the others up' },
    );
    expect(await page.getAttribute('#panel', 'data-stale')).toBe('false');
    await page.screenshot({ path: join(resultsDir, 'peer-down.png') });
    // C's job and C's chart line are marked stale: C is no longer heard from.
    await page.click('#tab-jobs');
    await waitFor(async () => (await page.getAttribute(cJobRow, 'data-stale')) === 'true', {
      timeoutMs: waitMs,
      what: "C's job marked stale",
    }).catch(async (err) => {
      const seen = await page.evaluate(() => {
        const snapshot = window.tesseraDashboard?.getSnapshot();
        return {
          jobs: snapshot?.clusterJobs.map((job) => [job.node.slice(-6), job.kind, job.stale]),
          members: snapshot?.rows.map((row) => [
            row.member.id.slice(-6),
            row.member.status,
            row.member.liveness,
          ]),
        };
      });
      throw new Error(
        `${err}; ${await page.$eval(cJobRow, (row) => row.outerHTML)}; ${JSON.stringify(seen)}`,
      );
    });
    await page.click('#tab-charts');
    // B's line is live again within a bound, not at one instant: on a loaded machine a live peer's report
    // can be a few seconds late (suspectAfterMs is 3 s here), which the view rightly marks stale meanwhile.
    const chartStale = async () => ({
      cRow: await page.getAttribute(`[data-testid="charts-table"] tr[data-peer="${c.id}"]`, 'data-stale'),
      bRow: await page.getAttribute(`[data-testid="charts-table"] tr[data-peer="${b.id}"]`, 'data-stale'),
      cLine: await page.getAttribute(`[data-testid="chart-ops"] path[data-line="${c.id}"]`, 'data-stale'),
      // Every line's newest point carries a dot (a one-point line has no stroke to see).
      bDot: (await page.$(`[data-testid="chart-ops"] circle[data-last="${b.id}"]`)) !== null,
    });
    await waitFor(
      async () => {
        const seen = await chartStale();
        return seen.cRow === 'true' && seen.bRow === 'false' && seen.cLine === 'true' && seen.bDot;
      },
      { timeoutMs: waitMs, what: "C's chart row and line stale, B's live" },
    ).catch(async (err) => {
      throw new Error(`${err}; ${JSON.stringify(await chartStale())}`);
    });
    await page.screenshot({ path: join(resultsDir, 'charts-peer-down.png') });

    // Every slot has C among its three owners, so with C down every slot is under-replicated, and stays so after
    // a failover map (two owners left for N = 3). The diagonal marks show it and slot 0's details say so.
    await page.click('#tab-slots');
    await waitFor(
      async () => (await page.getAttribute('[data-testid="slots-summary"]', 'data-under')) === '16384',
      { timeoutMs: waitMs, what: 'every slot under-replicated with C down' },
    );
    await page.focus('[data-testid="slot-canvas"]');
    await page.keyboard.press('Home');
    expect(await page.textContent('[data-testid="slot-details"]')).toContain('under-replicated');
    await page.screenshot({ path: join(resultsDir, 'slot-map-under-replicated.png') });

    // Owner switch (by keyboard): the tab's peer restarts as an owner on IndexedDB, with a quota in its node state.
    await page.click('#tab-peers');
    await page.focus('input[role="switch"]');
    await page.keyboard.press('Space');
    const ownerId = await waitFor(
      async () => {
        const id = await page.evaluate(() => {
          const peer = window.tesseraDashboard?.peer;
          return peer?.role === 'owner' ? peer.id : undefined;
        });
        if (id === undefined) return undefined;
        const self = (await peerRows()).find((row) => row.id === id);
        const storage = await page.textContent(`tr[data-peer="${id}"] td:nth-child(8)`);
        return self?.role === 'owner' && self.status === 'up' && !storage?.includes('no quota')
          ? id
          : undefined;
      },
      { timeoutMs: waitMs, what: 'this tab restarted as an owner with a storage quota' },
    );
    expect(ownerId).not.toBe(selfId);
    expect(page.url()).toContain('role=owner');
    expect(await page.textContent('[data-testid="connection-bar"]')).toContain('owner · IndexedDB');
    await waitFor(
      async () => {
        const after = await peerRows();
        const up = after.filter((row) => row.status === 'up').map((row) => row.id);
        return (
          [a.id, b.id, ownerId].every((id) => up.includes(id)) &&
          after.every((row) => row.status === (row.id === c.id ? 'down' : 'up'))
        );
      },
      { timeoutMs: waitMs, what: 'A, B and the restarted tab up after the restart, C not up' },
    );
    await page.screenshot({ path: join(resultsDir, 'owner.png') });

    // Cut off: with A and B killed too, the last view is kept, marked stale, and the bar says reconnecting.
    const liveIds = (await peerRows()).map((row) => row.id).sort();
    expect(liveIds).toEqual(expect.arrayContaining([a.id, b.id, ownerId].sort()));
    await Promise.all([a.kill(), b.kill()]);
    await waitFor(() => page.$('[data-testid="stale-banner"]'), {
      timeoutMs: waitMs,
      what: 'the stale banner',
    });
    expect(await page.getAttribute('#panel', 'data-stale')).toBe('true');
    expect(await page.getAttribute('[data-testid="connection-bar"]', 'data-phase')).toBe('reconnecting');
    // The last live view is kept (not cleared, not repainted by the tab's own failure detector).
    expect((await peerRows()).map((row) => row.id).sort()).toEqual(liveIds);
    await page.screenshot({ path: join(resultsDir, 'stale.png') });
    // The charts keep their last live picture, every line marked stale.
    await page.click('#tab-charts');
    expect(await page.textContent('[data-testid="charts-summary"]')).toContain('(stale)');
    const lineStale = await page.$$eval('[data-testid="chart-ops"] path[data-line]', (paths) =>
      paths.map((path) => path.getAttribute('data-stale')),
    );
    expect(lineStale.length).toBeGreaterThan(0);
    expect(lineStale.every((stale) => stale === 'true')).toBe(true);
    await page.screenshot({ path: join(resultsDir, 'charts-stale.png') });
    await page.click('#tab-peers');

    // A comes back on the same addresses and data: the tab redials it and the view is live again.
    const restarted = await startPeer({ cluster, timing, dataDir: join(workDir, 'a'), listen: listenOf(a) });
    expect(restarted.id).toBe(a.id);
    await waitFor(
      async () =>
        (await page.getAttribute('[data-testid="connection-bar"]', 'data-phase')) === 'attached' &&
        (await page.$('[data-testid="stale-banner"]')) === null,
      { timeoutMs: waitMs, what: 'reattached and no longer stale' },
    );
    await waitFor(async () => (await statusOf(a.id)) === 'up' && (await statusOf(b.id)) === 'down', {
      timeoutMs: waitMs,
      what: 'A up again and B down',
    });
    await page.screenshot({ path: join(resultsDir, 'reconnected.png') });
  });
});
