import { useId, useMemo, useState } from 'react';
import { formatTime, previewValue, shortId } from '../format.ts';
import { LOG_MESSAGES_MAX } from '../message-log.ts';
import type { Snapshot } from '../session.ts';

/** Rows drawn at once; the filters narrow what they are drawn from. */
export const LOG_ROWS_MAX = 500;
const ALL = '';

/** The coordinator log in total order (Lamport clock, then origin), filterable by type and origin. */
export function LogView({ snapshot }: { snapshot: Snapshot }) {
  const [type, setType] = useState(ALL);
  const [origin, setOrigin] = useState(ALL);
  const [oldestFirst, setOldestFirst] = useState(false);
  const ids = useId();
  const { log } = snapshot;
  const types = useMemo(() => [...new Set(log.map((m) => m.messageType))].sort(), [log]);
  const origins = useMemo(() => [...new Set(log.map((m) => m.from))].sort(), [log]);
  const shown = useMemo(() => {
    const matching = log.filter(
      (m) => (type === ALL || m.messageType === type) && (origin === ALL || m.from === origin),
    );
    const newest = matching.slice(-LOG_ROWS_MAX);
    return { rows: oldestFirst ? newest : newest.reverse(), matching: matching.length };
  }, [log, type, origin, oldestFirst]);

  return (
    <section aria-labelledby="log-heading">
      <h2 id="log-heading">
        Coordinator log{' '}
        <span className="count" data-testid="log-summary">
          {shown.matching} of {log.length} messages
        </span>
      </h2>
      <div className="filters">
        <label htmlFor={`${ids}-type`}>Type</label>
        <select
          id={`${ids}-type`}
          value={type}
          onChange={(e) => setType(e.target.value)}
          data-testid="log-type"
        >
          <option value={ALL}>all types</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <label htmlFor={`${ids}-origin`}>Peer</label>
        <select
          id={`${ids}-origin`}
          value={origin}
          onChange={(e) => setOrigin(e.target.value)}
          data-testid="log-origin"
        >
          <option value={ALL}>all peers</option>
          {origins.map((o) => (
            <option key={o} value={o}>
              {shortId(o)}
            </option>
          ))}
        </select>
        <label className="inline">
          <input type="checkbox" checked={oldestFirst} onChange={(e) => setOldestFirst(e.target.checked)} />
          Oldest first
        </label>
      </div>
      {/* A focusable scroll area, so the keyboard can scroll it. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: scrollable regions must be reachable by keyboard. */}
      <section className="table-wrap scroll" tabIndex={0} aria-label="Log messages">
        <table className="log" data-testid="log-table">
          <thead>
            <tr>
              <th scope="col">Clock</th>
              <th scope="col">Origin</th>
              <th scope="col">Type</th>
              <th scope="col">Event</th>
              <th scope="col">Payload</th>
              <th scope="col">Origin time</th>
            </tr>
          </thead>
          <tbody>
            {shown.rows.map((m) => (
              <tr key={`${m.clock}/${m.from}`} data-from={m.from} data-type={m.messageType}>
                <td className="num">{m.clock}</td>
                <td title={m.from}>
                  <code>{shortId(m.from)}</code>
                </td>
                <td>{m.messageType}</td>
                <td>{m.eventType}</td>
                <td className="payload">
                  <code>{previewValue(m.payload)}</code>
                </td>
                <td>{formatTime(m.time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {log.length === 0 ? <p className="empty">No coordinator messages yet.</p> : null}
      </section>
      <p className="hint">
        The log as this tab’s peer holds it (gossip plus catch-up from other peers). The newest{' '}
        {LOG_MESSAGES_MAX} messages are kept and the newest {LOG_ROWS_MAX} matching ones drawn.
      </p>
    </section>
  );
}
