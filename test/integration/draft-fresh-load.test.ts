/**
 * The fresh load of a pull writes its rows with SQLite's CHECK constraints switched off and then
 * tests every CHECK of the base tables once per table. These tests show that nothing a CHECK
 * refuses gets into a draft that way: a row that breaks one fails the whole load with a sentence
 * naming the table and the rule, and the constraints are back on after a load.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConstraintsOf } from '../../src-main/services/draft-base-rows.js';
import {
  DraftWorkspace,
  FreshBaseLoader,
  flatWidth,
} from '../../src-main/services/draft-workspace.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-fresh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EMPTY_REST = {
  directory: { tenants: [], departments: [], groups: [], users: [] },
  metadata: [],
  templates: [],
};
const FROM = { source: 'postgres://test/db', environment: null, pulledAt: '2026-01-01T00:00:00Z' };

/** A user-level entry as a flat row: user id, then the FLAT_ENTRY_FIELDS. */
function userRow(userId: string, key: string, valueType = 'string'): unknown[] {
  return [userId, key, 'v', valueType, 0, 0, 1, '2026-01-01T00:00:00Z', 'seed'];
}

/**
 * Loads rows into a new draft file and returns whether the loading connection checks CHECK
 * constraints again afterwards; throws what finish() threw.
 */
async function load(name: string, rows: unknown[][]): Promise<{ file: string; checks: boolean }> {
  const file = join(dir, name);
  const store = SqliteStore.open(file, { create: true });
  try {
    const loader = FreshBaseLoader.begin(DraftWorkspace.wrap(store));
    try {
      loader.addRest(EMPTY_REST);
      loader.addEntries('user', rows.flat());
      loader.finish(FROM);
    } catch (err) {
      loader.abort();
      throw err;
    }
    return { file, checks: store.db.pragma('ignore_check_constraints', { simple: true }) === 0 };
  } finally {
    await store.close();
  }
}

describe('the CHECK constraints of a fresh load', () => {
  it('reads every CHECK of a table, nested parentheses and quoted strings included', () => {
    const sql = readFileSync(join('migrations', 'sqlite', '0001_core.sql'), 'utf8');
    const start = sql.indexOf('CREATE TABLE config_user');
    const table = sql.slice(start, sql.indexOf(') STRICT;', start) + 1);
    expect(checkConstraintsOf(table)).toEqual([
      'length(user_id) <= 100',
      'length(key) BETWEEN 1 AND 200',
      "value_type IN ('string', 'number', 'boolean', 'json')",
      'encrypted IN (0, 1)',
      'locked IN (0, 1)',
    ]);
    expect(
      checkConstraintsOf("CREATE TABLE t (a TEXT CHECK (a <> ')' AND (length(a) > 1)), CHECK(1))"),
    ).toEqual(["a <> ')' AND (length(a) > 1)", '1']);
  });

  it('loads valid rows, and the constraints hold again afterwards', async () => {
    expect(flatWidth('user')).toBe(userRow('u', 'k').length);
    const { file, checks } = await load('valid.sqlite', [
      userRow('u1', 'ui.theme'),
      userRow('u2', 'ui.theme'),
    ]);
    expect(checks).toBe(true);
    const db = new Database(file);
    try {
      expect(db.prepare('SELECT count(*) FROM config_user').pluck().get()).toBe(2);
      expect(() =>
        db.prepare("INSERT INTO config_user (user_id, key, value) VALUES ('u3', '', 'v')").run(),
      ).toThrow(/CHECK constraint failed/);
    } finally {
      db.close();
    }
  });

  it('refuses the whole load for one row that breaks a CHECK, naming the table and the rule', async () => {
    const rows = [userRow('u1', 'ui.theme'), userRow('u2', ''), userRow('u3', 'x', 'date')];
    await expect(load('broken.sqlite', rows)).rejects.toMatchObject({
      code: 'invalid',
      message:
        "The source holds rows a draft cannot keep: 1 row(s) of config_user break CHECK (length(key) BETWEEN 1 AND 200); 1 row(s) of config_user break CHECK (value_type IN ('string', 'number', 'boolean', 'json')). Nothing was written.",
    });
  });
});
