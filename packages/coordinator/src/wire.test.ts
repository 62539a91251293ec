import { describe, expect, it } from 'vitest';
import { jobKey, messageKey, nodeStateKey } from './keys.ts';
import { DEFAULT_LIMITS } from './options.ts';
import { decodeGossip, encodeFrame, type MessageFrame, messageIdHash } from './wire.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// Golden vectors, also listed in docs/spec/coordinator.md.
describe('coordinator wire and key vectors', () => {
  it('M, S and J keys', () => {
    expect(hex(messageKey(5, 'p1'))).toBe('4d11150502703100');
    expect(hex(messageKey(300, 'p1'))).toBe('4d1116012c02703100');
    expect(hex(nodeStateKey('c', 'p1'))).toBe('5311024e0002630002703100');
    expect(hex(jobKey('j'))).toBe('4a11026a00');
  });

  it('M keys sort in the total order (clock, then origin)', () => {
    const ids: [number, string][] = [
      [300, 'a'],
      [5, 'b'],
      [5, 'a'],
      [64, 'z'],
      [2 ** 40, 'a'],
    ];
    const byKey = [...ids].sort((x, y) => Buffer.compare(messageKey(...x), messageKey(...y)));
    expect(byKey).toEqual([
      [5, 'a'],
      [5, 'b'],
      [64, 'z'],
      [300, 'a'],
      [2 ** 40, 'a'],
    ]);
  });

  it('message id hash (FNV-1a 32 of "clock/origin")', () => {
    expect(messageIdHash(5, 'p1')).toBe(0x5d991c22);
    expect(messageIdHash(300, 'p1')).toBe(0xc987910c);
  });

  it('a message frame is plain CBOR and decodes back', () => {
    const frame: MessageFrame = {
      v: 1,
      kind: 'message',
      from: 'p1',
      cluster: 'c',
      clock: 5,
      incarnation: 1,
      time: 0,
      messageType: 'db',
      eventType: 'created',
      payload: null,
    };
    const bytes = encodeFrame(frame);
    expect(hex(bytes)).toBe(
      'aa617601646b696e64676d6573736167656466726f6d62703167636c7573746572616365636c6f636b056b696e6361726e6174696f6e01' +
        '6474696d65006b6d65737361676554797065626462696576656e74547970656763726561746564677061796c6f6164f6',
    );
    expect(decodeGossip(bytes, DEFAULT_LIMITS)).toEqual({ ok: true, value: frame });
  });
});
