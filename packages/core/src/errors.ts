/**
 * Typed errors. Every error Tessera throws on purpose is a `TesseraError`
 * with a stable `name` (match on it in tests) and a stable `code` (for wire
 * formats and other languages). Decode errors carry the byte `offset` where
 * the input went wrong.
 */

/** Base class of every error Tessera throws on purpose. */
export class TesseraError extends Error {
  /** Stable, machine-readable code, e.g. `ERR_TRUNCATED_INPUT`. */
  readonly code: string;

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Base class of errors about bytes that could not be decoded. */
export class DecodeError extends TesseraError {
  /** Byte position in the input where decoding failed. */
  readonly offset: number;

  constructor(message: string, code: string, offset: number, options?: ErrorOptions) {
    super(`${message} (at byte ${offset})`, code, options);
    this.offset = offset;
  }
}

/** Thrown when input ends before a complete element, header or value. */
export class TruncatedInputError extends DecodeError {
  constructor(message = 'input ends too early', offset = 0) {
    super(message, 'ERR_TRUNCATED_INPUT', offset);
  }
}

/** Thrown when a tuple element starts with a type code this version does not know. */
export class UnknownTypeCodeError extends DecodeError {
  readonly typeCode: number;
  constructor(typeCode: number, offset: number) {
    super(
      `unknown tuple type code 0x${typeCode.toString(16).padStart(2, '0')}`,
      'ERR_UNKNOWN_TYPE_CODE',
      offset,
    );
    this.typeCode = typeCode;
  }
}

/** Thrown when string bytes are not valid UTF-8. */
export class InvalidUtf8Error extends DecodeError {
  constructor(offset: number) {
    super('invalid UTF-8 in string element', 'ERR_INVALID_UTF8', offset);
  }
}

/** Thrown when a key's 2-byte header has an unknown category, a reserved version or a reserved value type. */
export class BadHeaderError extends DecodeError {
  constructor(message: string, offset = 0) {
    super(message, 'ERR_BAD_HEADER', offset);
  }
}

/** Thrown when key bytes are structurally wrong in a way no narrower error names (e.g. trailing bytes). */
export class MalformedKeyError extends DecodeError {
  constructor(message: string, offset: number) {
    super(message, 'ERR_MALFORMED_KEY', offset);
  }
}

/** Thrown when bytes remain after one complete key or value. */
export class TrailingBytesError extends DecodeError {
  constructor(offset: number) {
    super('unexpected bytes after the end of the item', 'ERR_TRAILING_BYTES', offset);
  }
}

/** Thrown when value bytes are not one well-formed standard CBOR item. */
export class MalformedValueError extends DecodeError {
  constructor(message: string, offset = 0, options?: ErrorOptions) {
    super(message, 'ERR_MALFORMED_VALUE', offset, options);
  }
}

/** Thrown when an input exceeds a named limit such as `keyBytesMax`. Nothing is written. */
export class LimitExceededError extends TesseraError {
  /** The limit's name, e.g. `keyBytesMax`. */
  readonly limit: string;
  readonly max: number;
  readonly actual: number;
  constructor(limit: string, max: number, actual: number) {
    super(`${limit} exceeded: ${actual} > ${max}`, 'ERR_LIMIT_EXCEEDED');
    this.limit = limit;
    this.max = max;
    this.actual = actual;
  }
}

/** Thrown when a caller passes a value of the wrong type or shape (a programmer error). */
export class InvalidArgumentError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_ARGUMENT');
  }
}

/**
 * Thrown when a received Lamport clock is more than `clockJumpMax` ahead of
 * the local clock. The local clock is left unchanged; drop the message.
 */
export class ClockJumpError extends TesseraError {
  readonly local: number;
  readonly remote: number;
  readonly clockJumpMax: number;
  constructor(local: number, remote: number, clockJumpMax: number) {
    super(
      `remote clock ${remote} is more than clockJumpMax ${clockJumpMax} ahead of local ${local}`,
      'ERR_CLOCK_JUMP',
    );
    this.local = local;
    this.remote = remote;
    this.clockJumpMax = clockJumpMax;
  }
}

/** Thrown when a Lamport clock, dot or version vector (from a caller or a peer) is not well formed. */
export class InvalidClockError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_INVALID_CLOCK');
  }
}
