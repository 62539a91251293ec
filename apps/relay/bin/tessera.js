#!/usr/bin/env node
// The `tessera` command. The CLI is TypeScript run from source, which needs
// Node 24 (type stripping) and the "source" export condition; this launcher
// re-executes the current Node with that condition and forwards signals, so
// `npx tessera …` works from the repository after `npm install`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `tessera: needs Node 24 or newer (this is ${process.version}); run it through npx or npm so node_modules/.bin/node is used\n`,
  );
  process.exit(2);
}
const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const child = spawn(process.execPath, ['--conditions=source', main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === null ? 1 : 128 + (signal === 'SIGINT' ? 2 : 15)));
});
