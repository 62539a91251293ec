import { formatTime, shortId } from '../format.ts';
import type { Snapshot } from '../session.ts';

const PHASE_TEXT = {
  starting: 'Starting this tab’s peer',
  connecting: 'Connecting',
  attached: 'Attached',
  reconnecting: 'Reconnecting',
  failed: 'Failed',
} as const;

/** Which peer the dashboard is attached to, how, and the owner switch. */
export function ConnectionBar({
  snapshot,
  onRetry,
  onOwnerChange,
}: {
  snapshot: Snapshot;
  onRetry: () => void;
  onOwnerChange: (owner: boolean) => void;
}) {
  const { phase, attached, target, retryAtMs, nowMs, failedDials, error, config } = snapshot;
  const attachedRow = snapshot.rows.find((row) => row.member.id === attached?.peerId);
  const retryInS = retryAtMs === undefined ? undefined : Math.max(0, Math.ceil((retryAtMs - nowMs) / 1000));
  return (
    <header className="bar" data-testid="connection-bar" data-phase={phase}>
      <h1>Tessera</h1>
      <dl className="bar-facts">
        <div>
          <dt>Cluster</dt>
          <dd className="cluster-name" title={config.cluster}>
            {config.cluster}
          </dd>
        </div>
        <div>
          <dt>This tab</dt>
          <dd title={snapshot.selfId}>
            {snapshot.selfId === undefined ? '—' : shortId(snapshot.selfId)} · {config.role} ·{' '}
            {snapshot.storageKind === 'indexeddb' ? 'IndexedDB' : 'memory'}
          </dd>
        </div>
      </dl>
      <p className={`bar-state phase-${phase}`} aria-live="polite">
        <span className="phase-mark" aria-hidden="true" />
        <strong>{PHASE_TEXT[phase]}</strong>
        {phase === 'attached' && attached !== undefined ? (
          <span title={attached.address}>
            {' '}
            to {shortId(attached.peerId)}
            {attachedRow?.transports.length ? ` over ${attachedRow.transports.join(', ')}` : ''}
            {snapshot.connections > 1 ? ` (+${snapshot.connections - 1} more connections)` : ''}
          </span>
        ) : null}
        {(phase === 'connecting' || phase === 'reconnecting') && target !== undefined ? (
          <span title={target}>
            {' '}
            to {shortId(target.slice(target.lastIndexOf('/') + 1))}
            {retryInS !== undefined ? ` · next try in ${retryInS} s` : ' · dialing'}
            {failedDials > 0 ? ` · ${failedDials} failed` : ''}
            {snapshot.live ? ` · still connected to ${snapshot.connections} other` : ''}
          </span>
        ) : null}
        {error !== undefined && phase !== 'attached' ? <span className="bar-error"> · {error}</span> : null}
        {snapshot.staleSinceMs !== undefined ? (
          <span> · stale since {formatTime(snapshot.staleSinceMs)}</span>
        ) : null}
      </p>
      {retryAtMs !== undefined && phase !== 'attached' ? (
        <button type="button" onClick={onRetry}>
          Retry now
        </button>
      ) : null}
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          aria-checked={config.role === 'owner'}
          checked={config.role === 'owner'}
          disabled={phase === 'starting'}
          onChange={(event) => onOwnerChange(event.target.checked)}
          aria-describedby="owner-hint"
        />
        <span>Owner peer</span>
        <span id="owner-hint" className="visually-hidden">
          Restarts this tab’s peer as an owner with IndexedDB storage, or back as a client with memory
          storage.
        </span>
      </label>
    </header>
  );
}
