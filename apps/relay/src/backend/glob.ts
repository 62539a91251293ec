/**
 * Redis' glob matching (`stringmatchlen` in util.c), byte for byte: `*`, `?`,
 * `[abc]`, `[^a-z]`, `\` escapes. Used by KEYS and SCAN MATCH so patterns
 * behave exactly as they do against Redis.
 */

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;
const BACKSLASH = 0x5c;

/** Redis' guard against patterns built to recurse without end. */
const NESTING_MAX = 1000;

interface State {
  skipLongerMatches: boolean;
}

function matchFrom(
  pat: Uint8Array,
  p: number,
  str: Uint8Array,
  s: number,
  state: State,
  nesting: number,
): boolean {
  if (nesting > NESTING_MAX) return false;
  const plen = pat.length;
  const slen = str.length;
  // Past the end reads as 0, like the NUL terminator the C code relies on.
  const at = (i: number): number => (i < plen ? pat[i]! : 0);
  while (p < plen && s < slen) {
    const c = pat[p]!;
    if (c === STAR) {
      while (p + 1 < plen && pat[p + 1] === STAR) p++;
      if (p + 1 === plen) return true;
      while (s < slen) {
        if (matchFrom(pat, p + 1, str, s, state, nesting + 1)) return true;
        if (state.skipLongerMatches) return false;
        s++;
      }
      // No match for the rest anywhere in the rest of the string: no longer
      // match of an earlier star can help either.
      state.skipLongerMatches = true;
      return false;
    }
    if (c === QUESTION) {
      s++;
    } else if (c === OPEN) {
      p++;
      const not = at(p) === CARET;
      if (not) p++;
      let match = false;
      const sc = str[s]!;
      for (;;) {
        if (at(p) === BACKSLASH && plen - p >= 2) {
          p++;
          if (pat[p] === sc) match = true;
        } else if (at(p) === CLOSE) {
          break;
        } else if (p >= plen) {
          p--;
          break;
        } else if (plen - p >= 3 && pat[p + 1] === DASH) {
          let start = pat[p]!;
          let end = pat[p + 2]!;
          if (start > end) [start, end] = [end, start];
          p += 2;
          if (sc >= start && sc <= end) match = true;
        } else if (pat[p] === sc) {
          match = true;
        }
        p++;
      }
      if (not) match = !match;
      if (!match) return false;
      s++;
    } else {
      if (c === BACKSLASH && plen - p >= 2) p++;
      if (pat[p] !== str[s]) return false;
      s++;
    }
    p++;
    if (s === slen) {
      while (p < plen && pat[p] === STAR) p++;
      break;
    }
  }
  return p >= plen && s === slen;
}

/** True when `subject` matches the Redis glob `pattern`. */
export function globMatch(pattern: Uint8Array, subject: Uint8Array): boolean {
  return matchFrom(pattern, 0, subject, 0, { skipLongerMatches: false }, 0);
}

/** True for the pattern `*`, which KEYS and SCAN treat as no filter at all (as Redis does). */
export function matchesEverything(pattern: Uint8Array): boolean {
  return pattern.length === 1 && pattern[0] === STAR;
}
