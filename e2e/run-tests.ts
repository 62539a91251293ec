/**
 * `npm test`'s runner: Vitest (unit, property, multi-process and in-browser
 * tests), then the Playwright e2e suite, then one closing line that counts
 * both, `tests: N passed, N failed, N skipped`. Vitest's own closing line is
 * held back so the output still ends with exactly one such line. Extra
 * arguments go to Vitest. Exits non-zero when either runner failed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const SUMMARY = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/;

/** Runs a command with inherited stderr; stdout is passed through except the summary line, which is returned. */
function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; counts?: Counts }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['inherit', 'pipe', 'inherit'], env });
    let counts: Counts | undefined;
    let pending = '';
    const emit = (line: string) => {
      const match = SUMMARY.exec(line.trim());
      if (match === null) process.stdout.write(`${line}\n`);
      else counts = { passed: Number(match[1]), failed: Number(match[2]), skipped: Number(match[3]) };
    };
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) emit(line);
    });
    child.on('close', (code, signal) => {
      if (pending !== '') emit(pending);
      resolve({ code: code ?? (signal === null ? 1 : 128), ...(counts === undefined ? {} : { counts }) });
    });
  });
}

const bin = (name: string) => join(import.meta.dirname, '..', 'node_modules', '.bin', name);
const work = await mkdtemp(join(tmpdir(), 'tessera-test-run-'));
const summaryFile = join(work, 'e2e.json');
try {
  const unit = await run(bin('vitest'), ['run', ...process.argv.slice(2)], process.env);
  // The Playwright multi-peer suite runs after Vitest, on the machine Vitest has just left quiet (one worker:
  // each test runs several peer processes and browsers). TESSERA_E2E=0 leaves it out, for a quick local run.
  const e2e =
    process.env.TESSERA_E2E === '0'
      ? { code: 0 }
      : await run(bin('playwright'), ['test'], {
          ...process.env,
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=source`.trim(),
          TESSERA_E2E_SUMMARY: summaryFile,
        });
  const e2eCounts = await readFile(summaryFile, 'utf8').then(
    (text) => JSON.parse(text) as Counts,
    () => undefined,
  );
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const [counts, code] of [
    [unit.counts, unit.code],
    [e2eCounts, e2e.code],
  ] as const) {
    // A runner that died before counting anything still counts as a failure.
    if (counts === undefined) total.failed += code === 0 ? 0 : 1;
    else {
      total.passed += counts.passed;
      total.failed += counts.failed;
      total.skipped += counts.skipped;
    }
  }
  process.stdout.write(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  process.exitCode = unit.code === 0 && e2e.code === 0 ? 0 : 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
