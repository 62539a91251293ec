import type { Liveness, NodeStatus } from '@tessera/coordinator';

/** Colour group of a status; each also has its own glyph, so colour is never the only cue. */
export function statusTone(status: NodeStatus, liveness: Liveness): string {
  if (liveness === 'down' || status === 'down' || status === 'aborted') return 'down';
  if (liveness === 'suspect' || status === 'unreachable') return 'suspect';
  if (status === 'up') return 'up';
  if (status === 'joining' || status === 'idle') return 'joining';
  if (status === 'leaving' || status === 'exiting' || status === 'removed') return 'leaving';
  return 'unknown';
}

const GLYPH: Record<string, string> = {
  up: '●',
  suspect: '◐',
  down: '✕',
  joining: '◌',
  leaving: '▼',
  unknown: '?',
};

/** A status with glyph and text. */
export function StatusBadge({ status, liveness }: { status: NodeStatus; liveness: Liveness }) {
  const tone = statusTone(status, liveness);
  return (
    <span className={`status status-${tone}`}>
      <span aria-hidden="true">{GLYPH[tone]}</span> {status}
      {liveness === 'suspect' && status !== 'unreachable' ? ' (suspect)' : ''}
    </span>
  );
}
