/**
 * A small, strict flag parser: `--name value`, `--name=value`, boolean
 * `--flag`, repeatable list flags. Anything it does not know is a
 * `UsageError`, so a typo never silently falls back to a default.
 */
import { UsageError } from './errors.ts';

/** How one flag is written and read. */
export interface FlagSpec {
  /** `string` and `integer` take one value, `list` may repeat (and splits on commas), `boolean` takes none. */
  readonly type: 'string' | 'integer' | 'list' | 'boolean';
  /** One line for `--help`. */
  readonly description: string;
  /** Placeholder shown in `--help` (`<port>`). */
  readonly value?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** Parsed flags: strings as given (integers are checked later, with the option's own range). */
export interface ParsedArgs {
  readonly flags: Map<string, string | string[] | true>;
  readonly positionals: string[];
}

/** Most arguments accepted on one command line. */
export const ARGS_MAX = 1000;

export function parseArgs(argv: readonly string[], specs: FlagSpecs): ParsedArgs {
  if (argv.length > ARGS_MAX) throw new UsageError(`too many arguments (at most ${ARGS_MAX})`);
  const flags = new Map<string, string | string[] | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      flags.set('help', true);
      continue;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1)
        throw new UsageError(`unknown flag ${arg} (flags are --long)`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = name === 'help' ? { type: 'boolean' as const, description: '' } : specs[name];
    if (spec === undefined) throw new UsageError(`unknown flag --${name} (see --help)`);
    if (spec.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (spec.type === 'list') {
      const list = (flags.get(name) as string[] | undefined) ?? [];
      list.push(...splitList(value));
      flags.set(name, list);
    } else {
      if (flags.has(name)) throw new UsageError(`--${name} given twice`);
      flags.set(name, value);
    }
  }
  return { flags, positionals };
}

/** Splits a comma- or whitespace-separated list, dropping empty items. */
export function splitList(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** `--help` text for a command's flags. */
export function formatFlags(specs: FlagSpecs, env?: Readonly<Record<string, string>>): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const left = `  --${name}${spec.value === undefined ? '' : ` ${spec.value}`}`;
    const envName = env?.[name];
    return [left, `${spec.description}${envName === undefined ? '' : ` [${envName}]`}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => left.padEnd(width) + right).join('\n');
}
