import { formatAgo, shortId } from '../format.ts';
import type { Snapshot } from '../session.ts';

/** Every peer's jobs with progress bars (from node states), then this tab's own full job records. */
export function JobsView({ snapshot }: { snapshot: Snapshot }) {
  const { jobs, clusterJobs } = snapshot;
  const cutOff = snapshot.staleSinceMs !== undefined || !snapshot.live;
  const nodes = new Set(clusterJobs.map((job) => job.node)).size;
  return (
    <section aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">
        Jobs{' '}
        <span className="count" data-testid="jobs-summary">
          {clusterJobs.length} on {nodes} {nodes === 1 ? 'peer' : 'peers'}
          {cutOff ? ' (stale)' : ''}
        </span>
      </h2>
      {clusterJobs.length === 0 ? (
        <p className="empty">No peer reports a job.</p>
      ) : (
        <div className="table-wrap">
          <table className="jobs" data-testid="jobs-table">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Peer</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Slots</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {clusterJobs.map((job) => {
                const stale = cutOff || job.stale;
                return (
                  <tr
                    key={`${job.node} ${job.id}`}
                    data-job={job.id}
                    data-node={job.node}
                    data-status={job.status}
                    data-stale={stale}
                    className={stale ? 'tone-suspect' : undefined}
                  >
                    <th scope="row" title={job.id}>
                      {job.kind}
                    </th>
                    <td title={job.node}>
                      <code>{shortId(job.node)}</code>
                      {job.node === snapshot.selfId ? <span className="tag">this tab</span> : null}
                    </td>
                    <td className={`job-${job.status}`}>
                      {job.status}
                      {stale ? <span className="tag tag-stale">stale</span> : null}
                    </td>
                    <td className="progress-cell">
                      <Progress
                        done={job.done}
                        total={job.total}
                        label={`${job.kind} on ${shortId(job.node)}`}
                      />
                    </td>
                    <td className="num">{job.slots}</td>
                    <td>{formatAgo(job.updatedMs, snapshot.nowMs)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <h3>Job records of this tab’s peer</h3>
      {jobs.length === 0 ? (
        <p className="empty">None.</p>
      ) : (
        <div className="table-wrap">
          <table className="jobs" data-testid="local-jobs-table">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Slots</th>
                <th scope="col">Node</th>
                <th scope="col">Updated</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => {
                const { done, total } = job.progress;
                const label = `${job.kind} ${job.id}`;
                return (
                  <tr key={job.id} data-job={job.id} data-status={job.status}>
                    <th scope="row" title={job.id}>
                      {job.kind}
                    </th>
                    <td className={`job-${job.status}`}>{job.status}</td>
                    <td className="progress-cell">
                      <Progress done={done} total={total} label={label} />
                    </td>
                    <td>
                      {job.slots.length === 0
                        ? '—'
                        : job.slots
                            .map(([first, last]) => (first === last ? `${first}` : `${first}–${last}`))
                            .join(', ')}
                    </td>
                    <td title={job.node}>
                      <code>{shortId(job.node)}</code>
                    </td>
                    <td>{formatAgo(job.updatedMs, snapshot.nowMs)}</td>
                    <td>{job.error ?? '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <p className="hint">
        Each peer gossips its 8 most recently updated jobs (finished ones for a minute) in its node state, so
        the first table shows every peer’s migrations, repairs and backfills as that peer last reported them;
        a job whose peer is not alive, or everything while this tab is cut off, is marked stale. Full records
        (<code>J</code>: slot ranges, errors) stay on the peer that runs the job; the second table lists this
        tab’s own.
      </p>
    </section>
  );
}

function Progress({ done, total, label }: { done: number; total: number; label: string }) {
  if (total === 0) return <span>{done} done, total unknown</span>;
  return (
    <>
      <progress value={done} max={total} aria-label={`Progress of ${label}`} />
      <span className="num">
        {done} / {total} ({Math.floor((done / total) * 100)}%)
      </span>
    </>
  );
}
