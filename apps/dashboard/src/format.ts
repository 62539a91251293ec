/** Text shown in the views; safe on any value another peer sent. */

/** First and last characters of a peer id, enough to tell peers apart. */
export function shortId(id: string): string {
  return id.length <= 14 ? id : `${id.slice(0, 6)}…${id.slice(-6)}`;
}

/** `1.5 MB`-style size (powers of 1024, labelled kB/MB/GB as most tools print them). */
export function formatBytes(bytes: number | null | undefined): string {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** How long ago, coarse: `now`, `3 s ago`, `2 min ago`. */
export function formatAgo(thenMs: number, nowMs: number): string {
  if (!Number.isFinite(thenMs) || thenMs <= 0) return 'never';
  const seconds = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (seconds < 1) return 'now';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

/** Wall-clock time of day. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return new Date(ms).toLocaleTimeString(undefined, { hour12: false });
}

/** Characters of payload shown in a log row. */
export const PREVIEW_CHARS_MAX = 160;
const PREVIEW_DEPTH_MAX = 4;
const PREVIEW_ITEMS_MAX = 8;

/**
 * A short JSON-like rendering of a CBOR-decoded payload. Bounded in depth,
 * items and length, so a huge or deeply nested payload from another peer
 * cannot stall the page; bytes, bigints and maps are named rather than thrown on.
 */
export function previewValue(value: unknown, charsMax = PREVIEW_CHARS_MAX): string {
  const text = render(value, 0);
  return text.length > charsMax ? `${text.slice(0, charsMax - 1)}…` : text;
}

function render(value: unknown, depth: number): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > PREVIEW_CHARS_MAX ? value.slice(0, PREVIEW_CHARS_MAX) : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'object':
      break;
    default:
      return typeof value;
  }
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (value instanceof Date) return value.toISOString();
  if (depth >= PREVIEW_DEPTH_MAX) return '…';
  const more = (n: number) => (n > PREVIEW_ITEMS_MAX ? ', …' : '');
  if (Array.isArray(value)) {
    const items = value.slice(0, PREVIEW_ITEMS_MAX).map((item) => render(item, depth + 1));
    return `[${items.join(', ')}${more(value.length)}]`;
  }
  const entries: [unknown, unknown][] =
    value instanceof Map ? [...value.entries()] : Object.entries(value as Record<string, unknown>);
  const items = entries
    .slice(0, PREVIEW_ITEMS_MAX)
    .map(
      ([key, item]) =>
        `${typeof key === 'string' ? key : render(key, depth + 1)}: ${render(item, depth + 1)}`,
    );
  return `{${items.join(', ')}${more(entries.length)}}`;
}
