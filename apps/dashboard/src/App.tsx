import { type KeyboardEvent, useRef, useState, useSyncExternalStore } from 'react';
import { queryOf } from './config.ts';
import { formatTime } from './format.ts';
import type { DashboardSession, Snapshot } from './session.ts';
import { ChartsView } from './views/ChartsView.tsx';
import { ConnectionBar } from './views/ConnectionBar.tsx';
import { JobsView } from './views/JobsView.tsx';
import { KeyBrowserView } from './views/KeyBrowserView.tsx';
import { LogView } from './views/LogView.tsx';
import { PeersView } from './views/PeersView.tsx';
import { SlotMapView } from './views/SlotMapView.tsx';

/** The views, in tab order. */
const VIEWS = [
  { id: 'peers', label: 'Peers', render: (snapshot: Snapshot) => <PeersView snapshot={snapshot} /> },
  { id: 'charts', label: 'Live charts', render: (snapshot: Snapshot) => <ChartsView snapshot={snapshot} /> },
  { id: 'log', label: 'Coordinator log', render: (snapshot: Snapshot) => <LogView snapshot={snapshot} /> },
  { id: 'jobs', label: 'Jobs', render: (snapshot: Snapshot) => <JobsView snapshot={snapshot} /> },
  { id: 'slots', label: 'Slot map', render: (snapshot: Snapshot) => <SlotMapView snapshot={snapshot} /> },
  {
    id: 'keys',
    label: 'Key browser',
    render: (snapshot: Snapshot, session: DashboardSession) => (
      <KeyBrowserView snapshot={snapshot} peer={session.peer} key={snapshot.selfId} />
    ),
  },
] as const;

type ViewId = (typeof VIEWS)[number]['id'];

export function App({ session, fromPeersFile }: { session: DashboardSession; fromPeersFile: boolean }) {
  const snapshot = useSyncExternalStore(session.subscribe, session.getSnapshot);
  const [view, setView] = useState<ViewId>('peers');
  const tabs = useRef(new Map<ViewId, HTMLButtonElement>());

  const switchRole = (owner: boolean) => {
    const role = owner ? 'owner' : 'client';
    history.replaceState(null, '', queryOf({ ...snapshot.config, role }, fromPeersFile));
    void session.setRole(role);
  };

  // Arrow keys move between tabs (the WAI-ARIA tabs pattern); Tab goes into the panel.
  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const at = VIEWS.findIndex((v) => v.id === view);
    const next =
      event.key === 'ArrowRight'
        ? (at + 1) % VIEWS.length
        : event.key === 'ArrowLeft'
          ? (at - 1 + VIEWS.length) % VIEWS.length
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? VIEWS.length - 1
              : -1;
    if (next < 0) return;
    event.preventDefault();
    const id = (VIEWS[next] as (typeof VIEWS)[number]).id;
    setView(id);
    tabs.current.get(id)?.focus();
  };

  const current = VIEWS.find((v) => v.id === view) ?? VIEWS[0];
  const stale = snapshot.staleSinceMs !== undefined;
  return (
    <div className="app">
      <a className="skip-link" href="#panel">
        Skip to content
      </a>
      <ConnectionBar snapshot={snapshot} onRetry={() => session.retryNow()} onOwnerChange={switchRole} />
      {stale ? (
        <div className="banner banner-stale" role="alert" data-testid="stale-banner">
          <strong>Disconnected since {formatTime(snapshot.staleSinceMs as number)}.</strong> Everything below
          is the last state this tab saw, not live; it updates again once a connection is back.
        </div>
      ) : !snapshot.live ? (
        <div className="banner banner-waiting" role="status">
          Not connected to the cluster yet: nothing below is live.
        </div>
      ) : null}
      <div className="tabs" role="tablist" aria-label="Views">
        {VIEWS.map((v) => (
          <button
            key={v.id}
            id={`tab-${v.id}`}
            ref={(element) => {
              if (element) tabs.current.set(v.id, element);
            }}
            type="button"
            role="tab"
            aria-selected={v.id === view}
            aria-controls="panel"
            tabIndex={v.id === view ? 0 : -1}
            onClick={() => setView(v.id)}
            onKeyDown={onTabKey}
          >
            {v.label}
          </button>
        ))}
      </div>
      <main
        id="panel"
        className={stale || !snapshot.live ? 'panel stale' : 'panel'}
        role="tabpanel"
        aria-labelledby={`tab-${current.id}`}
        data-stale={stale || !snapshot.live}
        tabIndex={-1}
      >
        {current.render(snapshot, session)}
      </main>
    </div>
  );
}
