import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.ts';
import { encodeCommand } from './encode.ts';
import { RequestParser } from './request-parser.ts';

function drain(parser: RequestParser): string[][] {
  const out: string[][] = [];
  for (let cmd = parser.next(); cmd !== undefined; cmd = parser.next())
    out.push(cmd.map((a) => a.toString('latin1')));
  return out;
}

function parseAll(input: string | Buffer, limits = {}): string[][] {
  const parser = new RequestParser(limits);
  parser.push(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
  return drain(parser);
}

function protocolError(input: string, limits = {}): string {
  try {
    parseAll(input, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).message;
  }
  throw new Error('expected a ProtocolError');
}

describe('RequestParser', () => {
  it('parses a multibulk command', () => {
    expect(parseAll('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n')).toEqual([['SET', 'k', 'hello']]);
  });

  it('parses pipelined commands from one read and keeps a partial tail', () => {
    const parser = new RequestParser();
    parser.push(Buffer.from('*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGE'));
    expect(drain(parser)).toEqual([['PING'], ['GET', 'a']]);
    expect(parser.hasPartial).toBe(true);
    parser.push(Buffer.from('T\r\n$1\r\nb\r\n'));
    expect(drain(parser)).toEqual([['GET', 'b']]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it('handles one byte at a time', () => {
    const parser = new RequestParser();
    const bytes = Buffer.from('*2\r\n$4\r\nECHO\r\n$6\r\nfoobar\r\nPING\r\n');
    const got: string[][] = [];
    for (const b of bytes) {
      parser.push(Buffer.of(b));
      got.push(...drain(parser));
    }
    expect(got).toEqual([['ECHO', 'foobar'], ['PING']]);
  });

  it('keeps bulk strings binary-safe, CRLF and NUL included', () => {
    const value = Buffer.from([0, 13, 10, 255, 36, 42, 13, 10]);
    const parser = new RequestParser();
    parser.push(encodeCommand(['SET', 'k', value]));
    const cmd = parser.next();
    expect(Buffer.compare(cmd![2]!, value)).toBe(0);
  });

  it('parses inline commands with Redis quoting', () => {
    expect(parseAll('SET k v\r\nGET k\nDEL   k  \r\n')).toEqual([
      ['SET', 'k', 'v'],
      ['GET', 'k'],
      ['DEL', 'k'],
    ]);
    expect(parseAll('SET "a b" \'c d\'\n')).toEqual([['SET', 'a b', 'c d']]);
    expect(parseAll('SET k "x\\n\\x41\\"y"\n')).toEqual([['SET', 'k', 'x\nA"y']]);
    expect(parseAll("SET k 'it\\'s'\n")).toEqual([['SET', 'k', "it's"]]);
    expect(parseAll('SET k ""\n')).toEqual([['SET', 'k', '']]);
  });

  it('skips blank lines and empty multibulk requests', () => {
    expect(parseAll('\r\n\n*0\r\n*-1\r\nPING\r\n')).toEqual([['PING']]);
  });

  it('rejects malformed headers with Redis wording', () => {
    expect(protocolError('*x\r\n')).toBe('invalid multibulk length');
    expect(protocolError('*1\r\n+PING\r\n')).toBe("expected '$', got '+'");
    expect(protocolError('*1\r\n$-5\r\n')).toBe('invalid bulk length');
    expect(protocolError('*1\r\n$abc\r\n')).toBe('invalid bulk length');
    expect(protocolError('*1\r\n$01\r\n')).toBe('invalid bulk length');
    expect(protocolError('*1\r\n$3\r\nGETXX')).toBe('expected CRLF after bulk string');
    expect(protocolError('SET "k v\n')).toBe('unbalanced quotes in request');
    expect(protocolError('SET "k"v\n')).toBe('unbalanced quotes in request');
  });

  it('rejects a huge declared bulk length before any allocation', () => {
    const parser = new RequestParser({ bulkBytesMax: 1024 });
    parser.push(Buffer.from('*2\r\n$3\r\nGET\r\n$1025\r\n'));
    expect(() => parser.next()).toThrow(ProtocolError);
    expect(protocolError('*2\r\n$3\r\nGET\r\n$99999999999999999999\r\n')).toBe('invalid bulk length');
    expect(protocolError('*2\r\n$3\r\nGET\r\n$536870913\r\n')).toBe('invalid bulk length');
  });

  it('enforces argsMax, inlineBytesMax and queryBufferBytesMax', () => {
    expect(protocolError('*4\r\n', { argsMax: 3 })).toBe('invalid multibulk length');
    expect(protocolError('a b c d\n', { argsMax: 3 })).toBe('invalid multibulk length');
    expect(protocolError(`GET ${'x'.repeat(200)}`, { inlineBytesMax: 100 })).toBe('too big inline request');
    expect(protocolError(`*1${'1'.repeat(200)}`, { inlineBytesMax: 100 })).toBe('too big mbulk count string');
    expect(protocolError(`*1\r\n$1${'1'.repeat(200)}`, { inlineBytesMax: 100 })).toBe(
      'too big bulk count string',
    );
    const parser = new RequestParser({ queryBufferBytesMax: 64 });
    parser.push(Buffer.from('*2\r\n$3\r\nSET\r\n$40\r\n'));
    expect(parser.next()).toBeUndefined();
    expect(() => parser.push(Buffer.alloc(60, 0x61))).toThrow(/queryBufferBytesMax/);
  });

  it('counts bulk bytes moved out of the buffer towards queryBufferBytesMax', () => {
    const parser = new RequestParser({ queryBufferBytesMax: 100 });
    parser.push(Buffer.from('*2\r\n$3\r\nSET\r\n$90\r\n'));
    parser.next();
    parser.push(Buffer.alloc(40, 0x61));
    expect(parser.next()).toBeUndefined();
    expect(parser.bufferedBytes).toBeGreaterThan(40);
    expect(() => parser.push(Buffer.alloc(50, 0x61))).toThrow(ProtocolError);
  });

  it('applies the unauthenticated limits when auth is required', () => {
    const parser = new RequestParser();
    parser.authRequired = true;
    parser.push(Buffer.from('*11\r\n'));
    expect(() => parser.next()).toThrow('unauthenticated multibulk length');
    const strict = new RequestParser();
    strict.authRequired = true;
    strict.push(Buffer.from('*2\r\n$4\r\nAUTH\r\n$16385\r\n'));
    expect(() => strict.next()).toThrow('unauthenticated bulk length');
    const open = new RequestParser();
    open.push(Buffer.from('*2\r\n$4\r\nAUTH\r\n$16385\r\n'));
    expect(open.next()).toBeUndefined();
  });
});

const argArb = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const commandArb = fc.array(argArb, { minLength: 1, maxLength: 8 });

/** Cuts `bytes` at the given (sorted, deduplicated) positions. */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of sorted) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

describe('RequestParser properties', () => {
  it('round-trips any pipelined commands in any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(commandArb, { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (commands, points) => {
          const bytes = Buffer.concat(commands.map((c) => encodeCommand(c)));
          const parser = new RequestParser();
          const got: Buffer[][] = [];
          for (const chunk of cut(bytes, points)) {
            parser.push(chunk);
            for (let cmd = parser.next(); cmd; cmd = parser.next()) got.push(cmd);
          }
          expect(got).toEqual(commands);
          expect(parser.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips inline commands of plain words in any chunking', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9:_.-]{1,12}$/);
    fc.assert(
      fc.property(
        fc.array(fc.array(word, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (lines, points) => {
          const bytes = Buffer.from(lines.map((l) => `${l.join(' ')}\r\n`).join(''));
          const parser = new RequestParser();
          const got: string[][] = [];
          for (const chunk of cut(bytes, points)) {
            parser.push(chunk);
            for (let cmd = parser.next(); cmd; cmd = parser.next()) got.push(cmd.map((a) => a.toString()));
          }
          expect(got).toEqual(lines);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never throws anything but ProtocolError on garbage', () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // Garbage that looks like RESP gets further into the parser.
      fc
        .array(
          fc.constantFrom(
            '*',
            '$',
            '\r\n',
            '-1',
            '0',
            '3',
            '99999999999',
            'GET',
            ' ',
            '"',
            "'",
            '\\x',
            '\n',
            'a',
          ),
          {
            maxLength: 40,
          },
        )
        .map((parts) => Buffer.from(parts.join(''))),
    );
    fc.assert(
      fc.property(garbage, fc.array(fc.nat(), { maxLength: 10 }), (bytes, points) => {
        const parser = new RequestParser({
          bulkBytesMax: 1000,
          inlineBytesMax: 100,
          queryBufferBytesMax: 4096,
        });
        try {
          for (const chunk of cut(Buffer.from(bytes), points)) {
            parser.push(chunk);
            for (let cmd = parser.next(); cmd; cmd = parser.next()) expect(Array.isArray(cmd)).toBe(true);
          }
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
