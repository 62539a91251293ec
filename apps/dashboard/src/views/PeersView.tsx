import { Fragment, useState } from 'react';
import { formatAgo, formatBytes, shortId } from '../format.ts';
import type { PeerRow, Snapshot } from '../session.ts';
import { StatusBadge, statusTone } from './status.tsx';

/** Every member this tab knows: its own node state, this tab's connection to it, and the failure detector's view. */
export function PeersView({ snapshot }: { snapshot: Snapshot }) {
  const [open, setOpen] = useState<string | undefined>(undefined);
  const { rows } = snapshot;
  const up = rows.filter((row) => statusTone(row.member.status, row.member.liveness) === 'up').length;
  const stale = snapshot.staleSinceMs !== undefined;
  return (
    <section aria-labelledby="peers-heading">
      <h2 id="peers-heading">
        Peers{' '}
        <span className="count" data-testid="peers-summary">
          {up} of {rows.length} up{stale ? ' (stale)' : ''}
        </span>
      </h2>
      <div className="table-wrap">
        <table className="peers" data-testid="peers-table">
          <thead>
            <tr>
              <th scope="col">Peer</th>
              <th scope="col">Host</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Transport</th>
              <th scope="col">Latency</th>
              <th scope="col" title="Lamport clock in the peer’s last node state">
                Clock
              </th>
              <th scope="col">Storage used / quota</th>
              <th scope="col">Last heard</th>
              <th scope="col">
                <span className="visually-hidden">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <Fragment key={row.member.id}>
                <Row
                  row={row}
                  nowMs={stale ? (snapshot.staleSinceMs as number) : snapshot.nowMs}
                  open={open === row.member.id}
                  onToggle={() => setOpen(open === row.member.id ? undefined : row.member.id)}
                />
                {open === row.member.id ? <Details row={row} /> : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint">
        Status is what the peer reports, overridden by this tab’s failure detector: unreachable once silent
        for the suspect timeout, down after the down timeout. Transport is this tab’s own connection; “via
        gossip” means the peer is heard through others.
      </p>
    </section>
  );
}

function Row({
  row,
  nowMs,
  open,
  onToggle,
}: {
  row: PeerRow;
  nowMs: number;
  open: boolean;
  onToggle: () => void;
}) {
  const { member } = row;
  const { state } = member;
  return (
    <tr
      data-peer={member.id}
      data-status={member.status}
      data-liveness={member.liveness}
      className={`tone-${statusTone(member.status, member.liveness)}`}
    >
      <th scope="row" title={member.id}>
        <code>{shortId(member.id)}</code>
        {row.self ? <span className="tag">this tab</span> : null}
      </th>
      <td>{state.host === '' ? '—' : state.host}</td>
      <td>{member.role}</td>
      <td>
        <StatusBadge status={member.status} liveness={member.liveness} />
      </td>
      <td data-testid="transport">
        {row.self ? '—' : row.transports.length > 0 ? row.transports.join(', ') : 'via gossip'}
      </td>
      <td className="num">{row.latencyMs === undefined ? '—' : `${Math.round(row.latencyMs)} ms`}</td>
      <td className="num">{state.clock}</td>
      <td className="num">
        {formatBytes(state.storage.usedBytes)} /{' '}
        {state.storage.quotaBytes === null ? 'no quota' : formatBytes(state.storage.quotaBytes)}
      </td>
      <td>{row.self ? 'this tab' : formatAgo(member.lastHeardMs, nowMs)}</td>
      <td>
        <button type="button" aria-expanded={open} onClick={onToggle} aria-label={`Details of ${member.id}`}>
          {open ? 'Hide' : 'Details'}
        </button>
      </td>
    </tr>
  );
}

function Details({ row }: { row: PeerRow }) {
  const { member } = row;
  const { state } = member;
  return (
    <tr className="details">
      <td colSpan={10}>
        <dl>
          <dt>Id</dt>
          <dd>
            <code>{member.id}</code>
          </dd>
          <dt>Incarnation · state version</dt>
          <dd>
            {member.incarnation} · {state.version}
          </dd>
          <dt>Reported status</dt>
          <dd>{state.status}</dd>
          <dt>Log</dt>
          <dd>
            {state.log.count} messages, highest clock {state.log.clock}, hash {state.log.hash.toString(16)}
          </dd>
          <dt>Addresses</dt>
          <dd>
            {state.addresses.length === 0 ? (
              '—'
            ) : (
              <ul>
                {state.addresses.map((address) => (
                  <li key={address}>
                    <code>{address}</code>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </dl>
      </td>
    </tr>
  );
}
