/**
 * A small SVG line chart (no chart library: the whole thing is a few paths).
 * Lines are told apart by colour and dash pattern both, so no line depends
 * on colour vision; stale lines are drawn faded and dotted.
 */

import { formatTick, niceCeiling } from '../chart-scale.ts';

/** One line: points as [time ms, value]; null values break the line. */
export interface ChartLine {
  readonly id: string;
  readonly label: string;
  readonly colour: string;
  readonly dash: string;
  readonly width?: number;
  readonly stale?: boolean;
  readonly points: readonly (readonly [number, number | null])[];
}

const WIDTH = 560;
const HEIGHT = 170;
const PAD = { left: 48, right: 12, top: 10, bottom: 22 };

export function LineChart({
  title,
  unit,
  lines,
  startMs,
  endMs,
  yFloor = 1,
  testId,
}: {
  title: string;
  unit: string;
  lines: readonly ChartLine[];
  startMs: number;
  endMs: number;
  yFloor?: number;
  testId: string;
}) {
  let max = 0;
  for (const line of lines) for (const [, y] of line.points) if (y !== null && y > max) max = y;
  const yMax = niceCeiling(max, yFloor);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (ms: number) => PAD.left + ((ms - startMs) / Math.max(1, endMs - startMs)) * plotW;
  const y = (value: number) => PAD.top + plotH - (value / yMax) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const seconds = Math.round((endMs - startMs) / 1000);
  const path = (line: ChartLine) => {
    let d = '';
    let pen = false;
    for (const [ms, value] of line.points) {
      if (value === null || ms < startMs) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(ms).toFixed(1)},${y(value).toFixed(1)}`;
      pen = true;
    }
    return d;
  };
  // The newest point of each line gets a dot: a line of one point (a peer just heard from) draws no
  // stroke at all, and the dot also marks where "now" is for each line.
  const lastPoint = (line: ChartLine) => {
    for (let i = line.points.length - 1; i >= 0; i--) {
      const [ms, value] = line.points[i]!;
      if (ms < startMs) return undefined;
      if (value !== null) return [x(ms), y(value)] as const;
    }
    return undefined;
  };
  return (
    <figure className="chart" data-testid={testId} data-y-max={yMax}>
      <figcaption>
        {title} <span className="unit">({unit})</span>
      </figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width={WIDTH}
        height={HEIGHT}
        role="img"
        aria-label={`${title}, last ${seconds} s; the table below has the latest values`}
      >
        {ticks.map((tick) => (
          <g key={tick}>
            <line className="grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text className="tick" x={PAD.left - 6} y={y(tick) + 4} textAnchor="end">
              {formatTick(tick)}
            </text>
          </g>
        ))}
        <text className="tick" x={PAD.left} y={HEIGHT - 6}>
          −{seconds} s
        </text>
        <text className="tick" x={WIDTH - PAD.right} y={HEIGHT - 6} textAnchor="end">
          now
        </text>
        {lines.map((line) => (
          <path
            key={line.id}
            d={path(line)}
            data-line={line.id}
            data-stale={line.stale === true}
            fill="none"
            stroke={line.stale ? '#8a8a8a' : line.colour}
            strokeWidth={line.width ?? 2}
            strokeDasharray={line.stale ? '1 4' : line.dash}
            strokeLinejoin="round"
            strokeLinecap={line.stale ? 'round' : 'butt'}
          />
        ))}
        {lines.map((line) => {
          const at = lastPoint(line);
          return at === undefined ? null : (
            <circle
              key={`${line.id}-last`}
              data-last={line.id}
              cx={at[0].toFixed(1)}
              cy={at[1].toFixed(1)}
              r={(line.width ?? 2) + 1}
              fill={line.stale ? '#8a8a8a' : line.colour}
            />
          );
        })}
      </svg>
    </figure>
  );
}

/** A short sample of a line's style, for legends. */
export function LineSwatch({ colour, dash, stale }: { colour: string; dash: string; stale?: boolean }) {
  return (
    <svg width="28" height="10" aria-hidden="true" className="line-swatch">
      <line
        x1="1"
        x2="27"
        y1="5"
        y2="5"
        stroke={stale ? '#8a8a8a' : colour}
        strokeWidth="2.5"
        strokeDasharray={stale ? '1 4' : dash}
        strokeLinecap={stale ? 'round' : 'butt'}
      />
    </svg>
  );
}
