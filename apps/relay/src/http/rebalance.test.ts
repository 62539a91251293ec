/**
 * POST /v1/cluster/rebalance over a real HTTP server: argument checks, the
 * proposal id or null, a refused proposal as REBALANCE_REFUSED (409), and no
 * route while an auth hook guards the API. The slot map behind it is a
 * stand-in here; `start.test.ts` runs the route against a real peer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpApi, type HttpApiOptions } from './api.ts';
import { type HttpServer, startHttpServer } from './server.ts';

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

class SlotMapProposalError extends Error {
  override name = 'SlotMapProposalError';
}

async function serve(options: Omit<HttpApiOptions, 'records'>) {
  const records = {} as HttpApiOptions['records'];
  const server = await startHttpServer({ api: new HttpApi({ records, ...options }), port: 0 });
  servers.push(server);
  return (body?: unknown) =>
    fetch(`http://127.0.0.1:${server.port}/v1/cluster/rebalance`, {
      method: 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
}

describe('POST /v1/cluster/rebalance', () => {
  it('passes replicas and force on, answers the proposal or null, and maps a refusal to 409', async () => {
    const asked: unknown[] = [];
    let answer: string | null = '7:peer';
    const post = await serve({
      rebalance: async (options) => {
        asked.push(options);
        if (options.force === true) throw new SlotMapProposalError('a proposal of this peer is in flight');
        return answer;
      },
    });
    expect(await post({ replicas: 2 })).toEqual({
      status: 202,
      body: { status: 'success', proposal: '7:peer' },
    });
    answer = null;
    expect(await post()).toEqual({ status: 200, body: { status: 'success', proposal: null } });
    const refused = await post({ force: true });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error_code: 'REBALANCE_REFUSED',
      message: 'a proposal of this peer is in flight',
    });
    for (const bad of [{ replicas: 0 }, { replicas: 'two' }, { force: 'yes' }]) {
      expect((await post(bad)).body.error_code).toBe('INVALID_REQUEST');
    }
    expect(asked).toEqual([{ replicas: 2 }, {}, { force: true }]);
  });

  it('is not offered while an auth hook guards the API', async () => {
    const post = await serve({ rebalance: async () => null, authorize: async () => {} });
    expect((await post()).status).toBe(404);
  });
});
