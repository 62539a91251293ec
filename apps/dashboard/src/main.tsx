import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { configFromQuery, type DashboardConfig, withPeersFile } from './config.ts';
import { DashboardSession } from './session.ts';
import './styles.css';

declare global {
  interface Window {
    /** The running session, for poking at the tab's peer from the browser console. */
    tesseraDashboard?: DashboardSession;
  }
}

/** Reads the URL, then `/peers.json` when the URL names no peer. */
async function loadConfig(): Promise<{ config: DashboardConfig; fromPeersFile: boolean }> {
  const config = configFromQuery(location.search);
  if (config.peers.length > 0) return { config, fromPeersFile: false };
  const response = await fetch('/peers.json', { cache: 'no-store' }).catch(() => undefined);
  // A dev server answers unknown paths with index.html; only JSON counts as a peers file.
  const isJson = response?.headers.get('content-type')?.includes('json') === true;
  if (response === undefined || !response.ok || !isJson) return { config, fromPeersFile: false };
  return { config: withPeersFile(config, await response.json(), location.search), fromPeersFile: true };
}

const root = createRoot(document.getElementById('root') as HTMLElement);
try {
  const { config, fromPeersFile } = await loadConfig();
  const session = new DashboardSession(config);
  window.tesseraDashboard = session;
  root.render(<App session={session} fromPeersFile={fromPeersFile} />);
  addEventListener('pagehide', () => void session.stop());
  void session.start();
} catch (err) {
  root.render(
    <main className="config-error">
      <h1>Tessera dashboard</h1>
      <p role="alert">{err instanceof Error ? err.message : String(err)}</p>
      <p>
        Open it as <code>?cluster=&lt;name&gt;&amp;peer=/ip4/…/tcp/…/ws/p2p/&lt;id&gt;</code> (several{' '}
        <code>peer</code> parameters allowed), or serve a <code>/peers.json</code>.
      </p>
    </main>,
  );
}
