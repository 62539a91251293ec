/**
 * Parser of server replies (RESP2 and RESP3), for tests and for Tessera code
 * that talks to a RESP server. It re-parses a reply from its first byte when
 * more bytes arrive, which is simple and fine for replies of ordinary size;
 * the request path uses the streaming `RequestParser`.
 */
import { ProtocolError } from '../errors.ts';
import type { Reply } from './reply.ts';

/** Bounds on what a reply may declare. */
export interface ReplyParserLimits {
  readonly bulkBytesMax: number;
  readonly elementsMax: number;
  readonly depthMax: number;
}

const DEFAULT_LIMITS: ReplyParserLimits = {
  bulkBytesMax: 512 * 1024 * 1024,
  elementsMax: 1 << 24,
  depthMax: 64,
};

/** Longest simple string, error or header line accepted. */
const LINE_BYTES_MAX = 1024 * 1024;

const INCOMPLETE = Symbol('incomplete');
type Parsed = { reply: Reply; end: number } | typeof INCOMPLETE;

export class ReplyParser {
  readonly limits: ReplyParserLimits;
  #buf: Buffer = Buffer.alloc(0);

  constructor(limits: Partial<ReplyParserLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  push(chunk: Uint8Array): void {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
  }

  /** The next complete reply, or undefined until more bytes arrive. @throws ProtocolError */
  next(): Reply | undefined {
    if (this.#buf.length === 0) return undefined;
    const parsed = this.#parse(0, 0);
    if (parsed === INCOMPLETE) return undefined;
    this.#buf = this.#buf.subarray(parsed.end);
    return parsed.reply;
  }

  #line(pos: number): { text: string; next: number } | typeof INCOMPLETE {
    const end = this.#buf.indexOf('\r\n', pos, 'latin1');
    if (end < 0) {
      if (this.#buf.length - pos > LINE_BYTES_MAX) throw new ProtocolError('reply line too long');
      return INCOMPLETE;
    }
    if (end - pos > LINE_BYTES_MAX) throw new ProtocolError('reply line too long');
    return { text: this.#buf.toString('utf8', pos, end), next: end + 2 };
  }

  #integer(text: string, what: string): number {
    if (!/^-?\d{1,16}$/.test(text)) throw new ProtocolError(`invalid ${what} '${text.slice(0, 32)}'`);
    return Number(text);
  }

  #parse(pos: number, depth: number): Parsed {
    if (depth > this.limits.depthMax) throw new ProtocolError('reply nested too deep');
    if (pos >= this.#buf.length) return INCOMPLETE;
    const marker = String.fromCharCode(this.#buf[pos]!);
    const line = this.#line(pos + 1);
    if (line === INCOMPLETE) return INCOMPLETE;
    const { text, next } = line;
    switch (marker) {
      case '+':
        return { reply: { type: 'simple', value: text }, end: next };
      case '-':
        return { reply: { type: 'error', value: text }, end: next };
      case ':': {
        if (!/^-?\d{1,20}$/.test(text)) throw new ProtocolError(`invalid integer '${text.slice(0, 32)}'`);
        const big = BigInt(text);
        const value =
          big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(big)
            : big;
        return { reply: { type: 'integer', value }, end: next };
      }
      case '_':
        if (text !== '') throw new ProtocolError('invalid null');
        return { reply: { type: 'null' }, end: next };
      case '#':
        if (text !== 't' && text !== 'f') throw new ProtocolError('invalid boolean');
        return { reply: { type: 'boolean', value: text === 't' }, end: next };
      case ',': {
        const value =
          text === 'inf' ? Infinity : text === '-inf' ? -Infinity : text === 'nan' ? NaN : Number(text);
        if (text === '' || (Number.isNaN(value) && text !== 'nan')) throw new ProtocolError('invalid double');
        return { reply: { type: 'double', value }, end: next };
      }
      case '$':
      case '=': {
        const len = this.#integer(text, 'bulk length');
        if (len === -1 && marker === '$') return { reply: { type: 'null' }, end: next };
        if (len < 0 || len > this.limits.bulkBytesMax) throw new ProtocolError('invalid bulk length');
        if (this.#buf.length < next + len + 2) return INCOMPLETE;
        if (this.#buf[next + len] !== 0x0d || this.#buf[next + len + 1] !== 0x0a) {
          throw new ProtocolError('expected CRLF after bulk string');
        }
        const body = Buffer.from(this.#buf.subarray(next, next + len));
        if (marker === '$') return { reply: { type: 'bulk', value: body }, end: next + len + 2 };
        if (len < 4 || body[3] !== 0x3a) throw new ProtocolError('invalid verbatim string');
        return {
          reply: { type: 'verbatim', format: body.toString('latin1', 0, 3), value: body.subarray(4) },
          end: next + len + 2,
        };
      }
      case '*':
      case '~':
      case '>':
      case '%': {
        const count = this.#integer(text, 'aggregate length');
        if (count === -1 && marker === '*') return { reply: { type: 'null' }, end: next };
        if (count < 0 || count > this.limits.elementsMax) throw new ProtocolError('invalid aggregate length');
        const items: Reply[] = [];
        let at = next;
        const n = marker === '%' ? count * 2 : count;
        for (let i = 0; i < n; i++) {
          const item = this.#parse(at, depth + 1);
          if (item === INCOMPLETE) return INCOMPLETE;
          items.push(item.reply);
          at = item.end;
        }
        if (marker === '%') {
          const pairs: [Reply, Reply][] = [];
          for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
          return { reply: { type: 'map', value: pairs }, end: at };
        }
        const type = marker === '*' ? 'array' : marker === '~' ? 'set' : 'push';
        return { reply: { type, value: items }, end: at };
      }
      default:
        throw new ProtocolError(`unknown reply type byte 0x${this.#buf[pos]!.toString(16).padStart(2, '0')}`);
    }
  }
}
