/**
 * Vitest global setup: installs the Debian tools the Node tests drive
 * (redis-cli, redis-benchmark) once, before any test file starts. Test files
 * that need them also check on their own, but without this the first file
 * to spawn redis-cli could race the one that installs it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../apps/relay/scripts/ensure-redis-tools.sh', import.meta.url));
  execFileSync('bash', [script], { stdio: 'inherit' });
}
