/**
 * The rows of a draft's base tables: one shape per table (the columns that name a row and the
 * columns compared and written), the multi-row INSERT that loads them, and the comparison that
 * brings a table in line with a new base by writing only the rows that differ.
 *
 * A pull into a new draft loads empty tables. The refresh after a push and a pull into an
 * existing draft (a rebase) read the whole target too, but into a base that already holds most
 * of those rows: the refresh after a push of 10,000 changes finds the pushed rows already in
 * place (the push wrote them) and rewrote some 460,000 unchanged rows before. Now each table is
 * compared with what it holds and only removed, changed and added rows are written. The tables
 * end up as emptying them and loading the new base would leave them, row for row, except
 * created_at, which records when a row entered the draft.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { categoryOf } from '../core/keys.js';
import { LEVELS, StrataError } from '../core/types.js';
import type {
  ConfigEntry,
  Department,
  Directory,
  DirectoryUser,
  Group,
  Level,
  Tenant,
} from '../core/types.js';
import { LEVEL_TABLES } from '../store/store.js';
import type { DirectoryUpsert } from '../store/store.js';

/** A base table: the columns that name a row, then the columns compared and written. */
export interface TableShape {
  readonly table: string;
  readonly keys: readonly string[];
  readonly values: readonly string[];
}

export const TENANTS: TableShape = {
  table: 'tenants',
  keys: ['id'],
  values: ['name', 'tenant_type'],
};
export const DEPARTMENTS: TableShape = {
  table: 'departments',
  keys: ['tenant_id', 'id'],
  values: ['name'],
};
export const GROUPS: TableShape = {
  table: 'groups',
  keys: ['id'],
  values: ['tenant_id', 'department', 'name'],
};
export const USERS: TableShape = {
  table: 'users',
  keys: ['id'],
  values: ['tenant_id', 'department', 'display_name', 'email', 'traits', 'db_role'],
};

// Rows of a shape as the draft stores them: keys, then values (null for an absent field).
const tenantRow = (t: Tenant): unknown[] => [t.id, t.name, t.tenantType ?? null];
const departmentRow = (d: Department): unknown[] => [d.tenantId, d.id, d.name];
const groupRow = (g: Group): unknown[] => [g.id, g.tenantId ?? null, g.department ?? null, g.name];
const userRow = (u: DirectoryUser): unknown[] => [
  u.id,
  u.tenantId ?? null,
  u.department ?? null,
  u.displayName ?? null,
  u.email ?? null,
  JSON.stringify(u.traits ?? []),
  u.dbRole ?? null,
];

/** A level's table: its scope columns and the key; the entry fields (and global's category). */
export function entryShape(level: Level): TableShape {
  const t = LEVEL_TABLES[level];
  return {
    table: t.table,
    keys: [...t.scopeColumns, 'key'],
    values: [
      'value',
      'value_type',
      'encrypted',
      'locked',
      'version',
      'updated_at',
      'updated_by',
      ...(level === 'global' ? ['category'] : []),
    ],
  };
}

/** An entry as a row of its level's shape. */
export function entryRow(e: ConfigEntry): unknown[] {
  const row: unknown[] = [
    ...LEVEL_TABLES[e.level].split(e.scope),
    e.key,
    e.value,
    e.valueType,
    e.encrypted ? 1 : 0,
    e.locked ? 1 : 0,
    e.version,
    e.updatedAt,
    e.updatedBy,
  ];
  if (e.level === 'global') row.push(categoryOf(e.key));
  return row;
}

/** A text as an SQL literal. */
export function sqlText(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

// Rows per multi-row INSERT: one statement execution carries this many rows, which is where
// most of a row-at-a-time insert's cost went; more rows per statement stopped paying off.
const BATCH_ROWS = 64;

/** A multi-row INSERT over flat rows (rows laid end to end), its statements prepared once. */
export class BatchInsert {
  private readonly statements = new Map<number, BetterSqlite3.Statement>();
  private readonly width: number;
  private readonly row: string;

  /** `literals` are SQL literals appended to every row (the same value for all of them). */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly table: string,
    private readonly columns: readonly string[],
    literals: readonly string[] = [],
  ) {
    this.width = columns.length - literals.length;
    this.row = `(${[...Array.from({ length: this.width }, () => '?'), ...literals].join(', ')})`;
  }

  /** A shape's table with created_at set to `at` on every row. */
  static of(db: BetterSqlite3.Database, shape: TableShape, at: string): BatchInsert {
    return new BatchInsert(
      db,
      shape.table,
      [...shape.keys, ...shape.values, 'created_at'],
      [sqlText(at)],
    );
  }

  private statement(rows: number): BetterSqlite3.Statement {
    let st = this.statements.get(rows);
    if (st === undefined) {
      st = this.db.prepare(
        `INSERT INTO ${this.table} (${this.columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => this.row).join(', ')}`,
      );
      this.statements.set(rows, st);
    }
    return st;
  }

  /** Inserts every row of `flat`; returns how many. */
  run(flat: readonly unknown[]): number {
    const w = this.width;
    const n = flat.length / w;
    if (!Number.isInteger(n)) {
      throw new StrataError('internal', `A chunk of ${this.table} rows has a partial row.`);
    }
    const full = this.statement(BATCH_ROWS);
    let r = 0;
    for (; r + BATCH_ROWS <= n; r += BATCH_ROWS) full.run(flat.slice(r * w, (r + BATCH_ROWS) * w));
    if (r < n) this.statement(n - r).run(flat.slice(r * w));
    return n;
  }
}

/** How a table differs from a new set of rows. */
interface TableDiff {
  /** Rows the table does not hold (whole rows: keys, then values). */
  added: unknown[][];
  /** Rows it holds with other values (whole new rows). */
  changed: unknown[][];
  /** Keys of rows it holds that the new set does not have. */
  removed: unknown[][];
}

const SEP = '\u0000';

function rowId(r: readonly unknown[], keys: number): string {
  if (keys === 1) return String(r[0]);
  if (keys === 2) return `${String(r[0])}${SEP}${String(r[1])}`;
  return r.slice(0, keys).join(SEP);
}

/** Compares a table with `incoming` (rows of its shape). Reads only. */
function diffTable(
  db: BetterSqlite3.Database,
  shape: TableShape,
  incoming: readonly unknown[][],
): TableDiff {
  const k = shape.keys.length;
  const width = k + shape.values.length;
  const held = new Map<string, unknown[]>();
  const rows = db
    .prepare(`SELECT ${[...shape.keys, ...shape.values].join(', ')} FROM ${shape.table}`)
    .raw()
    .all() as unknown[][];
  for (const r of rows) held.set(rowId(r, k), r);
  const out: TableDiff = { added: [], changed: [], removed: [] };
  for (const r of incoming) {
    const id = rowId(r, k);
    const h = held.get(id);
    if (h === undefined) {
      out.added.push(r);
      continue;
    }
    held.delete(id);
    for (let i = k; i < width; i++) {
      if (h[i] !== r[i]) {
        out.changed.push(r);
        break;
      }
    }
  }
  for (const h of held.values()) out.removed.push(h.slice(0, k));
  return out;
}

function whereKeys(shape: TableShape): string {
  return shape.keys.map((c) => `${c} = ?`).join(' AND ');
}

/** Deletes the rows of a shape's table named by their keys (one statement, prepared once). */
export function deleteRows(db: BetterSqlite3.Database, shape: TableShape, keys: unknown[][]): void {
  if (keys.length === 0) return;
  const st = db.prepare(`DELETE FROM ${shape.table} WHERE ${whereKeys(shape)}`);
  for (const k of keys) st.run(k);
}

function updateRows(db: BetterSqlite3.Database, shape: TableShape, rows: unknown[][]): void {
  if (rows.length === 0) return;
  const k = shape.keys.length;
  const st = db.prepare(
    `UPDATE ${shape.table} SET ${shape.values.map((c) => `${c} = ?`).join(', ')} WHERE ${whereKeys(shape)}`,
  );
  for (const r of rows) st.run([...r.slice(k), ...r.slice(0, k)]);
}

function insertRows(
  db: BetterSqlite3.Database,
  shape: TableShape,
  rows: unknown[][],
  at: string,
): void {
  if (rows.length > 0) BatchInsert.of(db, shape, at).run(rows.flat());
}

/** Inserts rows of a shape, or updates the values of those the table already holds. */
export function upsertRows(
  db: BetterSqlite3.Database,
  shape: TableShape,
  rows: readonly unknown[][],
  at: string,
): void {
  if (rows.length === 0) return;
  const cols = [...shape.keys, ...shape.values, 'created_at'];
  const st = db.prepare(
    `INSERT INTO ${shape.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
     ON CONFLICT (${shape.keys.join(', ')}) DO UPDATE SET
       ${shape.values.map((c) => `${c} = excluded.${c}`).join(', ')}`,
  );
  for (const r of rows) st.run([...r, at]);
}

/**
 * Upserts directory rows into a draft's directory tables (staged rows, or their undoing); a
 * user's groups replace that user's memberships.
 */
export function upsertDirectorySync(
  db: BetterSqlite3.Database,
  dir: DirectoryUpsert,
  at: string,
): void {
  upsertRows(db, TENANTS, (dir.tenants ?? []).map(tenantRow), at);
  upsertRows(db, DEPARTMENTS, (dir.departments ?? []).map(departmentRow), at);
  upsertRows(db, GROUPS, (dir.groups ?? []).map(groupRow), at);
  const users = dir.users ?? [];
  if (users.length === 0) return;
  upsertRows(db, USERS, users.map(userRow), at);
  const clear = db.prepare('DELETE FROM group_members WHERE user_id = ?');
  for (const u of users) clear.run(u.id);
  insertMemberships(db, users);
}

/**
 * Brings the five level tables in line with `entries`, writing only the rows that differ;
 * `progress` gets the number of entries compared after each level.
 */
export function syncEntriesSync(
  db: BetterSqlite3.Database,
  entries: readonly ConfigEntry[],
  at: string,
  progress?: (done: number) => void,
): void {
  const perLevel = new Map<Level, unknown[][]>(LEVELS.map((l) => [l, []]));
  for (const e of entries) perLevel.get(e.level)!.push(entryRow(e));
  let done = 0;
  for (const [level, rows] of perLevel) {
    const shape = entryShape(level);
    const d = diffTable(db, shape, rows);
    deleteRows(db, shape, d.removed);
    updateRows(db, shape, d.changed);
    insertRows(db, shape, d.added, at);
    done += rows.length;
    progress?.(done);
  }
}

/** Inserts the users' memberships (user, group, position), which the table does not hold. */
function insertMemberships(db: BetterSqlite3.Database, users: readonly DirectoryUser[]): void {
  const flat: unknown[] = [];
  for (const u of users) (u.groups ?? []).forEach((g, i) => flat.push(u.id, g, i));
  new BatchInsert(db, 'group_members', ['user_id', 'group_id', 'position']).run(flat);
}

/** Users whose group list differs from what the draft holds, with their new memberships. */
function membershipChanges(
  db: BetterSqlite3.Database,
  users: readonly DirectoryUser[],
): Map<string, DirectoryUser | null> {
  const held = new Map<string, string>();
  const rows = db
    .prepare('SELECT user_id, group_id, position FROM group_members ORDER BY user_id, position')
    .raw()
    .all() as Array<[string, string, number]>;
  for (const [user, group, position] of rows) {
    const link = `${position}:${group}`;
    const had = held.get(user);
    held.set(user, had === undefined ? link : had + SEP + link);
  }
  const out = new Map<string, DirectoryUser | null>();
  for (const u of users) {
    const list = (u.groups ?? []).map((g, i) => `${i}:${g}`).join(SEP);
    if (list !== (held.get(u.id) ?? '')) out.set(u.id, u);
    held.delete(u.id);
  }
  // Users the new directory no longer has (their rows go with them).
  for (const id of held.keys()) out.set(id, null);
  return out;
}

/** Writes a directory into EMPTY directory tables (a new draft): multi-row inserts. */
export function writeDirectoryFreshSync(
  db: BetterSqlite3.Database,
  dir: Directory,
  at: string,
): void {
  insertRows(db, TENANTS, dir.tenants.map(tenantRow), at);
  insertRows(db, DEPARTMENTS, dir.departments.map(departmentRow), at);
  insertRows(db, GROUPS, dir.groups.map(groupRow), at);
  insertRows(db, USERS, dir.users.map(userRow), at);
  insertMemberships(db, dir.users);
}

/**
 * Brings the directory tables in line with `dir`, writing only the rows that differ, in the
 * order the foreign keys need: rows that refer to others leave first, rows referred to arrive
 * first, and a tenant leaves only once nothing that stays refers to it.
 */
export function syncDirectorySync(db: BetterSqlite3.Database, dir: Directory, at: string): void {
  const tenants = diffTable(db, TENANTS, dir.tenants.map(tenantRow));
  const departments = diffTable(db, DEPARTMENTS, dir.departments.map(departmentRow));
  const groups = diffTable(db, GROUPS, dir.groups.map(groupRow));
  const users = diffTable(db, USERS, dir.users.map(userRow));
  const members = membershipChanges(db, dir.users);

  const clear = db.prepare('DELETE FROM group_members WHERE user_id = ?');
  for (const id of members.keys()) clear.run(id);
  // A database role may pass from one user to another in one refresh (db_role is UNIQUE):
  // every changed user gives up its role before any user takes one.
  const free = db.prepare('UPDATE users SET db_role = NULL WHERE id = ?');
  for (const r of users.changed) free.run(r[0]);
  deleteRows(db, USERS, users.removed);
  deleteRows(db, GROUPS, groups.removed);
  deleteRows(db, DEPARTMENTS, departments.removed);
  for (const [shape, d] of [
    [TENANTS, tenants],
    [DEPARTMENTS, departments],
    [GROUPS, groups],
    [USERS, users],
  ] as const) {
    updateRows(db, shape, d.changed);
    insertRows(db, shape, d.added, at);
  }
  deleteRows(db, TENANTS, tenants.removed);
  const joined = [...members.values()].filter((u): u is DirectoryUser => u !== null);
  insertMemberships(db, joined);
}

/**
 * The CHECK constraints of a CREATE TABLE statement (column and table constraints alike), as
 * SQL expressions. Only the schema's own SQL is read here (sqlite_master), so a small scanner
 * that knows quoted strings and nested parentheses is enough.
 */
export function checkConstraintsOf(createSql: string): string[] {
  const out: string[] = [];
  const word = /\bCHECK\s*\(/gi;
  for (let m = word.exec(createSql); m !== null; m = word.exec(createSql)) {
    const open = m.index + m[0].length - 1;
    let depth = 0;
    let quote: string | null = null;
    let end = -1;
    for (let i = open; i < createSql.length && end < 0; i++) {
      const ch = createSql[i]!;
      if (quote !== null) {
        if (ch === quote) quote = null;
      } else if (ch === "'" || ch === '"') {
        quote = ch;
      } else if (ch === '(') {
        depth++;
      } else if (ch === ')' && --depth === 0) {
        end = i;
      }
    }
    if (end < 0)
      throw new StrataError('internal', 'A CHECK constraint of the schema is not closed.');
    out.push(createSql.slice(open + 1, end).trim());
    word.lastIndex = end + 1;
  }
  return out;
}

/**
 * The CHECK constraints of `tables` that their rows break, with how many rows break each: the
 * same test SQLite applies to a row on insert (a constraint fails when its expression is 0 as a
 * NUMERIC; NULL passes), one scan per table. Used after a load written with
 * ignore_check_constraints, which is a third faster than checking row by row.
 */
export function brokenChecks(
  db: BetterSqlite3.Database,
  tables: readonly string[],
): Array<{ table: string; check: string; rows: number }> {
  const out: Array<{ table: string; check: string; rows: number }> = [];
  const schema = db
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (${tables.map(() => '?').join(', ')})`,
    )
    .all(...tables) as Array<{ name: string; sql: string }>;
  for (const { name, sql } of schema) {
    const checks = checkConstraintsOf(sql);
    if (checks.length === 0) continue;
    const counts = db
      .prepare(
        `SELECT ${checks.map((c) => `coalesce(sum(CAST((${c}) AS NUMERIC) = 0), 0)`).join(', ')} FROM "${name}"`,
      )
      .raw()
      .get() as number[];
    counts.forEach((rows, i) => {
      if (rows > 0) out.push({ table: name, check: checks[i]!, rows });
    });
  }
  return out;
}
