/**
 * RESP2 and RESP3 serializer. RESP2 fallbacks follow Redis: map -> flat
 * array, set and push -> array, null -> `$-1`, double -> bulk string,
 * boolean -> integer 1/0, verbatim -> bulk string of its text.
 */
import type { Protocol, Reply } from './reply.ts';

const CRLF = '\r\n';

/** Redis' spelling of doubles in RESP3 (`inf`, `-inf`, `nan`) and in RESP2 bulk strings. */
export function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  // String(-0) drops the sign; Redis (printf %.17g) keeps it.
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

/** Error and simple string text may not hold CR or LF; Redis replaces them with spaces. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}

class Writer {
  readonly parts: Buffer[] = [];
  #text = '';

  text(s: string): void {
    this.#text += s;
  }

  bytes(b: Uint8Array): void {
    if (this.#text.length > 0) {
      this.parts.push(Buffer.from(this.#text));
      this.#text = '';
    }
    this.parts.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length));
  }

  finish(): Buffer {
    if (this.#text.length > 0) this.parts.push(Buffer.from(this.#text));
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
  }
}

function write(w: Writer, reply: Reply, protocol: Protocol): void {
  switch (reply.type) {
    case 'simple':
      w.text(`+${oneLine(reply.value)}${CRLF}`);
      return;
    case 'error':
      w.text(`-${oneLine(reply.value)}${CRLF}`);
      return;
    case 'integer':
      w.text(`:${reply.value}${CRLF}`);
      return;
    case 'bulk':
      w.text(`$${reply.value.length}${CRLF}`);
      w.bytes(reply.value);
      w.text(CRLF);
      return;
    case 'null':
      w.text(protocol === 3 ? `_${CRLF}` : `$-1${CRLF}`);
      return;
    case 'array':
    case 'set':
    case 'push': {
      const prefix = protocol === 2 || reply.type === 'array' ? '*' : reply.type === 'set' ? '~' : '>';
      w.text(`${prefix}${reply.value.length}${CRLF}`);
      for (const item of reply.value) write(w, item, protocol);
      return;
    }
    case 'map':
      w.text(protocol === 3 ? `%${reply.value.length}${CRLF}` : `*${reply.value.length * 2}${CRLF}`);
      for (const [k, v] of reply.value) {
        write(w, k, protocol);
        write(w, v, protocol);
      }
      return;
    case 'double': {
      const text = formatDouble(reply.value);
      if (protocol === 3) w.text(`,${text}${CRLF}`);
      else w.text(`$${Buffer.byteLength(text)}${CRLF}${text}${CRLF}`);
      return;
    }
    case 'boolean':
      w.text(protocol === 3 ? `#${reply.value ? 't' : 'f'}${CRLF}` : `:${reply.value ? 1 : 0}${CRLF}`);
      return;
    case 'verbatim':
      if (protocol === 3) {
        w.text(`=${reply.value.length + 4}${CRLF}${reply.format}:`);
      } else {
        w.text(`$${reply.value.length}${CRLF}`);
      }
      w.bytes(reply.value);
      w.text(CRLF);
      return;
  }
}

/** The bytes of `reply` in the given protocol version. */
export function encodeReply(reply: Reply, protocol: Protocol): Buffer {
  const w = new Writer();
  write(w, reply, protocol);
  return w.finish();
}

/** A command as a client sends it: an array of bulk strings. */
export function encodeCommand(args: readonly (Uint8Array | string)[]): Buffer {
  const w = new Writer();
  w.text(`*${args.length}${CRLF}`);
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    w.text(`$${bytes.length}${CRLF}`);
    w.bytes(bytes);
    w.text(CRLF);
  }
  return w.finish();
}
