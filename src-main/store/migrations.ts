/**
 * Migration runner: plain numbered SQL files under migrations/<dialect>/, applied in order, each
 * in its own transaction together with its row in strata_migrations (version, name, checksum,
 * applied_at). Running it twice does nothing the second time. A file whose checksum no longer
 * matches what was applied, or an applied version this build does not know, stops the run:
 * hospital DBAs review SQL before it touches production, so history is never rewritten silently.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import type BetterSqlite3 from 'better-sqlite3';
import { StrataError } from '../core/types.js';
import { shippedPath } from './package-root.js';

/** The SQL dialects Strata ships migrations for. */
export type Dialect = 'postgres' | 'sqlite';

/** One migration file on disk. */
export interface MigrationFile {
  version: number;
  /** File name, e.g. `0001_core.sql`. */
  name: string;
  sql: string;
  /** sha256 (hex) of the file with line endings normalised to LF. */
  checksum: string;
}

/** One row of strata_migrations. */
export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: string;
}

/** What a database has and lacks, compared with the files. */
export interface MigrationStatus {
  applied: AppliedMigration[];
  pending: MigrationFile[];
}

/** Outcome of a migrate run (or of a --print run, which applies nothing). */
export interface MigrateResult {
  dialect: Dialect;
  /** File names applied by this run (empty for --print). */
  applied: string[];
  /** File names that were pending when the run started. */
  pending: string[];
  /** With print: the exact SQL a migrate run would execute. */
  sql?: string;
}

/** Options for migrate runs. */
export interface MigrateOptions {
  /** Return the pending SQL without applying it. */
  print?: boolean;
  /** Folder holding the numbered .sql files (defaults to the shipped migrations/<dialect>). */
  dir?: string;
}

const FILE_RE = /^(\d{4})_([A-Za-z0-9_-]+)\.sql$/;
// Arbitrary constant: serialises concurrent `strata db migrate` runs against one database.
const PG_LOCK_KEY = 727_351_001;

const CREATE_TABLE: Record<Dialect, string> = {
  postgres: `CREATE TABLE IF NOT EXISTS strata_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);`,
  sqlite: `CREATE TABLE IF NOT EXISTS strata_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;`,
};

/** Absolute path of the shipped migrations folder for a dialect. */
export function migrationsDir(dialect: Dialect): string {
  const dir = shippedPath(join('migrations', dialect));
  if (!dir) {
    throw new StrataError(
      'internal',
      `The ${dialect} migrations folder is missing from this installation.`,
    );
  }
  return dir;
}

/** sha256 of SQL text, insensitive to CRLF/LF so a Windows checkout does not look like drift. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

/** Reads the numbered migration files of a dialect, in version order. */
export function readMigrations(dialect: Dialect, dir?: string): MigrationFile[] {
  const folder = dir ?? migrationsDir(dialect);
  const files: MigrationFile[] = [];
  const seen = new Map<number, string>();
  for (const name of readdirSync(folder).sort()) {
    if (!name.endsWith('.sql')) continue;
    const m = FILE_RE.exec(name);
    if (!m) {
      throw new StrataError(
        'internal',
        `Migration file ${name} is not named NNNN_name.sql, so its order is unknown.`,
      );
    }
    const version = Number(m[1]);
    const clash = seen.get(version);
    if (clash) {
      throw new StrataError(
        'internal',
        `Migrations ${clash} and ${name} share version ${version}.`,
      );
    }
    seen.set(version, name);
    const sql = readFileSync(join(folder, name), 'utf8');
    files.push({ version, name, sql, checksum: checksumOf(sql) });
  }
  return files.sort((a, b) => a.version - b.version);
}

/** Compares applied rows with the files; throws on drift or on versions this build lacks. */
export function compareMigrations(
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
): MigrationStatus {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of applied) {
    const file = byVersion.get(row.version);
    if (!file) {
      throw new StrataError(
        'conflict',
        `The database has migration ${row.name} that this version of Strata does not know; use a newer Strata.`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new StrataError(
        'conflict',
        `Migration ${file.name} was changed after it was applied (checksum ${row.checksum.slice(0, 12)} in the database, ${file.checksum.slice(0, 12)} on disk); restore the file and add a new numbered migration instead.`,
      );
    }
  }
  const done = new Set(applied.map((a) => a.version));
  return { applied: [...applied], pending: files.filter((f) => !done.has(f.version)) };
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function recordSql(file: MigrationFile): string {
  return `INSERT INTO strata_migrations (version, name, checksum) VALUES (${file.version}, ${quoteLiteral(file.name)}, ${quoteLiteral(file.checksum)});`;
}

/** The statements that apply one migration, as one transaction (identical for print and apply). */
function migrationScript(file: MigrationFile): string {
  const body = file.sql.replace(/\r\n/g, '\n').trimEnd();
  return `-- ${file.name} (sha256 ${file.checksum})\nBEGIN;\n${body}\n${recordSql(file)}\nCOMMIT;\n`;
}

/** The exact SQL a migrate run would execute for these pending files. */
export function renderPendingSql(dialect: Dialect, pending: readonly MigrationFile[]): string {
  if (pending.length === 0)
    return `-- Strata (${dialect}): the database is up to date; nothing to apply.\n`;
  const head = `-- Strata (${dialect}): ${pending.length} pending migration(s): ${pending.map((p) => p.name).join(', ')}\n${CREATE_TABLE[dialect]}\n`;
  return [head, ...pending.map(migrationScript)].join('\n');
}

function toApplied(
  rows: Array<{ version: number | string; name: string; checksum: string; applied_at: unknown }>,
): AppliedMigration[] {
  return rows.map((r) => ({
    version: Number(r.version),
    name: r.name,
    checksum: r.checksum,
    appliedAt: r.applied_at instanceof Date ? r.applied_at.toISOString() : String(r.applied_at),
  }));
}

/** Applied migrations of a PostgreSQL database (empty when it was never migrated). */
export async function appliedPostgres(client: pg.ClientBase): Promise<AppliedMigration[]> {
  const exists = await client.query<{ t: string | null }>(
    "SELECT to_regclass('strata_migrations')::text AS t",
  );
  if (!exists.rows[0]?.t) return [];
  const r = await client.query<{
    version: number;
    name: string;
    checksum: string;
    applied_at: unknown;
  }>('SELECT version, name, checksum, applied_at FROM strata_migrations ORDER BY version');
  return toApplied(r.rows);
}

/** Applied migrations of a SQLite database (empty when it was never migrated). */
export function appliedSqlite(db: BetterSqlite3.Database): AppliedMigration[] {
  const t = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'strata_migrations'")
    .get();
  if (!t) return [];
  const rows = db
    .prepare('SELECT version, name, checksum, applied_at FROM strata_migrations ORDER BY version')
    .all() as Array<{ version: number; name: string; checksum: string; applied_at: string }>;
  return toApplied(rows);
}

/** Migrates a PostgreSQL database (or, with print, returns the pending SQL and changes nothing). */
export async function migratePostgres(
  client: pg.ClientBase,
  opts: MigrateOptions = {},
): Promise<MigrateResult> {
  const files = readMigrations('postgres', opts.dir);
  if (opts.print) {
    const status = compareMigrations(files, await appliedPostgres(client));
    return {
      dialect: 'postgres',
      applied: [],
      pending: status.pending.map((p) => p.name),
      sql: renderPendingSql('postgres', status.pending),
    };
  }
  await client.query('SELECT pg_advisory_lock($1)', [PG_LOCK_KEY]);
  try {
    await client.query(CREATE_TABLE.postgres);
    const status = compareMigrations(files, await appliedPostgres(client));
    const applied: string[] = [];
    for (const file of status.pending) {
      try {
        await client.query(migrationScript(file));
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new StrataError(
          'internal',
          `Migration ${file.name} failed and was rolled back: ${(err as Error).message}`,
        );
      }
      applied.push(file.name);
    }
    return { dialect: 'postgres', applied, pending: status.pending.map((p) => p.name) };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PG_LOCK_KEY]).catch(() => undefined);
  }
}

/** Migrates a SQLite database (or, with print, returns the pending SQL and changes nothing). */
export function migrateSqlite(
  db: BetterSqlite3.Database,
  opts: MigrateOptions = {},
): MigrateResult {
  const files = readMigrations('sqlite', opts.dir);
  if (opts.print) {
    const status = compareMigrations(files, appliedSqlite(db));
    return {
      dialect: 'sqlite',
      applied: [],
      pending: status.pending.map((p) => p.name),
      sql: renderPendingSql('sqlite', status.pending),
    };
  }
  db.exec(CREATE_TABLE.sqlite);
  const status = compareMigrations(files, appliedSqlite(db));
  const applied: string[] = [];
  for (const file of status.pending) {
    try {
      db.exec(migrationScript(file));
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw new StrataError(
        'internal',
        `Migration ${file.name} failed and was rolled back: ${(err as Error).message}`,
      );
    }
    applied.push(file.name);
  }
  return { dialect: 'sqlite', applied, pending: status.pending.map((p) => p.name) };
}
