/**
 * Benchmark entry point: `npm run bench -- <suite> [<suite>…] [--duration-ms N] [--warmup-ms N]`.
 * Each suite is `src/suites/<name>.ts` exporting `run(): Promise<void>`;
 * dropping a file there is all it takes to add one. `all` runs every suite.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { defaults } from './harness.ts';

const suitesDir = new URL('./suites/', import.meta.url);
const suiteNamePattern = /^[a-z0-9][a-z0-9-]*$/;

function availableSuites(): string[] {
  return readdirSync(suitesDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -3))
    .filter((n) => suiteNamePattern.test(n))
    .sort();
}

function usage(): string {
  return [
    'usage: npm run bench -- <suite>... [--duration-ms N] [--warmup-ms N] [--cpu] [--keys N]',
    '  --cpu: ratios and goals use ops per CPU-second of the measuring thread (for a shared, busy machine)',
    '  --keys N: keys preloaded by suites that size a data set (migration: default 100000)',
    `suites: ${availableSuites().join(', ')}, all`,
  ].join('\n');
}

function positiveInt(flag: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) {
    console.error(`${flag} needs a positive integer, got ${raw}`);
    process.exit(2);
  }
  return n;
}

async function main(argv: string[]): Promise<void> {
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--duration-ms') defaults.durationMs = positiveInt(arg, argv[++i]);
    else if (arg === '--warmup-ms') defaults.warmupMs = positiveInt(arg, argv[++i]);
    else if (arg === '--cpu') defaults.basis = 'cpu';
    else if (arg === '--keys') defaults.keys = positiveInt(arg, argv[++i]);
    else if (arg === '--help' || arg === '-h') {
      console.log(usage());
      return;
    } else names.push(arg);
  }
  const known = availableSuites();
  const selected = names.includes('all') ? known : names;
  if (selected.length === 0) {
    console.error(usage());
    process.exit(2);
  }
  for (const name of selected) {
    if (!known.includes(name)) {
      console.error(`unknown suite "${name}"\n${usage()}`);
      process.exit(2);
    }
  }

  const cpus = os.cpus();
  console.log(
    `# tessera bench ${new Date().toISOString()} · node ${process.version} · ${os.platform()} ${os.arch()} · ` +
      `${cpus.length} x ${cpus[0]?.model ?? 'unknown cpu'} · ${Math.round(os.totalmem() / 2 ** 30)} GiB · ` +
      `measure ${defaults.durationMs} ms after ${defaults.warmupMs} ms warm-up · ratios/goals on ${defaults.basis} time · ` +
      `load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}\n`,
  );
  for (const name of selected) {
    const suite = (await import(new URL(`${name}.ts`, suitesDir).href)) as { run?: () => Promise<void> };
    if (typeof suite.run !== 'function') throw new Error(`suite ${name} does not export run()`);
    await suite.run();
  }
}

await main(process.argv.slice(2));
