/** Two browser owners connect over WebRTC through a Node relay, and keep replicating after the relay is gone. */
import { expect, test, waitFor } from '@tessera/testing';

test.use({ tesseraOptions: { nodes: 1, browsers: 0, replicationFactor: 3 } });

test('two browsers keep syncing over WebRTC after the relay stops', async ({ tessera }) => {
  const [relay] = tessera.nodes;
  if (relay === undefined) throw new Error('one Node peer expected');
  const a = await tessera.startBrowser({ role: 'owner', storage: 'memory' });
  const b = await tessera.startBrowser({ role: 'owner', storage: 'memory' });
  await tessera.waitForMembers();
  // Either browser may dial the other. Both must list the connection: when the dialler's signalling
  // times out, the answering side alone may still list a half-made connection that carries nothing,
  // and once the relay is gone the two would have no way to each other.
  await waitFor(
    async () => {
      const [fromA, fromB] = await Promise.all([a.connections(), b.connections()]);
      return (
        fromA.some((c) => c.peer === b.id && c.transport === 'webrtc') &&
        fromB.some((c) => c.peer === a.id && c.transport === 'webrtc')
      );
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'a WebRTC connection between the two browsers' },
  );

  const before = `rtc:before:${crypto.randomUUID()}`;
  await a.put(before, 'with relay', { consistency: 'all' });

  await tessera.kill(relay);
  await waitFor(async () => !(await a.connections()).some((c) => c.peer === relay.id), {
    timeoutMs: 30_000,
    what: 'the relay connection gone',
  });
  // Owners are [relay, a, b] and the relay is dead: a quorum (2 of 3) of acks can only come from both
  // browsers, so each write below crossed the direct browser-to-browser connection. No retries: a
  // request on a stream still on the dead relayed connection is sent again by the transport, and a
  // stream that stalls on a half-made WebRTC connection is given up for the working one
  // (packages/peer/src/replica-transport.test.ts shows both on real TCP).
  for (const [writer, reader] of [
    [a, b],
    [b, a],
  ] as const) {
    const key = `rtc:after:${crypto.randomUUID()}`;
    await writer.put(key, { from: writer.id }, { consistency: 'quorum' });
    expect(await reader.get(key, { consistency: 'quorum' })).toEqual({
      found: true,
      value: { from: writer.id },
      siblings: [],
    });
  }
  expect(await b.get(before, { consistency: 'quorum' })).toMatchObject({ found: true, value: 'with relay' });
});
