import { formatAgo, shortId } from '../format.ts';
import type { ClusterPoint, PeerSeries, RatePoint } from '../op-history.ts';
import type { Snapshot } from '../session.ts';
import { type ChartLine, LineChart, LineSwatch } from './LineChart.tsx';

/** Okabe–Ito without yellow (too faint as a thin line on white); ink is the cluster line. */
// Okabe–Ito hues, with orange and sky blue darkened (#e69f00 -> #a66f00, #56b4e9 -> #3b8fc4) so every
// line keeps at least 3:1 contrast on the white plot (WCAG's figure for graphics).
const LINE_COLOURS = ['#0072b2', '#a66f00', '#009e73', '#cc79a7', '#3b8fc4', '#d55e00'];
const LINE_DASHES = ['', '7 3', '2 3', '9 3 2 3'];
const CLUSTER_COLOUR = '#1b1b1b';

const styleOf = (index: number) => ({
  colour: LINE_COLOURS[index % LINE_COLOURS.length] as string,
  dash: LINE_DASHES[index % LINE_DASHES.length] as string,
});

const rate = (value: number) => (value >= 100 ? Math.round(value).toString() : value.toFixed(1));
const ms = (value: number | null | undefined) =>
  value === null || value === undefined ? '—' : `${value} ms`;

/** Live charts of every peer's ops/s, quorum failures and latency percentiles, from their node states. */
export function ChartsView({ snapshot }: { snapshot: Snapshot }) {
  const charts = snapshot.charts;
  const cutOff = snapshot.staleSinceMs !== undefined || !snapshot.live;
  if (charts === undefined || charts.peers.length === 0) {
    return (
      <section aria-labelledby="charts-heading">
        <h2 id="charts-heading">Live charts</h2>
        <p className="empty">No peer has reported operation counters in its node state yet.</p>
      </section>
    );
  }
  const startMs = charts.nowMs - charts.windowMs;
  const peerLines = (pick: (point: RatePoint) => number | null): ChartLine[] =>
    charts.peers.map((peer, i) => ({
      id: peer.id,
      label: shortId(peer.id),
      ...styleOf(i),
      stale: cutOff || peer.stale,
      points: peer.points.map((point) => [point.atMs, pick(point)] as const),
    }));
  const clusterLine = (pick: (point: ClusterPoint) => number | null): ChartLine => ({
    id: 'cluster',
    label: 'cluster',
    colour: CLUSTER_COLOUR,
    dash: '',
    width: 3,
    stale: cutOff,
    points: charts.cluster.map((point) => [point.atMs, pick(point)] as const),
  });
  const latest = charts.cluster.at(-1);
  return (
    <section aria-labelledby="charts-heading">
      <h2 id="charts-heading">
        Live charts{' '}
        <span
          className="count"
          data-testid="charts-summary"
          data-cluster-ops={latest === undefined ? '' : latest.opsPerSec.toFixed(2)}
          data-cluster-ops-max={Math.max(0, ...charts.cluster.map((point) => point.opsPerSec)).toFixed(2)}
          data-peers={charts.peers.length}
        >
          cluster {latest === undefined ? '—' : `${rate(latest.opsPerSec)} ops/s`} · {charts.peers.length}{' '}
          peers reporting{cutOff ? ' (stale)' : ''}
        </span>
      </h2>
      <ul className="chart-legend" aria-label="Lines">
        <li>
          <LineSwatch colour={CLUSTER_COLOUR} dash="" stale={cutOff} /> cluster (sum; latency: highest p99)
        </li>
        {charts.peers.map((peer, i) => (
          <li key={peer.id} title={peer.id}>
            <LineSwatch {...styleOf(i)} stale={cutOff || peer.stale} /> <code>{shortId(peer.id)}</code>
            {peer.id === snapshot.selfId ? ' (this tab)' : ''}
            {peer.stale ? ' — stale' : ''}
          </li>
        ))}
      </ul>
      <div className="chart-grid">
        <LineChart
          title="Operations"
          unit="ops/s"
          testId="chart-ops"
          startMs={startMs}
          endMs={charts.nowMs}
          lines={[...peerLines((p) => p.opsPerSec), clusterLine((p) => p.opsPerSec)]}
        />
        <LineChart
          title="Quorum failures"
          unit="per s"
          testId="chart-quorum"
          startMs={startMs}
          endMs={charts.nowMs}
          lines={[...peerLines((p) => p.quorumFailuresPerSec), clusterLine((p) => p.quorumFailuresPerSec)]}
        />
        <LineChart
          title="p50 latency"
          unit="ms, last 10 s"
          testId="chart-p50"
          startMs={startMs}
          endMs={charts.nowMs}
          lines={peerLines((p) => p.p50Ms)}
        />
        <LineChart
          title="p99 latency"
          unit="ms, last 10 s"
          testId="chart-p99"
          startMs={startMs}
          endMs={charts.nowMs}
          lines={[...peerLines((p) => p.p99Ms), clusterLine((p) => p.p99MsMax)]}
        />
      </div>
      <div className="table-wrap">
        <table className="charts-table" data-testid="charts-table">
          <caption className="visually-hidden">Latest values per peer</caption>
          <thead>
            <tr>
              <th scope="col">Peer</th>
              <th scope="col">Role</th>
              <th scope="col">ops/s</th>
              <th scope="col">p50</th>
              <th scope="col">p99</th>
              <th scope="col">Quorum failures /s</th>
              <th scope="col">Ops total</th>
              <th scope="col">Quorum failures total</th>
              <th scope="col">Other errors total</th>
              <th scope="col">Last report</th>
            </tr>
          </thead>
          <tbody>
            {charts.peers.map((peer) => (
              <PeerRow
                key={peer.id}
                peer={peer}
                stale={cutOff || peer.stale}
                self={peer.id === snapshot.selfId}
                nowMs={snapshot.nowMs}
              />
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint">
        Every peer counts the operations it coordinates and gossips the counters and its p50/p99 latency (last
        10 s) in its node state; rates are the difference of two states over the peer’s own time between them.
        A peer not heard from for the suspect timeout is stale: its line turns grey and dotted and stops at
        its last report, and it no longer counts towards the cluster after 5 s.
      </p>
    </section>
  );
}

function PeerRow({
  peer,
  stale,
  self,
  nowMs,
}: {
  peer: PeerSeries;
  stale: boolean;
  self: boolean;
  nowMs: number;
}) {
  const last = peer.points.at(-1);
  return (
    <tr
      data-peer={peer.id}
      data-stale={stale}
      data-ops-total={peer.totals.ops}
      data-ops-per-sec={last === undefined ? '' : last.opsPerSec.toFixed(2)}
      data-ops-per-sec-max={Math.max(0, ...peer.points.map((point) => point.opsPerSec)).toFixed(2)}
      className={stale ? 'tone-suspect' : undefined}
    >
      <th scope="row" title={peer.id}>
        <code>{shortId(peer.id)}</code>
        {self ? <span className="tag">this tab</span> : null}
        {stale ? <span className="tag tag-stale">stale</span> : null}
      </th>
      <td>{peer.role}</td>
      <td className="num">{last === undefined ? '—' : rate(last.opsPerSec)}</td>
      <td className="num">{ms(peer.totals.p50Ms)}</td>
      <td className="num">{ms(peer.totals.p99Ms)}</td>
      <td className="num">{last === undefined ? '—' : rate(last.quorumFailuresPerSec)}</td>
      <td className="num">{peer.totals.ops}</td>
      <td className="num">{peer.totals.quorumFailures}</td>
      <td className="num">{peer.totals.errors}</td>
      <td>{formatAgo(peer.lastAtMs, nowMs)}</td>
    </tr>
  );
}
