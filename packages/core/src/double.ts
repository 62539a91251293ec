import { InvalidArgumentError } from './errors.ts';

/**
 * Forces a number to be encoded as a tuple double (type code 0x21).
 *
 * A plain `number` that is a safe integer encodes as an integer; every other
 * number (fractions, ±Infinity, NaN, integers beyond 2^53) as a double. Wrap
 * a number in `Double` to store an integral value as a double, or `-0` with
 * its sign. Decoding returns a plain `number` for a double unless that number
 * would re-encode as an integer, in which case it returns a `Double`, so
 * decode followed by encode always gives back the same bytes.
 */
export class Double {
  readonly value: number;

  constructor(value: number) {
    if (typeof value !== 'number') throw new InvalidArgumentError('Double wraps a number');
    this.value = value;
  }
}
