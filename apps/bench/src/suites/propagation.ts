/**
 * Propagation suite: how long after browser A starts a write does browser
 * B's change event fire. One Node peer (the relay both
 * browsers dial over WebSockets) and two browser owners, all three owning
 * every slot (N = 3), in real Chromium through @tessera/testing. A writes
 * 1000 keys one after the other with consistency `one`, 25 ms apart; B
 * timestamps each change event (`peer.watch`: B's replica durably holds the
 * new version) of a watched key. Both pages read
 * `performance.timeOrigin + performance.now()`, one clock per machine.
 *
 * Anchor in the same run: A's own acknowledgement latency (put with `one`:
 * A's durable write or the minting owner's), so the propagation figure can
 * be read against the cost of a local write. Goal (issue 10): p50 < 10 ms,
 * p99 < 50 ms on loopback.
 */

import { startHarnessServer, TesseraCluster, waitFor } from '@tessera/testing';
import { chromium } from 'playwright';
import { chromiumLaunchOptions } from '../../../../scripts/chromium.ts';

const writes = 1000;
const warmupWrites = 50;
/** Pause between writes: 40 writes/s, so each write's propagation is measured, not a backlog. */
const gapMs = 25;
const p50GoalMs = 10;
const p99GoalMs = 50;

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export async function run(): Promise<void> {
  const browser = await chromium.launch({ ...chromiumLaunchOptions(), headless: true });
  const harness = await startHarnessServer();
  const cluster = new TesseraCluster(browser, harness.url, { nodes: 1, browsers: 0, replicationFactor: 3 });
  try {
    await cluster.start();
    const a = await cluster.startBrowser({ role: 'owner', storage: 'memory' });
    const b = await cluster.startBrowser({ role: 'owner', storage: 'memory' });
    await cluster.waitForMembers();
    // A and B may hold several connections (relayed and direct): WebRTC once any of them is.
    const transport = async () => {
      const [fromA, fromB] = await Promise.all([a.connections(), b.connections()]);
      const between = [...fromA.filter((c) => c.peer === b.id), ...fromB.filter((c) => c.peer === a.id)];
      return between.some((c) => c.transport === 'webrtc') ? 'webrtc' : between[0]?.transport;
    };
    await waitFor(async () => (await transport()) === 'webrtc', {
      timeoutMs: 60_000,
      what: 'A–B WebRTC',
    }).catch(() => undefined);
    const via = (await transport()) ?? 'none';

    const prefix = `prop-${crypto.randomUUID().slice(0, 8)}-`;
    await b.page.evaluate((p) => window.tesseraHarness!.watchArrivals(p), prefix);
    const all = await a.page.evaluate(
      ([p, n, g]) =>
        window.tesseraHarness!.timedPuts(p as string, n as number, { consistency: 'one' }, g as number),
      [prefix, writes + warmupWrites, gapMs] as const,
    );
    const puts = all.slice(warmupWrites);
    const arrivals = new Map<string, number>();
    await waitFor(
      async () => {
        for (const arrival of await b.page.evaluate(() => window.tesseraHarness!.takeArrivals()))
          if (!arrivals.has(arrival.key)) arrivals.set(arrival.key, arrival.atMs);
        return puts.every((put) => arrivals.has(put.key));
      },
      { timeoutMs: 60_000, what: `all ${writes} writes seen by B's change events` },
    ).catch(() => undefined);
    const propagation = puts
      .filter((put) => arrivals.has(put.key))
      .map((put) => arrivals.get(put.key)! - put.startMs)
      .sort((x, y) => x - y);
    const ack = puts.map((put) => put.ackMs - put.startMs).sort((x, y) => x - y);
    const missing = puts.length - propagation.length;

    const row = (name: string, values: number[], goal: string, met: boolean | undefined) =>
      `| ${name.padEnd(34)} | ${values.length.toString().padStart(5)} | ${percentile(values, 0.5).toFixed(2).padStart(8)} | ${percentile(values, 0.99).toFixed(2).padStart(8)} | ${(values.at(-1) ?? Number.NaN).toFixed(2).padStart(8)} | ${goal.padEnd(22)} | ${met === undefined ? '' : met ? 'met' : 'NOT MET'} |`;
    const p50 = percentile(propagation, 0.5);
    const p99 = percentile(propagation, 0.99);
    console.log(
      `## propagation (browser A write -> browser B change event; ${writes} writes ${gapMs} ms apart; A–B connection: ${via})\n`,
    );
    console.log(
      '| row                                |     n |  p50 ms  |  p99 ms  |  max ms  | goal                   | status |',
    );
    console.log(
      '| ---------------------------------- | ----: | -------: | -------: | -------: | ---------------------- | ------ |',
    );
    console.log(row('anchor: A put ack (consistency one)', ack, '', undefined));
    console.log(
      row(
        'A write -> B change event',
        propagation,
        `p50<${p50GoalMs} p99<${p99GoalMs}`,
        missing === 0 && p50 < p50GoalMs && p99 < p99GoalMs,
      ),
    );
    console.log(
      `\np50 ${(p50 / percentile(ack, 0.5)).toFixed(2)}x the anchor; ${missing} of ${writes} writes never reached B\n`,
    );
  } finally {
    await cluster.close();
    await harness.close();
    await browser.close();
  }
}
