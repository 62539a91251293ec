import { formatAgo, shortId } from '../format.ts';
import type { Snapshot } from '../session.ts';

/** Job records with progress bars. */
export function JobsView({ snapshot }: { snapshot: Snapshot }) {
  const { jobs } = snapshot;
  return (
    <section aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">
        Jobs <span className="count">{jobs.length}</span>
      </h2>
      {jobs.length === 0 ? (
        <p className="empty">No job records.</p>
      ) : (
        <div className="table-wrap">
          <table className="jobs" data-testid="jobs-table">
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
                      {total > 0 ? (
                        <>
                          <progress value={done} max={total} aria-label={`Progress of ${label}`} />
                          <span className="num">
                            {done} / {total} ({Math.floor((done / total) * 100)}%)
                          </span>
                        </>
                      ) : (
                        <span>{done} done, total unknown</span>
                      )}
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
        Job records (<code>J</code>) live on the peer that runs the job, and the coordinator does not gossip
        them yet: this view lists the records of this tab’s own peer, updated by its job events. Jobs run by
        other peers appear here once their changes travel on the coordinator channel.
      </p>
    </section>
  );
}
