/**
 * Connection profiles without a database: the JSON file (atomic writes, 0600, a damaged file
 * reported and left alone), passwords split out of URLs and never in the file, the memory vault
 * of the browser transport and the desktop vault over a safeStorage stand-in that really
 * encrypts (the OS keyring's part is played by a private AES key).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MemoryVault,
  PROFILES_FILE,
  ProfileStore,
  connectionUrl,
  displayTarget,
  splitConnectionUrl,
} from '../../src-main/services/connection-profiles.js';
import { cautiousEnvironment } from '../../src-main/bridge/workspace-host.js';
import { environmentOfLabel } from '../../src-main/contract/connection-channels.js';
import { environmentTone } from '../../src-renderer/lib/forms.js';
import { VAULT_FILE, createSecretVault } from '../../src-main/electron/secret-vault.js';
import { allBytes } from '../helpers/files.js';
import { keyring } from '../helpers/keyring.js';

const dirs: string[] = [];
function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-profiles-'));
  dirs.push(d);
  return join(d, 'data');
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('URLs and passwords', () => {
  it('splits user and password out of a URL and puts them back for connecting', () => {
    const split = splitConnectionUrl(
      'postgres://admin:s3cr%40t@db.example:5433/strata?sslmode=require',
    );
    expect(split).toEqual({
      target: 'postgres://db.example:5433/strata?sslmode=require',
      user: 'admin',
      password: 's3cr@t',
    });
    const url = connectionUrl({ target: split.target, user: 'admin' }, 's3cr@t');
    expect(new URL(url).password).toBe('s3cr%40t');
    expect(displayTarget({ kind: 'postgres', target: split.target, user: 'admin' })).toBe(
      'postgres://admin@db.example:5433/strata?sslmode=require',
    );
    expect(splitConnectionUrl('postgres://db.example/x?password=pw&sslmode=disable')).toEqual({
      target: 'postgres://db.example/x?sslmode=disable',
      user: null,
      password: 'pw',
    });
  });

  it('round-trips any user and password through the connection URL', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (user, password) => {
          const url = connectionUrl(
            { target: 'postgres://db.example:5432/strata', user },
            password,
          );
          const back = splitConnectionUrl(url);
          expect(back).toEqual({ target: 'postgres://db.example:5432/strata', user, password });
        },
      ),
    );
  });

  it('refuses what is not a PostgreSQL URL with one sentence', () => {
    expect(() => splitConnectionUrl('mysql://db/x')).toThrow(
      /postgres:\/\/ or postgresql:\/\/ URL/,
    );
    expect(() => splitConnectionUrl('postgres:///x')).toThrow(/names no host/);
  });

  it('takes the most cautious environment label', () => {
    expect(cautiousEnvironment('development', 'production')).toBe('production');
    expect(cautiousEnvironment('staging', null)).toBe('staging');
    expect(cautiousEnvironment('prod')).toBe('production');
    expect(cautiousEnvironment(null, undefined, 'weird')).toBeNull();
    expect(cautiousEnvironment('dev', 'Test-2')).toBe('staging');
    expect(cautiousEnvironment('LIVE', 'uat')).toBe('production');
  });

  it('reads a label by one rule, shared with the console banner', () => {
    for (const label of ['production', 'PROD-EU', 'live', 'staging', 'test', 'uat', 'dev']) {
      expect(environmentOfLabel(label)).toBe(cautiousEnvironment(label));
      expect(environmentTone(label)).toBe(environmentOfLabel(label));
    }
    expect(environmentOfLabel('livestock')).toBeNull();
    expect(environmentOfLabel(undefined)).toBeNull();
  });
});

describe('the profile file', () => {
  it('keeps passwords out of the file: typed in the URL or in the password field', async () => {
    const dir = folder();
    const vault = new MemoryVault();
    const store = new ProfileStore(dir, vault);
    const a = await store.save({
      name: 'Production',
      kind: 'postgres',
      environment: 'production',
      target: 'postgres://admin:Url-Pa55word!@db.example:5432/strata',
    });
    const b = await store.save({
      name: 'Staging',
      kind: 'postgres',
      environment: 'staging',
      target: 'postgresql://db-staging.example/strata',
      user: 'stager',
      password: 'Field-Pa55word?',
    });
    expect(a).toMatchObject({ target: 'postgres://db.example:5432/strata', user: 'admin' });
    expect(b).toMatchObject({ target: 'postgresql://db-staging.example/strata', user: 'stager' });
    expect(await vault.get(a.id)).toBe('Url-Pa55word!');
    expect(await vault.get(b.id)).toBe('Field-Pa55word?');
    const bytes = allBytes(dir);
    expect(bytes).toContain('db.example');
    expect(bytes).not.toContain('Url-Pa55word');
    expect(bytes).not.toContain('Field-Pa55word');
    expect(store.list().map((p) => p.name)).toEqual(['Production', 'Staging']);
  });

  it('never writes any generated password to the file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 8, maxLength: 30 }).filter((p) => p.trim().length >= 8),
        async (password) => {
          const dir = folder();
          const store = new ProfileStore(dir, new MemoryVault());
          const url = connectionUrl(
            { target: 'postgres://db.example/strata', user: 'u' },
            password,
          );
          await store.save({ name: 'x', kind: 'postgres', environment: 'staging', target: url });
          const text = readFileSync(join(dir, PROFILES_FILE), 'utf8');
          expect(text).not.toContain(password);
          expect(text).not.toContain(encodeURIComponent(password));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('writes atomically: 0600, no temp files left, valid JSON after every save', async () => {
    const dir = folder();
    const store = new ProfileStore(dir, new MemoryVault());
    for (let i = 0; i < 20; i++) {
      await store.save({
        name: `Draft ${i}`,
        kind: 'draft',
        environment: 'development',
        target: `/tmp/d${i}.sqlite`,
      });
      expect(() => JSON.parse(readFileSync(store.path, 'utf8')) as unknown).not.toThrow();
    }
    expect(readdirSync(dir)).toEqual([PROFILES_FILE]);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    // A temp file left by a crash mid-write is ignored, and the profiles are intact.
    writeFileSync(`${store.path}.deadbeef0000.tmp`, '{"half');
    expect(store.list()).toHaveLength(20);
  });

  it('updates, keeps or removes the stored password, and deletes with it', async () => {
    const dir = folder();
    const vault = new MemoryVault();
    const store = new ProfileStore(dir, vault);
    const p = await store.save({
      name: 'Dev',
      kind: 'postgres',
      environment: 'development',
      target: 'postgres://db/strata',
      password: 'first',
    });
    const renamed = await store.save({
      id: p.id,
      name: 'Dev 2',
      kind: 'postgres',
      environment: 'development',
      target: 'postgres://db/strata',
    });
    expect(renamed.name).toBe('Dev 2');
    expect(await vault.get(p.id)).toBe('first');
    await store.save({
      id: p.id,
      name: 'Dev 2',
      kind: 'postgres',
      environment: 'development',
      target: 'postgres://db/strata',
      password: '',
    });
    expect(await vault.get(p.id)).toBeNull();
    await store.save({
      id: p.id,
      name: 'Dev 2',
      kind: 'postgres',
      environment: 'development',
      target: 'postgres://db/strata',
      password: 'second',
    });
    expect(store.touch(p.id, '2026-01-02T03:04:05.000Z').lastOpened).toBe(
      '2026-01-02T03:04:05.000Z',
    );
    expect(await store.delete(p.id)).toBe(true);
    expect(await vault.get(p.id)).toBeNull();
    expect(await store.delete(p.id)).toBe(false);
    await expect(
      store.save({
        id: 'nope',
        name: 'x',
        kind: 'draft',
        environment: 'staging',
        target: '/x.sqlite',
      }),
    ).rejects.toThrow(/no connection profile/);
  });

  it('refuses bad input with one sentence and writes nothing', async () => {
    const dir = folder();
    const store = new ProfileStore(dir, new MemoryVault());
    await expect(
      store.save({ name: ' ', kind: 'draft', environment: 'staging', target: '/x.sqlite' }),
    ).rejects.toThrow('Give the connection a name.');
    await expect(
      store.save({ name: 'x', kind: 'postgres', environment: 'staging', target: 'db.example' }),
    ).rejects.toThrow(/postgres:\/\//);
    await expect(
      store.save({ name: 'x', kind: 'draft', environment: 'staging', target: 'postgres://db/x' }),
    ).rejects.toThrow(/choose PostgreSQL/);
    await expect(
      store.save({
        name: 'x',
        kind: 'draft',
        environment: 'live' as 'staging',
        target: '/x.sqlite',
      }),
    ).rejects.toThrow('Choose production, staging or development.');
    expect(() => readdirSync(dir)).toThrow();
  });

  it('reports a damaged file and leaves it untouched', async () => {
    const dir = folder();
    const store = new ProfileStore(dir, new MemoryVault());
    await store.save({ name: 'A', kind: 'draft', environment: 'staging', target: '/a.sqlite' });
    for (const garbage of [
      '{"format":"strata-connections","version":1,"profiles":[{"id":1}]}',
      'not json',
      '[]',
    ]) {
      writeFileSync(store.path, garbage);
      expect(() => store.list()).toThrow(/cannot be read .*left untouched/);
      await expect(
        store.save({ name: 'B', kind: 'draft', environment: 'staging', target: '/b.sqlite' }),
      ).rejects.toThrow(/cannot be read/);
      expect(readFileSync(store.path, 'utf8')).toBe(garbage);
    }
  });
});

describe('password vaults', () => {
  it('the memory vault says it keeps passwords for this session only', async () => {
    const vault = new MemoryVault();
    expect(vault.persistent).toBe(false);
    expect(vault.note).toMatch(/^Password kept for this session only/);
    await vault.set('a', 'pw');
    expect(await vault.get('a')).toBe('pw');
  });

  it('the desktop vault stores only ciphertext, in its own file', async () => {
    const dir = folder();
    const safeStorage = keyring();
    const vault = await createSecretVault({ safeStorage, dir, platform: 'linux', optIn: false });
    expect(vault.persistent).toBe(true);
    const store = new ProfileStore(dir, vault);
    const p = await store.save({
      name: 'Prod',
      kind: 'postgres',
      environment: 'production',
      target: 'postgres://admin:Desk-Pa55word@db.example/strata',
    });
    expect(readdirSync(dir).sort()).toEqual([VAULT_FILE, PROFILES_FILE].sort());
    expect(allBytes(dir)).not.toContain('Desk-Pa55word');
    expect(statSync(join(dir, VAULT_FILE)).mode & 0o777).toBe(0o600);
    // A later run (a new vault over the same keyring and folder) reads it back.
    const again = await createSecretVault({ safeStorage, dir, platform: 'linux', optIn: false });
    expect(await again.get(p.id)).toBe('Desk-Pa55word');
    // Another keyring cannot decrypt it: the password is asked for again.
    const other = await createSecretVault({
      safeStorage: keyring(),
      dir,
      platform: 'linux',
      optIn: false,
    });
    expect(await other.get(p.id)).toBeNull();
    await store.delete(p.id);
    expect(await again.get(p.id)).toBeNull();
  });

  it('falls back to this session only where safeStorage would not protect the password', async () => {
    const dir = folder();
    const plain = await createSecretVault({
      safeStorage: keyring('basic_text'),
      dir,
      platform: 'linux',
      optIn: false,
    });
    expect(plain.persistent).toBe(false);
    expect(plain.note).toMatch(/^Password kept for this session only: no keyring/);
    await plain.set('x', 'Session-Pa55');
    expect(() => readdirSync(dir)).toThrow();
    const none = await createSecretVault({
      safeStorage: keyring('gnome_libsecret', false),
      dir,
      platform: 'linux',
      optIn: false,
    });
    expect(none.persistent).toBe(false);
    const opted = await createSecretVault({
      safeStorage: keyring('basic_text'),
      dir,
      platform: 'linux',
      optIn: true,
    });
    expect(opted.persistent).toBe(true);
    expect(opted.note).toMatch(/plain-text backend/);
    const mac = await createSecretVault({
      safeStorage: keyring('basic_text'),
      dir,
      platform: 'darwin',
      optIn: false,
    });
    expect(mac.persistent).toBe(true);
  });
});
