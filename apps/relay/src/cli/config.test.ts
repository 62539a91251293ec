/** `tessera start` configuration: flags, env and config file, merged and checked. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDataDir, resolveStartConfig } from './config.ts';
import { UsageError } from './errors.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ok = (argv: string[], env: Record<string, string> = {}) => resolveStartConfig(argv, env, dir);
async function refused(argv: string[], env: Record<string, string> = {}): Promise<string> {
  const error = await ok(argv, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

describe('resolveStartConfig', () => {
  it('uses defaults, resolves the data dir against the cwd', async () => {
    const config = await ok(['--data-dir', 'data']);
    expect(config).toMatchObject({
      dataDir: join(dir, 'data'),
      cluster: 'tessera',
      role: 'owner',
      respPort: 6379,
      httpPort: 8080,
      replicationFactor: 3,
      consistency: 'quorum',
      backend: 'replicated',
      json: false,
    });
    expect((await ok(['--data-dir', 'd', '--backend', 'local'])).backend).toBe('local');
  });

  it('flags beat env, env beats the config file, the file beats defaults', async () => {
    const file = join(dir, 'tessera.json');
    await writeFile(
      file,
      JSON.stringify({ dataDir: 'from-file', respPort: 7001, httpPort: 7002, cluster: 'filed', json: true }),
    );
    const config = await ok(['--config', file, '--resp-port', '7101'], {
      TESSERA_RESP_PORT: '7201',
      TESSERA_HTTP_PORT: '7202',
      TESSERA_BOOTSTRAP: '/ip4/10.0.0.1/tcp/4001/p2p/12D3KooA,/ip4/10.0.0.2/tcp/4001/p2p/12D3KooB',
    });
    expect(config).toMatchObject({
      dataDir: join(dir, 'from-file'),
      respPort: 7101,
      httpPort: 7202,
      cluster: 'filed',
      json: true,
      bootstrap: ['/ip4/10.0.0.1/tcp/4001/p2p/12D3KooA', '/ip4/10.0.0.2/tcp/4001/p2p/12D3KooB'],
    });
  });

  it('accepts --flag=value, repeated list flags and port 0', async () => {
    const config = await ok([
      '--data-dir=d',
      '--bootstrap',
      '/ip4/1.2.3.4/tcp/1/p2p/A',
      '--bootstrap=/ip4/1.2.3.5/tcp/1/p2p/B',
      '--resp-port=0',
      '--http-port',
      '0',
    ]);
    expect(config.bootstrap).toEqual(['/ip4/1.2.3.4/tcp/1/p2p/A', '/ip4/1.2.3.5/tcp/1/p2p/B']);
    expect(config.respPort).toBe(0);
  });

  it('refuses mistakes with one clear line', async () => {
    expect(await refused(['--data-dir', 'd', '--resp-prot', '1'])).toMatch(/unknown flag --resp-prot/);
    expect(await refused(['--data-dir', 'd', '--resp-port', '70000'])).toMatch(
      /--resp-port must be a port number/,
    );
    expect(await refused(['--data-dir', 'd', '--resp-port', 'abc'])).toMatch(/--resp-port must be a port/);
    expect(await refused(['--data-dir', 'd'], { TESSERA_HTTP_PORT: '-1' })).toMatch(
      /TESSERA_HTTP_PORT must be a port/,
    );
    expect(await refused([])).toMatch(/no data dir/);
    expect(await refused(['--data-dir', 'd', '--role', 'boss'])).toMatch(
      /--role must be one of owner, client/,
    );
    expect(await refused(['--data-dir', 'd', '--replication-factor', '11'])).toMatch(/1\.\.10/);
    expect(await refused(['--data-dir', 'd', '--consistency', 'most'])).toMatch(/one, quorum, all/);
    expect(await refused(['--data-dir', 'd', '--backend', 'redis'])).toMatch(/replicated, local/);
    expect(await refused(['--data-dir', 'd', '--bootstrap', '10.0.0.1:4001'])).toMatch(/not a multiaddr/);
    expect(await refused(['--data-dir', 'd', '--bootstrap', '/ip4/10.0.0.1/tcp/4001'])).toMatch(
      /\/p2p\/<peer id>/,
    );
    expect(await refused(['--data-dir', 'd', '--resp-port', '7000', '--http-port', '7000'])).toMatch(
      /both 7000/,
    );
    expect(await refused(['--data-dir', 'd', '--cluster', 'a b'])).toMatch(/--cluster must be/);
    expect(await refused(['--data-dir', 'd', 'extra'])).toMatch(/unexpected argument/);
    expect(await refused(['--data-dir', 'd', '--json=yes'])).toMatch(/takes no value/);
    expect(await refused(['--data-dir'])).toMatch(/needs a value/);
  });

  it('refuses bad config files', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"dataDir": "x", ');
    expect(await refused(['--config', bad])).toMatch(/not valid JSON/);
    await writeFile(bad, JSON.stringify({ dataDir: 'x', respPrt: 1 }));
    expect(await refused(['--config', bad])).toMatch(/unknown key "respPrt"/);
    await writeFile(bad, JSON.stringify({ dataDir: 'x', respPort: '99999' }));
    expect(await refused(['--config', bad])).toMatch(/config key "respPort" must be a port/);
    expect(await refused(['--config', join(dir, 'missing.json')])).toMatch(
      /cannot read config file .*ENOENT/,
    );
  });
});

describe('prepareDataDir', () => {
  it('creates the dir; refuses a file or a dir under a file', async () => {
    await prepareDataDir(join(dir, 'made', 'deep'));
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    await expect(prepareDataDir(file)).rejects.toThrow(/is not a directory/);
    await expect(prepareDataDir(join(file, 'sub'))).rejects.toThrow(/cannot create data dir .*ENOTDIR/);
  });
});

describe('the tessera process', () => {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--conditions=source', main, ...args],
        { cwd: dir },
        (error, stdout, stderr) => {
          resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout, stderr });
        },
      );
    });

  it('exits 2 with one line for configuration mistakes', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    for (const [args, pattern] of [
      [['start', '--data-dir', 'x', '--bogus'], /unknown flag --bogus/],
      [['start', '--data-dir', 'x', '--resp-port', '65536'], /--resp-port must be a port number/],
      [['start', '--data-dir', join(file, 'sub')], /cannot create data dir/],
      [['frobnicate'], /unknown command/],
    ] as const) {
      const result = await run([...args]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(pattern);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('prints help and exits 0', async () => {
    const result = await run(['start', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--resp-port');
    expect(result.stdout).toContain('TESSERA_RESP_PORT');
  });
});
