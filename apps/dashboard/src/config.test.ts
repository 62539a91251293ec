import { describe, expect, it } from 'vitest';
import { CLUSTER_DEFAULT, configFromQuery, peerIdOf, queryOf, withPeersFile } from './config.ts';

const id = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp';
const ws = `/ip4/127.0.0.1/tcp/4002/ws/p2p/${id}`;

describe('config', () => {
  it('reads cluster, several peers, role and timing from the URL', () => {
    const other = ws.replace('4002', '4003');
    const config = configFromQuery(
      `?cluster=prod&peer=${encodeURIComponent(ws)}&peer=${encodeURIComponent(other)}&role=owner&downAfterMs=3000`,
    );
    expect(config).toEqual({
      cluster: 'prod',
      peers: [ws, other],
      role: 'owner',
      timing: { downAfterMs: 3000 },
    });
    expect(configFromQuery(queryOf(config, false))).toEqual(config);
  });

  it('defaults to a client of the default cluster with no peers', () => {
    expect(configFromQuery('')).toEqual({ cluster: CLUSTER_DEFAULT, peers: [], role: 'client', timing: {} });
  });

  it('rejects bad input with DashboardConfigError', () => {
    for (const search of [
      '?peer=not-an-address',
      '?peer=/ip4/127.0.0.1/tcp/1/ws',
      '?role=admin',
      '?cluster=',
      '?downAfterMs=-5',
      '?suspectAfterMs=1.5',
      `?${Array.from({ length: 17 }, (_, i) => `peer=${encodeURIComponent(ws.replace('4002', String(5000 + i)))}`).join('&')}`,
    ]) {
      expect(() => configFromQuery(search), search).toThrow(
        expect.objectContaining({ name: 'DashboardConfigError' }),
      );
    }
  });

  it('fills peers, cluster and timing from peers.json; the URL wins where it says something', () => {
    const base = configFromQuery('?suspectAfterMs=1000');
    const file = { cluster: 'from-file', peers: [ws], timing: { suspectAfterMs: 2000, downAfterMs: 4000 } };
    expect(withPeersFile(base, file, '?suspectAfterMs=1000')).toEqual({
      cluster: 'from-file',
      peers: [ws],
      role: 'client',
      timing: { suspectAfterMs: 1000, downAfterMs: 4000 },
    });
    expect(withPeersFile(configFromQuery('?cluster=mine'), file, '?cluster=mine').cluster).toBe('mine');
    for (const bad of [
      null,
      [],
      { peers: 'x' },
      { peers: ['nope'] },
      { peers: [ws], timing: { downAfterMs: 0 } },
    ]) {
      expect(() => withPeersFile(base, bad, '')).toThrow(
        expect.objectContaining({ code: 'ERR_DASHBOARD_CONFIG' }),
      );
    }
  });

  it('finds the peer id at the end of a multiaddr only', () => {
    expect(peerIdOf(ws)).toBe(id);
    expect(peerIdOf(`/ip4/1.2.3.4/tcp/1/p2p/${id}/p2p-circuit`)).toBeUndefined();
    expect(peerIdOf('/ip4/1.2.3.4/tcp/1')).toBeUndefined();
  });
});
