import { InvalidArgumentError } from './errors.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A 128-bit UUID as a tuple element (type code 0x30). Compares by its 16 bytes. */
export class Uuid {
  /** The 16 bytes, big-endian as written in the canonical text form. */
  readonly bytes: Uint8Array;

  /** Wraps a copy of exactly 16 bytes; throws `InvalidArgumentError` otherwise. */
  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 16) {
      throw new InvalidArgumentError('a Uuid needs exactly 16 bytes');
    }
    this.bytes = bytes.slice();
  }

  /** Parses the canonical `8-4-4-4-12` hex form (either case). */
  static parse(text: string): Uuid {
    if (typeof text !== 'string' || !uuidPattern.test(text)) {
      throw new InvalidArgumentError(`not a UUID: ${String(text).slice(0, 64)}`);
    }
    const hex = text.replaceAll('-', '');
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return new Uuid(bytes);
  }

  /** The canonical lower-case `8-4-4-4-12` form. */
  toString(): string {
    let hex = '';
    for (const b of this.bytes) hex += b.toString(16).padStart(2, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
