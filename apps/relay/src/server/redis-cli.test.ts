/**
 * Debian's redis-cli (and redis-benchmark) against the server: the tools
 * operators will point at Tessera. The setup installs redis-tools when
 * missing, or fails saying how to.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-harness.ts';

const ensureScript = fileURLToPath(new URL('../../scripts/ensure-redis-tools.sh', import.meta.url));

/** Runs redis-cli with `args`, feeding `input` on stdin; resolves with stdout. */
function cli(port: number, args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`redis-cli exited ${code}: ${err}`)),
    );
    child.stdin.end(input);
  });
}

let t: TestServer;

beforeAll(async () => {
  try {
    execFileSync('bash', [ensureScript], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`redis-cli is needed for these tests and could not be installed: ${String(e)}`);
  }
  t = await startTestServer();
});

afterAll(async () => {
  await t?.close();
});

describe('redis-cli', () => {
  it('runs commands one per invocation', async () => {
    expect(await cli(t.port, ['SET', 'cli:k', 'hello world'])).toBe('OK\n');
    expect(await cli(t.port, ['GET', 'cli:k'])).toBe('hello world\n');
    expect(await cli(t.port, ['INCR', 'cli:n'])).toBe('1\n');
    expect(await cli(t.port, ['CLUSTER', 'KEYSLOT', 'foo'])).toBe('12182\n');
    expect(await cli(t.port, ['DEL', 'cli:k', 'cli:n'])).toBe('2\n');
    // redis-cli prints an error reply followed by an empty line.
    expect(await cli(t.port, ['NOSUCH'])).toBe(
      "ERR unknown command 'NOSUCH', with args beginning with: \n\n",
    );
  });

  it('speaks RESP3 with -3', async () => {
    const hello = await cli(t.port, ['-3', 'HELLO', '3']);
    // redis-cli prints a RESP3 map one "key value" pair per line.
    expect(hello).toContain('\nproto 3\n');
    await cli(t.port, ['SET', 'cli3:k', 'v']);
    expect(await cli(t.port, ['-3', 'GET', 'cli3:k'])).toBe('v\n');
    expect(await cli(t.port, ['-3', 'CLUSTER', 'SHARDS'])).toContain('health online');
  });

  it('runs commands piped on stdin, one per line', async () => {
    const out = await cli(
      t.port,
      [],
      'SET pipe:a 1\nINCRBY pipe:a 41\nGET pipe:a\nMSET pipe:b 2 pipe:c 3\nMGET pipe:a pipe:b pipe:c\n',
    );
    expect(out).toBe('OK\n42\n42\nOK\n42\n2\n3\n');
  });

  it('streams raw RESP with --pipe', async () => {
    const count = 2000;
    let input = '';
    for (let i = 0; i < count; i++) {
      const key = `bulk:${i}`;
      input += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$1\r\nv\r\n`;
    }
    const out = await cli(t.port, ['--pipe'], input);
    expect(out).toContain(`errors: 0, replies: ${count}`);
    const keys = await cli(t.port, ['--scan', '--pattern', 'bulk:1*']);
    const expected = Array.from({ length: count }, (_, i) => `bulk:${i}`).filter((k) =>
      k.startsWith('bulk:1'),
    );
    expect(keys.trim().split('\n').sort()).toEqual(expected.sort());
  });

  it('follows the cluster with -c and passes --cluster check', async () => {
    expect(await cli(t.port, ['-c', 'SET', '{user1000}.following', 'x'])).toBe('OK\n');
    expect(await cli(t.port, ['-c', 'GET', '{user1000}.following'])).toBe('x\n');
    const check = await cli(t.port, ['--cluster', 'check', `127.0.0.1:${t.port}`]);
    expect(check).toContain('[OK] All nodes agree about slots configuration.');
    expect(check).toContain('[OK] All 16384 slots covered.');
  });

  it('serves INFO and COMMAND DOCS the way redis-cli reads them', async () => {
    const info = await cli(t.port, ['INFO']);
    expect(info).toContain('redis_version:');
    expect(info).toContain('cluster_enabled:1');
    expect(info).toContain('# Keyspace');
    const docs = await cli(t.port, ['COMMAND', 'DOCS', 'set']);
    expect(docs.split('\n').slice(0, 3)).toEqual(['set', 'summary', expect.stringContaining('string value')]);
  });
});

describe('redis-benchmark', () => {
  it('completes SET and GET runs with and without pipelining', async () => {
    const run = (extra: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          'redis-benchmark',
          ['-p', String(t.port), '-t', 'set,get', '-n', '2000', '-c', '10', '-q', ...extra],
          { timeout: 50_000 },
          (error, stdout) => (error ? reject(error) : resolve(stdout)),
        ),
      );
    for (const extra of [[], ['-P', '16']]) {
      const out = await run(extra);
      expect(out).toMatch(/SET: [\d.]+ requests per second/);
      expect(out).toMatch(/GET: [\d.]+ requests per second/);
    }
    expect(t.errors).toEqual([]);
  });
});
