/**
 * Runs the README's CLI examples exactly as written (with `npx strata` pointing at this
 * checkout's bin), so the front door never documents a command that does not work. The only
 * substitutions: PROD_URL is a fresh database on the test server, and /tmp/ paths live in a
 * folder of this test's own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'strata-readme-'));
afterAll(async () => {
  await dropTestDatabases();
  rmSync(dir, { recursive: true, force: true });
});

/** The shell lines between the cli-examples markers, comments and fences left out. */
function exampleLines(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = readme
    .split('<!-- cli-examples:start -->')[1]
    ?.split('<!-- cli-examples:end -->')[0];
  if (!block) throw new Error('README has no cli-examples block');
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('```') && !l.startsWith('#'));
}

/** Moves a /tmp/ path into this test's folder. */
const local = (value: string): string =>
  value.startsWith('/tmp/') ? join(dir, value.slice('/tmp/'.length)) : value;

describe('README CLI examples', () => {
  it('run as written and exit 0', { timeout: 300_000 }, async () => {
    const lines = exampleLines();
    expect(lines.length).toBeGreaterThan(10);
    const prodUrl = await createTestDatabase('strata_readme');
    const env: Record<string, string | undefined> = {
      ...process.env,
      CONFIG_ENCRYPTION_KEY: undefined,
    };
    for (const line of lines) {
      if (line.startsWith('export ')) {
        for (const assignment of line.slice('export '.length).split(/\s+/)) {
          const [name, value] = assignment.split('=') as [string, string];
          env[name] = name === 'PROD_URL' ? prodUrl : local(value);
        }
        continue;
      }
      expect(line.startsWith('npx strata '), line).toBe(true);
      const args = [...line.slice('npx strata '.length).matchAll(/"([^"]*)"|(\S+)/g)].map((m) =>
        local((m[1] ?? m[2]!).replace(/^\$([A-Z_]+)$/, (_, name: string) => env[name] ?? '')),
      );
      const result = await run(process.execPath, [join(root, 'bin/strata.js'), ...args], {
        env,
        cwd: dir,
      }).catch((error: { code: number; stderr: string }) => {
        throw new Error(`\`${line}\` exited ${error.code}: ${error.stderr}`);
      });
      expect(result.stdout.length, line).toBeGreaterThan(0);
    }
  });
});
