/**
 * Coordinator suite: the simulated cluster (deterministic, simulated time) at
 * 10, 50 and 100 peers, default production timing, 1-50 ms delays and 1%
 * loss per delivery.
 *
 * - converge: simulated ms from one peer publishing a message until every
 *   peer holds it (gossip first, catch-up for the deliveries that were lost),
 *   over several messages from different publishers.
 * - settle: simulated ms from the first start until every peer sees every
 *   peer `up` (peers start over 1 s).
 * - node-state traffic: bytes of node-state broadcasts per peer per simulated
 *   second, sent and received, over a quiet window after membership settled
 *   (several heartbeat periods long, since the period grows with the cluster).
 *   Catch-up traffic (digest requests and pages) is shown on its own.
 *
 * The baseline is the 10-peer row of the same run: per-peer bytes received
 * must stay flat (within 1.5x) as the cluster grows. Goal: 100 peers
 * converge in < 2000 ms.
 */
import { SimCluster, Simulation } from '@tessera/coordinator/sim';

const seed = 20261121;
const sizes = [10, 50, 100];
const messagesPerSize = 7;
const windowMs = 20_000;
const receivedFlatMax = 1.5;
const convergeGoalMs = 2000;

interface Row {
  peers: number;
  settleMs: number;
  convergeP50Ms: number;
  convergeMaxMs: number;
  stateSentBps: number;
  stateReceivedBps: number;
  catchUpBps: number;
  stateBytes: number;
  wallMs: number;
}

async function measure(peers: number): Promise<Row> {
  const wall0 = performance.now();
  const sim = new Simulation({ seed, delayMsMin: 1, delayMsMax: 50, dropRate: 0.01 });
  const cluster = await SimCluster.create(sim, { peers });
  const start0 = sim.now;
  await cluster.startAll(1000);
  const settled = await sim.runUntil(() => cluster.membershipConverged(), {
    timeMsMax: 60_000,
    checkEveryMs: 50,
  });
  const settleMs = sim.now - start0;
  if (!settled) throw new Error(`membership of ${peers} peers did not settle (seed ${seed})`);

  // Quiet window: only node state and periodic catch-up rounds flow.
  const before = cluster.ids.map((id) => sim.traffic(id));
  const statesBefore = cluster.ids.map((id) => cluster.coordinator(id).stats());
  await sim.runFor(windowMs);
  const after = cluster.ids.map((id) => sim.traffic(id));
  const statesAfter = cluster.ids.map((id) => cluster.coordinator(id).stats());
  const seconds = windowMs / 1000;
  let stateSent = 0;
  let statesSent = 0;
  let received = 0;
  let catchUp = 0;
  cluster.ids.forEach((_, i) => {
    stateSent += statesAfter[i]!.stateBytesSent - statesBefore[i]!.stateBytesSent;
    statesSent += statesAfter[i]!.statesSent - statesBefore[i]!.statesSent;
    received += after[i]!.broadcastBytesReceived - before[i]!.broadcastBytesReceived;
    catchUp +=
      after[i]!.requestBytesSent -
      before[i]!.requestBytesSent +
      after[i]!.responseBytesSent -
      before[i]!.responseBytesSent;
  });

  const times: number[] = [];
  for (let k = 0; k < messagesPerSize; k++) {
    const publisher = cluster.ids[(k * 7) % peers]!;
    const have = new Set<string>([publisher]);
    const offs = cluster.ids.map((id) =>
      cluster.coordinator(id).on('message', (e) => {
        if (e.message.from === publisher && e.message.payload === k) have.add(id);
      }),
    );
    const t0 = sim.now;
    await cluster.coordinator(publisher).publish({ messageType: 'bench', eventType: 'created', payload: k });
    let doneAt = -1;
    await sim.runUntil(
      () => {
        if (have.size === peers && doneAt < 0) doneAt = sim.now;
        return doneAt >= 0;
      },
      { timeMsMax: 30_000, checkEveryMs: 1 },
    );
    for (const off of offs) off();
    if (doneAt < 0) throw new Error(`message ${k} did not reach all ${peers} peers (seed ${seed})`);
    times.push(doneAt - t0);
    await sim.runFor(500);
  }
  await cluster.stopAll();
  times.sort((a, b) => a - b);
  return {
    peers,
    settleMs,
    convergeP50Ms: times[Math.floor(times.length / 2)]!,
    convergeMaxMs: times[times.length - 1]!,
    stateSentBps: stateSent / peers / seconds,
    stateReceivedBps: received / peers / seconds,
    catchUpBps: catchUp / peers / seconds,
    stateBytes: stateSent / Math.max(1, statesSent),
    wallMs: performance.now() - wall0,
  };
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const peers of sizes) rows.push(await measure(peers));
  const base = rows[0]!;
  const header = [
    'peers',
    'converge p50 ms',
    'converge max ms',
    'settle ms',
    'state B/peer/s sent',
    'state B/peer/s recv',
    'recv vs baseline',
    'catch-up B/peer/s',
    'goal',
    'status',
    'wall s',
  ];
  const body = rows.map((r) => {
    const goal = r.peers === 100 ? `< ${convergeGoalMs} ms` : '';
    const ratio = r.stateReceivedBps / base.stateReceivedBps;
    const flat = ratio <= receivedFlatMax ? '' : ` NOT FLAT (> ${receivedFlatMax}x)`;
    const status = r.peers === 100 ? (r.convergeMaxMs < convergeGoalMs ? 'met' : 'NOT MET') : '';
    return [
      String(r.peers),
      r.convergeP50Ms.toFixed(0),
      r.convergeMaxMs.toFixed(0),
      r.settleMs.toFixed(0),
      r.stateSentBps.toFixed(0),
      r.stateReceivedBps.toFixed(0),
      r === base ? 'baseline' : `${ratio.toFixed(2)}x ${base.peers} peers${flat}`,
      r.catchUpBps.toFixed(0),
      goal,
      status,
      (r.wallMs / 1000).toFixed(1),
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const fmt = (row: string[]) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  console.log(
    `## coordinator: simulated cluster (seed ${seed}, default timing, 1-50 ms delay, 1% loss; ` +
      `node state ~${base.stateBytes.toFixed(0)} B per frame; converge over ${messagesPerSize} messages)`,
  );
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) console.log(fmt(row));
  console.log('');
}
