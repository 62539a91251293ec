import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { encodeReply } from './encode.ts';
import type { Protocol, Reply } from './reply.ts';
import * as r from './reply.ts';
import { ReplyParser } from './reply-parser.ts';

function text(reply: Reply, protocol: Protocol): string {
  return encodeReply(reply, protocol).toString('latin1');
}

describe('encodeReply', () => {
  it('writes RESP3 types', () => {
    expect(text(r.OK, 3)).toBe('+OK\r\n');
    expect(text(r.error('ERR boom'), 3)).toBe('-ERR boom\r\n');
    expect(text(r.integer(-7), 3)).toBe(':-7\r\n');
    expect(text(r.integer(2n ** 63n - 1n), 3)).toBe(':9223372036854775807\r\n');
    expect(text(r.bulk('hi'), 3)).toBe('$2\r\nhi\r\n');
    expect(text(r.NULL, 3)).toBe('_\r\n');
    expect(text(r.array([r.integer(1), r.bulk('a')]), 3)).toBe('*2\r\n:1\r\n$1\r\na\r\n');
    expect(text(r.record([['proto', r.integer(3)]]), 3)).toBe('%1\r\n$5\r\nproto\r\n:3\r\n');
    expect(text(r.set([r.bulk('x')]), 3)).toBe('~1\r\n$1\r\nx\r\n');
    expect(text(r.double(1.5), 3)).toBe(',1.5\r\n');
    expect(text(r.double(-Infinity), 3)).toBe(',-inf\r\n');
    expect(text(r.boolean(true), 3)).toBe('#t\r\n');
    expect(text(r.verbatim('a:b'), 3)).toBe('=7\r\ntxt:a:b\r\n');
    expect(text(r.push([r.bulk('m')]), 3)).toBe('>1\r\n$1\r\nm\r\n');
  });

  it('falls back to RESP2 like Redis', () => {
    expect(text(r.NULL, 2)).toBe('$-1\r\n');
    expect(text(r.record([['proto', r.integer(2)]]), 2)).toBe('*2\r\n$5\r\nproto\r\n:2\r\n');
    expect(text(r.set([r.bulk('x')]), 2)).toBe('*1\r\n$1\r\nx\r\n');
    expect(text(r.double(1.5), 2)).toBe('$3\r\n1.5\r\n');
    expect(text(r.boolean(false), 2)).toBe(':0\r\n');
    expect(text(r.verbatim('a:b'), 2)).toBe('$3\r\na:b\r\n');
    expect(text(r.push([r.bulk('m')]), 2)).toBe('*1\r\n$1\r\nm\r\n');
  });

  it('keeps errors and simple strings on one line', () => {
    expect(text(r.error('ERR a\r\nb'), 2)).toBe('-ERR a  b\r\n');
  });
});

const lineText = fc.string({ maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, ''));
const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));

const replyArb: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    lineText.map(r.simple),
    lineText.map(r.error),
    fc
      .oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }))
      .map((v) =>
        r.integer(typeof v === 'bigint' && v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n ? Number(v) : v),
      ),
    bytes.map(r.bulk),
    fc.constant(r.NULL),
    fc.double().map(r.double),
    fc.boolean().map(r.boolean),
    bytes.map((b) => r.verbatim(b, 'txt')),
    fc.array(tie('reply'), { maxLength: 4 }).map(r.array),
    fc.array(tie('reply'), { maxLength: 4 }).map(r.set),
    fc.array(tie('reply'), { maxLength: 4 }).map(r.push),
    fc.array(fc.tuple(tie('reply'), tie('reply')), { maxLength: 3 }).map(r.map),
  ),
})).reply;

/** What a RESP2 client sees of `reply`. */
function asResp2(reply: Reply): Reply {
  switch (reply.type) {
    case 'array':
    case 'set':
    case 'push':
      return r.array(reply.value.map(asResp2));
    case 'map':
      return r.array(reply.value.flatMap(([k, v]) => [asResp2(k), asResp2(v)]));
    case 'double':
      return r.bulk(encodeReply(reply, 2).toString().split('\r\n')[1]!);
    case 'boolean':
      return r.integer(reply.value ? 1 : 0);
    case 'verbatim':
      return r.bulk(reply.value);
    default:
      return reply;
  }
}

function roundTrip(replies: Reply[], protocol: Protocol, points: number[]): Reply[] {
  const all = Buffer.concat(replies.map((x) => encodeReply(x, protocol)));
  const parser = new ReplyParser();
  const got: Reply[] = [];
  const cuts = [...new Set(points.map((p) => p % (all.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  for (const p of [...cuts, all.length]) {
    parser.push(all.subarray(prev, p));
    prev = p;
    for (let x = parser.next(); x; x = parser.next()) got.push(x);
  }
  return got;
}

describe('encodeReply properties', () => {
  it('RESP3 replies parse back to themselves in any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(replyArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (replies, points) => {
          expect(roundTrip(replies, 3, points)).toEqual(replies);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('RESP2 replies parse back to their RESP2 fallbacks', () => {
    fc.assert(
      fc.property(
        fc.array(replyArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (replies, points) => {
          expect(roundTrip(replies, 2, points)).toEqual(replies.map(asResp2));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the reply parser throws only ProtocolError on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (garbage) => {
        const parser = new ReplyParser({ bulkBytesMax: 1000, elementsMax: 100, depthMax: 8 });
        parser.push(garbage);
        try {
          while (parser.next());
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
