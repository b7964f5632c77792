#!/usr/bin/env node
// `npm start`: the desktop console when Electron's runtime is installed, otherwise the same
// console served by the local web bridge. Usage: npm start -- [--db X] [--port N] [--as U]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);

/**
 * Path of Electron's binary when it is really installed, else null. Reads electron's path.txt
 * instead of require('electron'), which would start a download when the binary is missing.
 */
function electronBinary() {
  try {
    const pkgDir = dirname(require.resolve('electron/package.json'));
    const pathFile = join(pkgDir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const rel = readFileSync(pathFile, 'utf8').trim();
    const base = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkgDir, 'dist');
    const bin = join(base, rel);
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`${[command, ...commandArgs].join(' ')} failed.\n`);
    process.exit(result.status ?? 1);
  }
}

function buildRendererIfMissing() {
  if (existsSync(join(root, 'dist-renderer', 'index.html'))) return;
  process.stderr.write('Building the console (first run)…\n');
  const vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  run(process.execPath, [
    vite,
    'build',
    '--config',
    'src-renderer/vite.config.ts',
    '--logLevel',
    'warn',
  ]);
}

const electron = electronBinary();
if (electron) {
  buildRendererIfMissing();
  const main = join(root, 'dist', 'src-main', 'electron', 'main.js');
  if (!existsSync(main)) {
    const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
    run(process.execPath, [tsc, '-p', 'tsconfig.build.json']);
  }
  const child = spawn(electron, [main, ...args], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  buildRendererIfMissing();
  const { register } = await import('tsx/esm/api');
  register();
  const { serveCommand } = await import('../src-main/cli/commands/serve.ts');
  try {
    const code = await serveCommand(
      args,
      {},
      {
        stdout: (line) => {
          if (line.startsWith('http://')) {
            process.stdout.write(
              `Electron is not available on this machine; the console is served at ${line}\n`,
            );
          } else {
            process.stdout.write(`${line}\n`);
          }
        },
        stderr: (line) => process.stderr.write(`${line}\n`),
      },
    );
    process.exit(code);
  } catch (error) {
    const message =
      error && typeof error === 'object' && error.name === 'StrataError'
        ? error.message
        : `Strata could not start: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`${message}\n`);
    process.exit(error && error.code === 'internal' ? 1 : 2);
  }
}
