import type { Peer } from '@tessera/peer';
import { type FormEvent, useState } from 'react';
import { previewValue } from '../format.ts';
import { parseDatabase, parseValueInput, type ValueFormat, valueView } from '../kv-format.ts';
import type { Snapshot } from '../session.ts';

type Consistency = 'one' | 'quorum' | 'all';
type Operation = 'get' | 'put' | 'delete';
type ReadResult = Awaited<ReturnType<Peer['get']>>;
type WriteResult = Awaited<ReturnType<Peer['put']>>;
type Version = { readonly clock: number; readonly node: string };

type Outcome =
  | { readonly op: 'get'; readonly key: string; readonly read: ReadResult }
  | { readonly op: 'put' | 'delete'; readonly key: string; readonly write: WriteResult }
  | { readonly op: Operation; readonly key: string; readonly error: ErrorInfo };

interface ErrorInfo {
  /** The class name; minified in a production build, so the code is what the view leads with. */
  readonly name: string;
  readonly code: string | undefined;
  readonly message: string;
  /** The error's own fields (e.g. `required`, `acknowledged` of QuorumNotReachedError). */
  readonly fields: readonly (readonly [string, string])[];
}

function errorInfo(err: unknown): ErrorInfo {
  if (!(err instanceof Error)) return { name: 'Error', code: undefined, message: String(err), fields: [] };
  const fields = Object.entries(err)
    .filter(([field]) => field !== 'code' && field !== 'name' && field !== 'message' && field !== 'cause')
    .map(([field, value]) => [field, previewValue(value)] as const);
  const code = (err as { code?: unknown }).code;
  return { name: err.name, code: typeof code === 'string' ? code : undefined, message: err.message, fields };
}

const versionText = (version: Version | undefined) =>
  version === undefined ? '—' : `clock ${version.clock} @ ${version.node}`;

/** Get, put and delete through the tab's own peer (any peer can coordinate), with a consistency choice. */
export function KeyBrowserView({ snapshot, peer }: { snapshot: Snapshot; peer: Peer | undefined }) {
  const [key, setKey] = useState('');
  const [database, setDatabase] = useState('');
  const [consistency, setConsistency] = useState<Consistency>('quorum');
  const [format, setFormat] = useState<ValueFormat>('json');
  const [value, setValue] = useState('');
  const [useContext, setUseContext] = useState(true);
  const [busy, setBusy] = useState<Operation | undefined>(undefined);
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
  // The context of the last read of this key in this database, for a put that replaces exactly what was read.
  const [lastRead, setLastRead] = useState<{ key: string; database: string; read: ReadResult } | undefined>();

  const run = async (op: Operation) => {
    if (peer === undefined || busy !== undefined) return;
    setBusy(op);
    try {
      const db = parseDatabase(database);
      if (op === 'get') {
        const read = await peer.get(key, { consistency, database: db });
        setLastRead({ key, database, read });
        setOutcome({ op, key, read });
      } else if (op === 'put') {
        const parsed = parseValueInput(value, format);
        const context =
          useContext && lastRead !== undefined && lastRead.key === key && lastRead.database === database
            ? lastRead.read.context
            : undefined;
        const write = await peer.put(key, parsed, {
          consistency,
          database: db,
          ...(context === undefined ? {} : { context }),
        });
        setOutcome({ op, key, write });
      } else {
        const write = await peer.delete(key, { consistency, database: db });
        setOutcome({ op, key, write });
      }
    } catch (err) {
      setOutcome({ op, key, error: errorInfo(err) });
    } finally {
      setBusy(undefined);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void run('get');
  };
  const disabled = peer === undefined || busy !== undefined;
  const haveContext = lastRead !== undefined && lastRead.key === key && lastRead.database === database;

  return (
    <section aria-labelledby="kv-heading">
      <h2 id="kv-heading">Key browser</h2>
      <p className="hint">
        Reads and writes go through this tab's peer ({snapshot.config.role}), which routes them to the key's
        owners like any other peer. Enter runs a get.
      </p>
      <form className="kv-form" onSubmit={onSubmit} data-testid="kv-form">
        <label htmlFor="kv-key">Key</label>
        <input id="kv-key" data-testid="kv-key" value={key} onChange={(e) => setKey(e.target.value)} />
        <label htmlFor="kv-database">Database</label>
        <input
          id="kv-database"
          data-testid="kv-database"
          value={database}
          placeholder="0 (default); digits = integer database, else a name"
          onChange={(e) => setDatabase(e.target.value)}
        />
        <label htmlFor="kv-consistency">Consistency</label>
        <select
          id="kv-consistency"
          data-testid="kv-consistency"
          value={consistency}
          onChange={(e) => setConsistency(e.target.value as Consistency)}
        >
          <option value="one">one</option>
          <option value="quorum">quorum</option>
          <option value="all">all</option>
        </select>
        <label htmlFor="kv-format">Value as</label>
        <select
          id="kv-format"
          data-testid="kv-format"
          value={format}
          onChange={(e) => setFormat(e.target.value as ValueFormat)}
        >
          <option value="json">JSON</option>
          <option value="text">text (a string)</option>
          <option value="hex">hex (bytes)</option>
        </select>
        <label htmlFor="kv-value">Value</label>
        <textarea
          id="kv-value"
          data-testid="kv-value"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
        <span />
        <label>
          <input type="checkbox" checked={useContext} onChange={(e) => setUseContext(e.target.checked)} /> Put
          with the last read's context (
          {haveContext ? 'replaces exactly what that read saw' : 'no read of this key yet'})
        </label>
        <div className="kv-actions">
          <button type="submit" data-testid="kv-get" disabled={disabled}>
            Get
          </button>
          <button type="button" data-testid="kv-put" disabled={disabled} onClick={() => void run('put')}>
            Put
          </button>
          <button
            type="button"
            data-testid="kv-delete"
            disabled={disabled}
            onClick={() => void run('delete')}
          >
            Delete
          </button>
          {busy === undefined ? null : <span role="status">{busy}…</span>}
        </div>
      </form>
      <div className="kv-result" aria-live="polite" data-testid="kv-result">
        {outcome === undefined ? null : <OutcomeView outcome={outcome} />}
      </div>
    </section>
  );
}

function OutcomeView({ outcome }: { outcome: Outcome }) {
  if ('error' in outcome) {
    const { error } = outcome;
    return (
      <div className="kv-error" role="alert" data-testid="kv-error" data-error={error.code ?? error.name}>
        <strong>
          {outcome.op} {JSON.stringify(outcome.key)} failed: {error.code ?? error.name}
        </strong>
        <div>{error.message}</div>
        {error.fields.length > 0 ? (
          <div>{error.fields.map(([field, text]) => `${field}: ${text}`).join(' · ')}</div>
        ) : null}
      </div>
    );
  }
  if ('write' in outcome) {
    const { write } = outcome;
    return (
      <div data-testid="kv-written" data-op={outcome.op}>
        <strong>
          {outcome.op === 'put' ? 'Put' : 'Deleted'} {JSON.stringify(outcome.key)}
        </strong>{' '}
        — version {versionText(write.version)}; acknowledged by {write.acknowledged} of {write.required}{' '}
        required{write.isDuplicate ? ' (duplicate: nothing new written)' : ''}
      </div>
    );
  }
  const { read } = outcome;
  return (
    <div data-testid="kv-read" data-found={read.found}>
      <strong>
        {JSON.stringify(outcome.key)}:{' '}
        {read.found ? 'found' : read.version === undefined ? 'not found' : 'deleted'}
      </strong>{' '}
      — {read.answered} of {read.required} required owners answered
      {read.found ? (
        <>
          <h3>Value</h3>
          <pre data-testid="kv-value-view">{valueView(read.value)}</pre>
        </>
      ) : null}
      <h3>Version</h3>
      <pre data-testid="kv-version">{versionText(read.version)}</pre>
      <h3>Context</h3>
      <pre data-testid="kv-context">{valueView(read.context)}</pre>
      <h3>Siblings ({read.siblings.length})</h3>
      {read.siblings.length === 0 ? (
        <p className="muted">None: no concurrent versions.</p>
      ) : (
        <ol data-testid="kv-siblings">
          {read.siblings.map((sibling) => (
            <li key={`${sibling.version.clock}@${sibling.version.node}`}>
              {versionText(sibling.version)}
              {sibling.deleted ? ' — deleted' : ''}
              {sibling.deleted ? null : <pre>{valueView(sibling.value)}</pre>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
