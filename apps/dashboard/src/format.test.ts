import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.ts';
import { formatAgo, formatBytes, PREVIEW_CHARS_MAX, previewValue, shortId } from './format.ts';
import { transportOf } from './transport.ts';

describe('view text', () => {
  it('previews any CBOR-decoded payload within bounds, never throwing', () => {
    expect(previewValue({ db: 'app', n: 3, big: 2n ** 70n, bytes: new Uint8Array(5) })).toBe(
      '{db: "app", n: 3, big: 1180591620717411303424n, bytes: <5 bytes>}',
    );
    expect(previewValue(new Map([[1, [true, null]]]))).toBe('{1: [true, null]}');
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i += 1) deep = [deep];
    expect(previewValue(deep)).toBe('[[[[…]]]]');
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true }),
        (value) => {
          expect(previewValue(value).length).toBeLessThanOrEqual(PREVIEW_CHARS_MAX);
        },
      ),
    );
  });

  it('formats sizes, ages and ids', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GB');
    expect(formatBytes(null)).toBe('—');
    expect(formatAgo(10_000, 10_200)).toBe('now');
    expect(formatAgo(10_000, 17_000)).toBe('7 s ago');
    expect(formatAgo(0, 17_000)).toBe('never');
    expect(shortId('12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp')).toBe('12D3Ko…c6iDEp');
  });

  it('names transports from remote multiaddrs', () => {
    const id = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp';
    expect(transportOf(`/ip4/127.0.0.1/tcp/4002/ws/p2p/${id}`)).toBe('WebSockets');
    expect(transportOf(`/dns4/x.example/tcp/443/tls/sni/x.example/ws/p2p/${id}`)).toBe('WebSockets');
    expect(transportOf(`/ip4/127.0.0.1/tcp/4002/ws/p2p/${id}/p2p-circuit/p2p/${id}`)).toBe('relayed');
    expect(transportOf(`/ip4/127.0.0.1/tcp/4002/ws/p2p/${id}/p2p-circuit/webrtc/p2p/${id}`)).toBe('WebRTC');
    expect(transportOf(`/webrtc/p2p/${id}`)).toBe('WebRTC');
    expect(transportOf(`/ip4/127.0.0.1/tcp/4001/p2p/${id}`)).toBe('TCP');
    expect(transportOf(`/ip4/127.0.0.1/tcp/4002/ws/p2p/${id}`, true)).toBe('relayed');
  });

  it('backs off exponentially with bounded jitter', () => {
    const backoff = { delayMsMin: 500, delayMsMax: 10_000 };
    expect([0, 1, 2, 3, 4, 5, 60].map((n) => backoffDelayMs(n, backoff, () => 0.5))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(backoffDelayMs(0, backoff, () => 0)).toBe(375);
    expect(backoffDelayMs(9, backoff, () => 0.999_999)).toBe(12_500);
  });
});
