/**
 * POST and GET /v1/cluster/leave over a real HTTP server: argument checks,
 * a refusal as LEAVE_REFUSED (409), the state after the announcement, and
 * no route while an auth hook guards the API. The leave behind it is a
 * stand-in here; `src/cli/leave.test.ts` runs the route against real peers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpApi, type HttpApiOptions } from './api.ts';
import { type HttpServer, startHttpServer } from './server.ts';

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

class LeaveRefusedError extends Error {
  override name = 'LeaveRefusedError';
}

async function serve(options: Omit<HttpApiOptions, 'records'>) {
  const records = {} as HttpApiOptions['records'];
  const server = await startHttpServer({ api: new HttpApi({ records, ...options }), port: 0 });
  servers.push(server);
  const url = `http://127.0.0.1:${server.port}/v1/cluster/leave`;
  const json = async (r: Response) => ({
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
  });
  return {
    post: (body?: unknown) =>
      fetch(url, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) }).then(
        json,
      ),
    get: () => fetch(url).then(json),
  };
}

describe('/v1/cluster/leave', () => {
  it('passes timeout_ms on, answers the state, and maps a refusal to 409 with nothing started', async () => {
    const asked: unknown[] = [];
    let phase = 'serving';
    let refuse = true;
    const api = await serve({
      leave: {
        start: async (options) => {
          asked.push(options);
          if (refuse) throw new LeaveRefusedError('2 other owner(s) up, fewer than the 3 copies (N)');
          phase = 'draining';
        },
        state: () => ({ phase }),
      },
    });
    const refused = await api.post({ timeout_ms: 1000 });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error_code: 'LEAVE_REFUSED' });
    expect((await api.get()).body).toEqual({ status: 'success', leave: { phase: 'serving' } });
    for (const bad of [{ timeout_ms: 0 }, { timeout_ms: 'soon' }, { timeout_ms: 1.5 }]) {
      expect((await api.post(bad)).body.error_code).toBe('INVALID_REQUEST');
    }
    refuse = false;
    expect(await api.post()).toEqual({
      status: 202,
      body: { status: 'success', leave: { phase: 'draining' } },
    });
    expect(asked).toEqual([{ timeoutMs: 1000 }, {}]);
  });

  it('is not offered while an auth hook guards the API', async () => {
    const api = await serve({
      leave: { start: async () => {}, state: () => ({}) },
      authorize: async () => {},
    });
    expect((await api.post()).status).toBe(404);
    expect((await api.get()).status).toBe(404);
  });
});
