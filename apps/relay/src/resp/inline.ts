/**
 * Inline commands: one command per line, arguments split like Redis'
 * `sdssplitargs` (spaces separate, "double quotes" take \n \r \t \b \a \\ \"
 * and \xHH escapes, 'single quotes' take \'). This is what makes a raw TCP
 * connection speak the seeds' text protocol: `SET k v`, `GET k`, `DEL k`.
 */
import { ProtocolError } from '../errors.ts';

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const VT = 0x0b;
const FF = 0x0c;
const CR = 0x0d;
const NUL = 0x00;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === VT || c === FF || c === CR;
}

function isTokenEnd(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB || c === NUL;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

const ESCAPES: Record<number, number> = { 110: LF, 114: CR, 116: TAB, 98: 0x08, 97: 0x07 };

/**
 * Splits one inline line (without its line ending) into arguments.
 * @throws ProtocolError `unbalanced quotes in request` like Redis.
 */
export function splitInlineArgs(line: Uint8Array): Buffer[] {
  const args: Buffer[] = [];
  let p = 0;
  const n = line.length;
  for (;;) {
    while (p < n && isSpace(line[p]!)) p++;
    if (p >= n) return args;
    const out: number[] = [];
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      if (inDouble) {
        if (p >= n) throw new ProtocolError('unbalanced quotes in request');
        const c = line[p]!;
        if (
          c === BACKSLASH &&
          p + 3 < n &&
          line[p + 1] === 0x78 &&
          hexValue(line[p + 2]!) >= 0 &&
          hexValue(line[p + 3]!) >= 0
        ) {
          out.push(hexValue(line[p + 2]!) * 16 + hexValue(line[p + 3]!));
          p += 3;
        } else if (c === BACKSLASH && p + 1 < n) {
          p++;
          const e = line[p]!;
          out.push(ESCAPES[e] ?? e);
        } else if (c === DQUOTE) {
          // Redis requires a closing quote to end the argument.
          if (p + 1 < n && !isSpace(line[p + 1]!)) throw new ProtocolError('unbalanced quotes in request');
          done = true;
        } else {
          out.push(c);
        }
      } else if (inSingle) {
        if (p >= n) throw new ProtocolError('unbalanced quotes in request');
        const c = line[p]!;
        if (c === BACKSLASH && p + 1 < n && line[p + 1] === SQUOTE) {
          p++;
          out.push(SQUOTE);
        } else if (c === SQUOTE) {
          if (p + 1 < n && !isSpace(line[p + 1]!)) throw new ProtocolError('unbalanced quotes in request');
          done = true;
        } else {
          out.push(c);
        }
      } else if (p >= n) {
        done = true;
      } else {
        const c = line[p]!;
        if (isTokenEnd(c)) done = true;
        else if (c === DQUOTE) inDouble = true;
        else if (c === SQUOTE) inSingle = true;
        else out.push(c);
      }
      if (p < n) p++;
    }
    args.push(Buffer.from(out));
  }
}
