/**
 * Incremental parser of client requests: RESP multibulk arrays
 * (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline lines (`GET k\n`). Bytes
 * arrive in any chunking; `push` them, then call `next` until it returns
 * undefined. Every limit is checked before the bytes it guards are kept, and
 * every malformed input throws `ProtocolError` with Redis' wording.
 */
import { ProtocolError } from '../errors.ts';
import { splitInlineArgs } from './inline.ts';
import { type RespLimits, resolveRespLimits } from './limits.ts';

const ASTERISK = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/** Redis' limits for clients that have not authenticated yet (`authRequired`). */
const UNAUTHENTICATED_ARGS_MAX = 10;
const UNAUTHENTICATED_BULK_BYTES_MAX = 16_384;

/** A parsed command: the name and its arguments, binary-safe. */
export type Command = Buffer[];

/**
 * Parses a decimal like Redis' `string2ll`: optional `-`, no `+`, no leading
 * zeros, no spaces. Returns undefined when the text is not such an integer or
 * is beyond the safe integer range (every length we accept is far below).
 */
function parseLength(buf: Buffer, start: number, end: number): number | undefined {
  if (start >= end || end - start > 17) return undefined;
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
    if (i >= end) return undefined;
  }
  if (buf[i] === 0x30 && end - i > 1) return undefined;
  let value = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    value = value * 10 + d;
  }
  if (negative && value === 0) return undefined;
  return negative ? -value : value;
}

export class RequestParser {
  readonly limits: RespLimits;
  /**
   * When true, Redis' stricter limits for unauthenticated clients apply
   * (at most 10 arguments, 16 KiB per bulk string).
   */
  authRequired = false;
  #buf: Buffer = EMPTY;
  #pos = 0;
  /** Arguments the command in progress declared; 0 when none is in progress. */
  #argc = 0;
  #args: Buffer[] = [];
  /** Declared length of the bulk string being read; -1 while its header is awaited. */
  #bulkLen = -1;
  #bulkParts: Buffer[] = [];
  #bulkHave = 0;
  /** Bytes of the command in progress already moved out of `#buf`. */
  #commandBytes = 0;

  constructor(limits: Partial<RespLimits> = {}) {
    this.limits = resolveRespLimits(limits);
  }

  /** Bytes held: the command in progress plus unparsed input behind it. */
  get bufferedBytes(): number {
    return this.#commandBytes + this.#buf.length - this.#pos;
  }

  /** True when some bytes of a command have arrived but not the whole command. */
  get hasPartial(): boolean {
    return this.bufferedBytes > 0;
  }

  /**
   * Appends received bytes.
   * @throws ProtocolError when the connection would hold more than `queryBufferBytesMax`.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const held = this.bufferedBytes;
    if (held + chunk.length > this.limits.queryBufferBytesMax) {
      throw new ProtocolError(
        `query buffer limit exceeded (queryBufferBytesMax ${this.limits.queryBufferBytesMax})`,
      );
    }
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.#pos >= this.#buf.length) this.#buf = bytes;
    else this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), bytes]);
    this.#pos = 0;
  }

  /**
   * The next complete command, or undefined until more bytes arrive.
   * @throws ProtocolError on malformed input; the parser is then unusable.
   */
  next(): Command | undefined {
    for (;;) {
      if (this.#argc === 0) {
        if (this.#pos >= this.#buf.length) {
          this.#buf = EMPTY;
          this.#pos = 0;
          return undefined;
        }
        if (this.#buf[this.#pos] !== ASTERISK) {
          const inline = this.#nextInline();
          if (inline === undefined) return undefined;
          if (inline.length > 0) return inline;
          continue;
        }
        const end = this.#lineEnd('too big mbulk count string');
        if (end < 0) return undefined;
        const count = parseLength(this.#buf, this.#pos + 1, end);
        if (count === undefined || count > 2_147_483_647) throw new ProtocolError('invalid multibulk length');
        if (count > this.#argsMax) {
          throw new ProtocolError(
            this.authRequired ? 'unauthenticated multibulk length' : 'invalid multibulk length',
          );
        }
        this.#commandBytes += end + 2 - this.#pos;
        this.#pos = end + 2;
        // Redis skips `*0` and `*-1` requests without replying.
        if (count <= 0) {
          this.#commandBytes = 0;
          continue;
        }
        this.#argc = count;
      }
      while (this.#args.length < this.#argc) {
        if (this.#bulkLen < 0) {
          if (this.#pos >= this.#buf.length) return undefined;
          if (this.#buf[this.#pos] !== DOLLAR) {
            throw new ProtocolError(`expected '$', got '${String.fromCharCode(this.#buf[this.#pos]!)}'`);
          }
          const end = this.#lineEnd('too big bulk count string');
          if (end < 0) return undefined;
          const len = parseLength(this.#buf, this.#pos + 1, end);
          if (len === undefined || len < 0 || len > this.limits.bulkBytesMax) {
            throw new ProtocolError('invalid bulk length');
          }
          if (this.authRequired && len > UNAUTHENTICATED_BULK_BYTES_MAX) {
            throw new ProtocolError('unauthenticated bulk length');
          }
          this.#commandBytes += end + 2 - this.#pos;
          this.#pos = end + 2;
          this.#bulkLen = len;
        }
        const arg = this.#takeBulk();
        if (arg === undefined) return undefined;
        this.#args.push(arg);
      }
      const command = this.#args;
      this.#args = [];
      this.#argc = 0;
      this.#commandBytes = 0;
      return command;
    }
  }

  get #argsMax(): number {
    return this.authRequired ? Math.min(UNAUTHENTICATED_ARGS_MAX, this.limits.argsMax) : this.limits.argsMax;
  }

  /** Index of the CR of the next CRLF from `#pos`, or -1 when it has not arrived. */
  #lineEnd(tooLong: string): number {
    const end = this.#buf.indexOf('\r\n', this.#pos, 'latin1');
    if (end < 0) {
      if (this.#buf.length - this.#pos > this.limits.inlineBytesMax) throw new ProtocolError(tooLong);
      return -1;
    }
    if (end - this.#pos > this.limits.inlineBytesMax) throw new ProtocolError(tooLong);
    return end;
  }

  /** Moves bulk bytes out of the input; returns the argument once it and its CRLF are complete. */
  #takeBulk(): Buffer | undefined {
    const need = this.#bulkLen + 2 - this.#bulkHave;
    const available = this.#buf.length - this.#pos;
    if (this.#bulkHave === 0 && available >= need) {
      const start = this.#pos;
      this.#pos += need;
      this.#commandBytes += need;
      return this.#finishBulk(this.#buf.subarray(start, start + need));
    }
    const take = Math.min(need, available);
    if (take > 0) {
      this.#bulkParts.push(this.#buf.subarray(this.#pos, this.#pos + take));
      this.#pos += take;
      this.#bulkHave += take;
      this.#commandBytes += take;
    }
    if (this.#bulkHave < this.#bulkLen + 2) return undefined;
    const whole = Buffer.concat(this.#bulkParts, this.#bulkHave);
    this.#bulkParts = [];
    this.#bulkHave = 0;
    return this.#finishBulk(whole);
  }

  #finishBulk(withCrlf: Buffer): Buffer {
    const len = this.#bulkLen;
    if (withCrlf[len] !== CR || withCrlf[len + 1] !== LF)
      throw new ProtocolError('expected CRLF after bulk string');
    this.#bulkLen = -1;
    return withCrlf.subarray(0, len);
  }

  /** The next inline command ([] for a blank line), or undefined until its newline arrives. */
  #nextInline(): Command | undefined {
    const nl = this.#buf.indexOf(LF, this.#pos);
    const lineBytes = (nl < 0 ? this.#buf.length : nl) - this.#pos;
    if (lineBytes > this.limits.inlineBytesMax) throw new ProtocolError('too big inline request');
    if (nl < 0) return undefined;
    let end = nl;
    if (end > this.#pos && this.#buf[end - 1] === CR) end--;
    const args = splitInlineArgs(this.#buf.subarray(this.#pos, end));
    this.#pos = nl + 1;
    if (args.length > this.#argsMax) {
      throw new ProtocolError(
        this.authRequired ? 'unauthenticated multibulk length' : 'invalid multibulk length',
      );
    }
    return args;
  }
}
