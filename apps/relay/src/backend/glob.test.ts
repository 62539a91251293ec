import { describe, expect, it } from 'vitest';
import { globMatch } from './glob.ts';

const m = (pattern: string, subject: string) => globMatch(Buffer.from(pattern), Buffer.from(subject));

describe('globMatch (Redis stringmatchlen)', () => {
  it('matches the examples of the KEYS documentation', () => {
    for (const s of ['hello', 'hallo', 'hxllo']) expect(m('h?llo', s)).toBe(true);
    for (const s of ['hllo', 'heeeello', 'hello']) expect(m('h*llo', s)).toBe(true);
    expect(m('h[ae]llo', 'hello')).toBe(true);
    expect(m('h[ae]llo', 'hallo')).toBe(true);
    expect(m('h[ae]llo', 'hillo')).toBe(false);
    expect(m('h[^e]llo', 'hallo')).toBe(true);
    expect(m('h[^e]llo', 'hello')).toBe(false);
    expect(m('h[a-b]llo', 'hallo')).toBe(true);
    expect(m('h[a-b]llo', 'hbllo')).toBe(true);
    expect(m('h[a-b]llo', 'hcllo')).toBe(false);
  });

  it('handles stars, escapes, reversed ranges and empty strings', () => {
    // Redis' matcher never matches an empty subject; KEYS and SCAN treat the
    // pattern `*` as "no filter" before matching, which is how `""` is listed.
    expect(m('*', '')).toBe(false);
    expect(m('**', 'anything')).toBe(true);
    expect(m('a*', '')).toBe(false);
    expect(m('', '')).toBe(true);
    expect(m('', 'a')).toBe(false);
    expect(m('user:*', 'user:1')).toBe(true);
    expect(m('user:*', 'usr:1')).toBe(false);
    expect(m('*:*:end', 'a:b:c:end')).toBe(true);
    expect(m('a\\*b', 'a*b')).toBe(true);
    expect(m('a\\*b', 'axb')).toBe(false);
    expect(m('[z-a]', 'm')).toBe(true);
    expect(m('[\\]]', ']')).toBe(true);
    expect(m('x*', 'x')).toBe(true);
    expect(m('x**', 'x')).toBe(true);
    // An unterminated class ends at the pattern's end, like Redis.
    expect(m('a[bc', 'ab')).toBe(true);
  });

  it('gives up quickly on patterns built to backtrack', () => {
    const subject = 'a'.repeat(5000);
    expect(m(`${'*a'.repeat(50)}b`, subject)).toBe(false);
  });

  it('works on raw bytes', () => {
    expect(globMatch(Buffer.from([0x2a, 0xff]), Buffer.from([0x00, 0xfe, 0xff]))).toBe(true);
    expect(globMatch(Buffer.from([0x3f]), Buffer.from([0xc3, 0xa9]))).toBe(false);
  });
});
