/** Text progress bars for the CLI commands that follow jobs (`rebalance`, `leave`, `join`). */

/** `[#####...............] 5/20`; `[????...]` when the total is unknown (0). */
export function bar(done: number, total: number, width = 20): string {
  if (total === 0) return `[${'?'.repeat(width)}]`;
  const filled = Math.round((Math.min(done, total) / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}
