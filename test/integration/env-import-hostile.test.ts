/**
 * Hostile input through the whole import path (service, draft store, and the real CLI): every
 * file of the hostile corpus plus generated ones. Zero crashes (only StrataError), zero hangs
 * (vitest's timeout), zero partial imports (a refusal leaves the staged-change log exactly as it
 * was; a success stages every row it reports), and every refusal names its line.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canSerializeEnvValue,
  DEFAULT_MAX_ENV_BYTES,
  serializeEnv,
} from '../../src-main/core/env/index.js';
import { StrataError } from '../../src-main/core/types.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { EnvImportService } from '../../src-main/services/env-import-service.js';
import type { EnvFile } from '../../src-main/services/env-types.js';
import type { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import {
  demoTargets,
  json,
  ROOT,
  strata,
  tempDir,
  testCodec,
  TEST_KEY,
} from './service-fixtures.js';

const HOSTILE = join(ROOT, 'test/fixtures/env/hostile');
const VALID = join(ROOT, 'test/fixtures/env/valid');
const corpus = [
  ...readdirSync(HOSTILE)
    .filter((f) => f !== 'manifest.json')
    .map((f) => join(HOSTILE, f)),
  ...readdirSync(VALID).map((f) => join(VALID, f)),
];

let draftPath: string;
let service: StrataConfigService;
let env: EnvImportService;

function log(): string {
  return JSON.stringify((service.store as SqliteStore).stagedChanges({ all: true }));
}

function assertRefusalNamesLines(err: StrataError): void {
  const errors = (err.details as { errors?: Array<{ line: number; message: string }> })?.errors;
  expect(Array.isArray(errors) && errors.length > 0).toBe(true);
  for (const e of errors!) {
    expect(Number.isInteger(e.line)).toBe(true);
    expect(e.message).toMatch(e.line === 0 ? /^The / : new RegExp(`^Line ${e.line}: `));
  }
}

/** Stages a file and checks the all-or-nothing contract; returns what happened. */
async function attempt(f: EnvFile): Promise<'refused' | 'staged'> {
  const before = log();
  try {
    const r = await env.stage(f, { tenant: 'mercy_hospital', includeRedundant: true });
    for (const w of r.written) {
      const entry = service.index.get({ level: w.level, scope: w.scope, key: w.key });
      expect(entry, `${w.key} staged`).toBeDefined();
      const item = r.preview.items.find((i) => i.envKey === w.envKey)!;
      if (!item.secret) expect(entry!.value).toBe(item.value);
      else expect(entry!.value).toMatch(/^enc:v1:/);
    }
    return 'staged';
  } catch (err) {
    if (!(err instanceof StrataError)) throw err;
    expect(err.code).toBe('invalid');
    assertRefusalNamesLines(err);
    expect(log()).toBe(before);
    return 'refused';
  }
}

beforeAll(async () => {
  const targets = await demoTargets();
  draftPath = join(tempDir(), 'hostile.sqlite');
  copyFileSync(targets.draft, draftPath);
  service = await openService({ db: draftPath, operator: 'superadmin', codec: testCodec() });
  env = new EnvImportService(service, { codec: testCodec() });
});

afterAll(async () => {
  await service.close();
  await dropTestDatabases();
});

describe('the corpus through the service', () => {
  it('has at least 50 hostile files', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(65);
  });

  it.each(corpus.map((p) => [p.slice(ROOT.length + 1), p]))('%s', async (_name, path) => {
    const bytes = new Uint8Array(readFileSync(path));
    const outcome = await attempt({ fileName: path, bytes });
    const manifest = JSON.parse(readFileSync(join(HOSTILE, 'manifest.json'), 'utf8')) as Record<
      string,
      { ok: boolean }
    >;
    const name = path.split('/').pop()!;
    // Files the reader refuses must be refused here too; accepted ones may still be refused
    // whole for one bad row (metadata, mapping), never half-imported.
    if (path.startsWith(HOSTILE) && manifest[name]?.ok === false) expect(outcome).toBe('refused');
  });

  it('refuses a file just over 1 MiB and stages nothing', async () => {
    const line = 'GEN_BIG=some value\n';
    const text = line.repeat(Math.ceil((DEFAULT_MAX_ENV_BYTES + 1) / line.length));
    expect(await attempt({ fileName: 'big.env', bytes: new TextEncoder().encode(text) })).toBe(
      'refused',
    );
  });
});

describe('generated files through the service', () => {
  it('property: random near-.env text is staged whole or refused whole', async () => {
    const piece = fc.oneof(
      fc.constantFrom(
        'GEN_A=',
        'export ',
        'gen_b: ',
        '=',
        ':',
        ' ',
        '"',
        "'",
        '`',
        '#',
        '\\',
        '\\n',
        '\n',
        '\r',
        '\r\n',
        '\u0000',
        '\u00e9',
        '__proto__=',
        'constructor=',
        'UPLOADS_MAX_SIZE_MB=',
        'HIPAA_MODE=',
        'PHAXIO_API_KEY=',
        'yes',
        '123',
        '${X}',
        '\uFEFF',
        '\u2028',
        '\t',
      ),
      fc.string({ maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 40 }), async (parts) => {
        await attempt({ fileName: 'gen.env', bytes: new TextEncoder().encode(parts.join('')) });
      }),
      { numRuns: 250 },
    );
  });

  it('property: random bytes are staged whole or refused whole', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        await attempt({ fileName: 'bytes.env', bytes });
      }),
      { numRuns: 250 },
    );
  });

  it('property: serialise, import at a user, resolve: every value comes back exactly', async () => {
    const name = fc.stringMatching(/^gen_[a-z]{1,8}$/);
    const value = fc.string({ maxLength: 60, unit: 'grapheme' }).filter(canSerializeEnvValue);
    await fc.assert(
      fc.asyncProperty(fc.dictionary(name, value, { maxKeys: 6 }), async (dict) => {
        const pairs = Object.entries(dict).map(([k, v]) => [k.toUpperCase(), v] as const);
        const text = serializeEnv(pairs);
        const r = await env.stage(
          { fileName: 'roundtrip.env', bytes: new TextEncoder().encode(text) },
          { placement: { level: 'user', scope: 'dr_grey' }, includeRedundant: true },
        );
        expect(r.preview.errors).toEqual([]);
        for (const [k, v] of Object.entries(dict)) {
          const res = await service.resolve(k, { userId: 'dr_grey' }, { reveal: true });
          expect(res.value).toBe(v);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('the CLI', () => {
  const cliEnv = (): Record<string, string> => ({ CONFIG_ENCRYPTION_KEY: TEST_KEY });

  it('refuses with exit 2, names the line and stages nothing', async () => {
    const before = log();
    for (const name of [
      'unterminated-double.env',
      'utf16le-bom.env',
      'proto.env',
      'nul-in-value.env',
    ]) {
      const path = join(HOSTILE, name);
      const run = await strata(
        ['import-env', path, '--db', draftPath, '--as', 'superadmin', '--json'],
        cliEnv(),
      );
      expect(run.code, name).toBe(2);
      const doc = JSON.parse(run.stdout) as {
        mode: string;
        items: unknown[];
        errors: Array<{ line: number; message: string }>;
      };
      expect(doc.mode).toBe('refused');
      expect(doc.items).toEqual([]);
      expect(doc.errors.length).toBeGreaterThan(0);
      expect(run.stderr).toMatch(new RegExp(`^${name.replace('.', '\\.')}: (Line \\d+|The )`));
    }
    await service.reload();
    expect(log()).toBe(before);
  });

  it('refuses what is not a regular file without hanging', async () => {
    const dir = tempDir('strata-env-nonreg-');
    const fifo = join(dir, 'pipe.env');
    execFileSync('mkfifo', [fifo]);
    const folder = join(dir, 'folder.env');
    mkdirSync(folder);
    for (const path of [fifo, folder, '/dev/zero', join(dir, 'missing.env')]) {
      const run = await strata(
        ['import-env', path, '--db', draftPath, '--as', 'superadmin'],
        cliEnv(),
      );
      expect(run.code, path).toBe(2);
      expect(run.stderr).toMatch(
        /(\.env|zero): The (path is not a regular file|path is a folder|file does not exist)\.\n/,
      );
    }
    const big = join(dir, 'big.env');
    writeFileSync(big, 'A=1\n'.repeat(DEFAULT_MAX_ENV_BYTES / 4 + 1));
    const run = await strata(
      ['import-env', big, '--db', draftPath, '--as', 'superadmin'],
      cliEnv(),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /The file is 1048580 bytes; the limit for a \.env file is 1048576 bytes\./,
    );
    // A symlink to a regular file is read like the file.
    const link = join(dir, 'link.env');
    symlinkSync(join(VALID, 'basic.env'), link);
    const dry = await strata(
      ['import-env', link, '--db', draftPath, '--as', 'superadmin', '--dry-run', '--json'],
      cliEnv(),
    );
    expect(json<{ mode: string }>(dry).mode).toBe('dry-run');
  });
});
