/**
 * The SQLite draft store on real files: refusals that leave the file untouched (not SQLite, not
 * a Strata workspace, newer schema, truncated, locked), WAL + synchronous=FULL, staging with one
 * active row per slot over the base, and the staged-change log as history.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore, pendingDraftMigrations } from '../../src-main/store/sqlite-store.js';
import type { StoredChange } from '../../src-main/store/store.js';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { tempDir } from './service-fixtures.js';

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function set(
  level: StoredChange['level'],
  scope: string,
  key: string,
  value: string,
  extra: Partial<StoredChange> = {},
): StoredChange {
  return {
    level,
    scope,
    key,
    action: 'set',
    value,
    valueType: 'string',
    encrypted: false,
    locked: false,
    ...extra,
  };
}

async function demoDraft(): Promise<string> {
  const path = join(tempDir(), 'demo.sqlite');
  await loadDemo(path, { codec: codecChoiceOf(null) });
  return path;
}

describe('opening draft files', () => {
  it('refuses a missing file unless asked to create one, and creates nothing on refusal', () => {
    const path = join(tempDir(), 'missing.sqlite');
    expect(() => SqliteStore.open(path)).toThrow(/^No draft workspace at .*missing\.sqlite/);
    expect(existsSync(path)).toBe(false);
    const p = pendingDraftMigrations(path);
    expect(p.pending.length).toBeGreaterThan(0);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a file that is not SQLite, untouched', () => {
    const path = join(tempDir(), 'notes.sqlite');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(10));
    const before = digest(path);
    expect(() => SqliteStore.open(path)).toThrow(
      /is not a Strata draft workspace \(it is not a SQLite database\)/,
    );
    expect(() => SqliteStore.open(path, { create: true })).toThrow(/not a SQLite database/);
    expect(digest(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('refuses an empty file and a SQLite database that is not a workspace, untouched', () => {
    const empty = join(tempDir(), 'empty.sqlite');
    writeFileSync(empty, '');
    expect(() => SqliteStore.open(empty)).toThrow(/not a SQLite database/);
    const other = join(tempDir(), 'other.sqlite');
    const db = new Database(other);
    db.exec(
      "CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO patients (name) VALUES ('x');",
    );
    db.close();
    const before = digest(other);
    expect(() => SqliteStore.open(other)).toThrow(
      /is a SQLite database but not a Strata draft workspace/,
    );
    expect(digest(other)).toBe(before);
  });

  it('refuses a workspace written by a newer schema, untouched', async () => {
    const path = await demoDraft();
    const db = new Database(path);
    db.prepare(
      "INSERT INTO strata_migrations (version, name, checksum) VALUES (999, '0999_future.sql', 'x')",
    ).run();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = digest(path);
    expect(() => SqliteStore.open(path)).toThrow(/was written by a newer Strata \(schema 999/);
    expect(digest(path)).toBe(before);
  });

  it('refuses a truncated workspace, untouched', async () => {
    const path = await demoDraft();
    const size = statSync(path).size;
    truncateSync(path, Math.floor(size / 2));
    const before = digest(path);
    expect(() => SqliteStore.open(path)).toThrow(
      /is damaged \(truncated or corrupt\) and was not opened/,
    );
    expect(digest(path)).toBe(before);
  });

  it('refuses a workspace another program holds a write lock on', async () => {
    const path = await demoDraft();
    const holder = new Database(path);
    holder.pragma('journal_mode = WAL');
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const store = SqliteStore.open(path);
      try {
        await expect(
          store.write([set('global', '', 'fax_backend', 'sip')], { operator: 'x', reason: null }),
        ).rejects.toThrow(/is locked by another program/);
      } finally {
        await store.close();
      }
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  }, 20_000);

  it('opens drafts in WAL mode with synchronous=FULL', async () => {
    const path = await demoDraft();
    const store = SqliteStore.open(path);
    try {
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
      expect(store.meta('format')).toBe('strata-draft');
      expect(store.meta('source')).toBeNull();
    } finally {
      await store.close();
    }
  });
});

describe('staging in a draft', () => {
  it('stages over the base, keeps one active row per slot, and never writes the base', async () => {
    const path = await demoDraft();
    const store = SqliteStore.open(path);
    try {
      const base = store
        .baseEntries()
        .find(
          (e) => e.level === 'tenant' && e.scope === 'mercy_hospital' && e.key === 'fax_backend',
        )!;
      expect(base.value).toBe('phaxio');
      const ctx = { operator: 'mercy_admin', reason: 'try sinch' };
      const [a] = await store.write([set('tenant', 'mercy_hospital', 'fax_backend', 'sinch')], ctx);
      expect(a).toMatchObject({
        changed: true,
        staged: true,
        before: { value: 'phaxio' },
        after: { value: 'sinch', version: base.version + 1 },
      });
      const [b] = await store.write([set('tenant', 'mercy_hospital', 'fax_backend', 'sip')], ctx);
      expect(b!.before!.value).toBe('sinch');
      expect(store.stagedChanges()).toHaveLength(1);
      expect(store.stagedChanges()[0]).toMatchObject({
        value: 'sip',
        baseVersion: base.version,
        oldValue: 'sinch',
        author: 'mercy_admin',
      });
      // Unchanged: nothing staged.
      const [c] = await store.write([set('tenant', 'mercy_hospital', 'fax_backend', 'sip')], ctx);
      expect(c!.changed).toBe(false);
      expect(store.stagedChanges({ all: true })).toHaveLength(2);
      // Back to exactly the base: the staged row is dropped, nothing new is staged.
      const [d] = await store.write(
        [set('tenant', 'mercy_hospital', 'fax_backend', 'phaxio')],
        ctx,
      );
      expect(d).toMatchObject({ changed: true, staged: false, after: { value: 'phaxio' } });
      expect(store.stagedChanges()).toHaveLength(0);
      expect(
        store
          .baseEntries()
          .find(
            (e) => e.level === 'tenant' && e.scope === 'mercy_hospital' && e.key === 'fax_backend',
          )!.value,
      ).toBe('phaxio');
      // Unset stages a removal; the snapshot no longer has the slot.
      await store.write(
        [{ ...set('tenant', 'mercy_hospital', 'fax_backend', ''), action: 'unset', value: null }],
        ctx,
      );
      const snap = await store.snapshot();
      expect(
        snap.entries.some(
          (e) => e.level === 'tenant' && e.scope === 'mercy_hospital' && e.key === 'fax_backend',
        ),
      ).toBe(false);
      expect(snap.stagedSlots).toEqual([
        { level: 'tenant', scope: 'mercy_hospital', key: 'fax_backend' },
      ]);
      const history = await store.history({ key: 'fax_backend' });
      expect(history.map((h) => [h.changeType, h.status, h.oldValue, h.newValue])).toEqual([
        ['delete', 'staged', 'phaxio', null],
        ['update', 'discarded', 'sinch', 'sip'],
        ['update', 'discarded', 'phaxio', 'sinch'],
      ]);
    } finally {
      await store.close();
    }
  });

  it('checks expected versions and stages nothing of a batch with a conflict', async () => {
    const path = await demoDraft();
    const store = SqliteStore.open(path);
    try {
      const ctx = { operator: 'x', reason: null };
      await expect(
        store.write(
          [
            set('global', '', 'ui.theme', 'dark', { expectedVersion: 1 }),
            set('global', '', 'fax_backend', 'sip', { expectedVersion: 7 }),
          ],
          ctx,
        ),
      ).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringContaining('fax_backend (global)'),
      });
      expect(store.stagedCount()).toBe(0);
      await expect(
        store.write(
          [set('global', '', 'fax_backend', 'sip'), set('global', '', 'fax_backend', 'sinch')],
          ctx,
        ),
      ).rejects.toMatchObject({
        code: 'invalid',
        message: expect.stringContaining('more than once'),
      });
    } finally {
      await store.close();
    }
  });
});
