/**
 * PostgreSQL store (production: writes are live). Bulk reads use one query per table in
 * parallel over a small pool with array rows; writes are multi-row statements over unnest(...)
 * in ONE transaction that sets strata.operator / strata.reason / strata.push_id, so the audit
 * triggers of 0001_core.sql record who, old, new and why in that same transaction.
 */
import pg from 'pg';
import { categoryOf } from '../core/keys.js';
import { LEVELS, StrataError } from '../core/types.js';
import type {
  ConfigEntry,
  Directory,
  DirectoryUser,
  KeyMetadata,
  Level,
  Slot,
} from '../core/types.js';
import { DIRECTORY_AUDIT_KINDS } from '../services/types.js';
import type {
  AuditRecord,
  DirectoryAuditRecord,
  DirectoryHistoryFilter,
  HistoryFilter,
} from '../services/types.js';
import { appliedPostgres, compareMigrations, readMigrations } from './migrations.js';
import {
  asLevel,
  auditFromRow,
  directoryAuditFromRow,
  directoryFromRows,
  entryFromRow,
  metadataColumns,
  metadataFromRow,
} from './sql-rows.js';
import type { AuditRow, DirectoryRows, EntryRow, MetadataRow } from './sql-rows.js';
import { assertNoDuplicateSlots, conflictError, describeSlot, sameStored } from './sqlite-store.js';
import { LEVEL_TABLES, redactUrl, slotKey } from './store.js';
import type {
  AppliedChange,
  BaseData,
  DirectoryUpsert,
  Snapshot,
  Store,
  StoreIdentity,
  StoredChange,
  StoredTemplate,
  WriteContext,
} from './store.js';

const OID_INT8 = 20;
const OID_TIMESTAMP = 1114;
const OID_TIMESTAMPTZ = 1184;

// Rows per multi-row statement: big enough to amortise the round trip, small enough to keep
// one statement's parameter text well below a few MiB.
const CHUNK = 20_000;

/** Sessions run in UTC, so timestamptz text is '2025-01-01 10:00:00.123456+00'. */
function isoTimestamp(s: string): string {
  const t = s.replace(' ', 'T');
  return t.endsWith('+00') ? `${t.slice(0, -3)}Z` : t;
}

const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === OID_TIMESTAMPTZ || oid === OID_TIMESTAMP) return isoTimestamp;
    if (oid === OID_INT8) return Number;
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};

function scopeExpr(level: Level, alias = ''): string {
  const a = alias ? `${alias}.` : '';
  switch (level) {
    case 'global':
      return "''::text";
    case 'department':
      return `(${a}tenant_id || '/' || ${a}department)::text`;
    default:
      return `${a}${LEVEL_TABLES[level].scopeColumns[0]!}::text`;
  }
}

const ENTRY_COLS =
  'key::text, value, value_type::text, encrypted, locked, version, updated_at, updated_by';

/** Clear one-sentence messages for connection failures (no stack, no password). */
function connectError(target: string, err: unknown): StrataError {
  const e = err as { code?: string; message?: string };
  const why =
    e.code === 'ECONNREFUSED'
      ? 'the server refused the connection'
      : e.code === 'ENOTFOUND'
        ? 'the host name does not resolve'
        : e.code === '28P01' || e.code === '28000'
          ? 'authentication failed'
          : e.code === '3D000'
            ? 'the database does not exist'
            : (e.message ?? 'unknown error').replace(/\.$/, '');
  return new StrataError('invalid', `Cannot connect to ${target}: ${why}.`);
}

/** Options for opening a PostgreSQL target. */
export interface OpenPostgresOptions {
  /** Refuse a database with pending migrations (default true; `db migrate` passes false). */
  requireMigrated?: boolean;
  /** Pool size (default 4: parallel bulk reads on 2-core machines gain little beyond that). */
  poolSize?: number;
}

/** A live PostgreSQL configuration database. */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly target: string;
  readonly pool: pg.Pool;

  private constructor(target: string, pool: pg.Pool) {
    this.target = target;
    this.pool = pool;
  }

  /** Connects (and by default checks that every migration has been applied). */
  static async open(url: string, opts: OpenPostgresOptions = {}): Promise<PostgresStore> {
    const target = redactUrl(url);
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 4,
      types: typeParsers,
      options: '-c TimeZone=UTC',
      application_name: 'strata',
      connectionTimeoutMillis: 10_000,
    });
    // An idle client's error (server restart) must not crash the process.
    pool.on('error', () => undefined);
    const store = new PostgresStore(target, pool);
    try {
      const client = await pool.connect().catch((err: unknown) => {
        throw connectError(target, err);
      });
      try {
        if (opts.requireMigrated !== false) {
          const status = compareMigrations(
            readMigrations('postgres'),
            await appliedPostgres(client),
          );
          if (status.pending.length > 0) {
            const names = status.pending.map((p) => p.name).join(', ');
            throw new StrataError(
              'invalid',
              `The database at ${target} is not migrated (pending: ${names}); run \`strata db migrate\` first.`,
            );
          }
        }
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  async identity(): Promise<StoreIdentity> {
    const r = await this.pool.query<{ role: string; superuser: boolean }>(
      'SELECT current_user::text AS role, coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser',
    );
    return { role: r.rows[0]!.role, superuser: r.rows[0]!.superuser };
  }

  private async rows<T>(text: string, values?: unknown[]): Promise<T[]> {
    const r = await this.pool.query({ text, values, rowMode: 'array' });
    return r.rows as T[];
  }

  private entriesQuery(level: Level): string {
    return `SELECT ${scopeExpr(level)}, ${ENTRY_COLS} FROM ${LEVEL_TABLES[level].table}`;
  }

  async snapshot(): Promise<Snapshot> {
    const [perLevel, directory, metadata] = await Promise.all([
      Promise.all(LEVELS.map((l) => this.levelEntries(l))),
      this.readDirectory(),
      this.readMetadata(),
    ]);
    const entries: ConfigEntry[] = [];
    for (const list of perLevel) for (const e of list) entries.push(e);
    return { entries, directory, metadata, stagedSlots: [] };
  }

  /**
   * Every entry of one level, converted row by row as the rows arrive: a row array dies young
   * instead of surviving until the whole result is in, which halves the garbage collector's
   * copying on a large table.
   */
  private async levelEntries(level: Level): Promise<ConfigEntry[]> {
    const client = await this.pool.connect();
    try {
      const out: ConfigEntry[] = [];
      const config: pg.QueryArrayConfig = { text: this.entriesQuery(level), rowMode: 'array' };
      const query = new pg.Query(config);
      query.on('row', (r: unknown) => {
        out.push(entryFromRow(level, r as EntryRow));
      });
      await new Promise<void>((resolve, reject) => {
        query.once('end', () => resolve());
        query.once('error', reject);
        client.query(query);
      });
      return out;
    } finally {
      client.release();
    }
  }

  async readEntries(slots: readonly Slot[]): Promise<ConfigEntry[]> {
    const out: ConfigEntry[] = [];
    for (const level of LEVELS) {
      const mine = slots.filter((s) => s.level === level);
      if (mine.length === 0) continue;
      const rows = await this.rows<EntryRow>(...selectSlots(level, mine, false));
      for (const r of rows) out.push(entryFromRow(level, r));
    }
    return out;
  }

  /** Applies changes live in one transaction; audit rows come from the triggers. */
  async write(changes: readonly StoredChange[], ctx: WriteContext): Promise<AppliedChange[]> {
    assertNoDuplicateSlots(changes);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await setWriteContext(client, ctx);
      const results: AppliedChange[] = [];
      const conflicts: string[] = [];
      for (const level of LEVELS) {
        const mine = changes.filter((c) => c.level === level);
        if (mine.length === 0) continue;
        const q = selectSlots(level, mine, true);
        const existing = await client.query({ text: q[0], values: q[1], rowMode: 'array' });
        const before = new Map<string, ConfigEntry>();
        for (const r of existing.rows as EntryRow[]) {
          const e = entryFromRow(level, r);
          before.set(slotKey(e), e);
        }
        const sets: StoredChange[] = [];
        const unsets: StoredChange[] = [];
        for (const c of mine) {
          const b = before.get(slotKey(c)) ?? null;
          if (c.expectedVersion !== undefined && (b?.version ?? null) !== c.expectedVersion) {
            conflicts.push(describeSlot(c));
            continue;
          }
          const slot: Slot = { level: c.level, scope: c.scope, key: c.key };
          if (c.action === 'unset' ? b === null : b !== null && sameStored(b, c)) {
            results.push({
              slot,
              action: c.action,
              before: b,
              after: b,
              changed: false,
              staged: false,
            });
          } else if (c.action === 'set') {
            sets.push(c);
          } else {
            unsets.push(c);
          }
        }
        if (conflicts.length > 0) continue;
        const after = new Map<string, ConfigEntry>();
        for (const r of await upsertEntries(client, level, sets, ctx.operator, true)) {
          const e = entryFromRow(level, r);
          after.set(slotKey(e), e);
        }
        // A slot that had to be empty may have been created by a concurrent writer between
        // the check and the insert (the upsert then updated it): its version tells.
        for (const c of sets) {
          if (c.expectedVersion === undefined) continue;
          if (after.get(slotKey(c))?.version !== (c.expectedVersion ?? 0) + 1)
            conflicts.push(describeSlot(c));
        }
        if (conflicts.length > 0) continue;
        if (unsets.length > 0) await deleteEntries(client, level, unsets);
        for (const c of [...sets, ...unsets]) {
          const k = slotKey(c);
          results.push({
            slot: { level: c.level, scope: c.scope, key: c.key },
            action: c.action,
            before: before.get(k) ?? null,
            after: after.get(k) ?? null,
            changed: true,
            staged: false,
          });
        }
      }
      if (conflicts.length > 0) throw conflictError(conflicts);
      await client.query('COMMIT');
      return results;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw translateWriteError(err);
    } finally {
      client.release();
    }
  }

  async history(filter: HistoryFilter): Promise<AuditRecord[]> {
    // Directory rows (config_table 'dir:…', migration 0270) share the table; they are no values.
    const rows = await this.auditRows(
      filter.level !== undefined ? [filter.level] : LEVELS,
      [
        ['key', filter.key],
        ["coalesce(config_id, '')", filter.scope],
      ],
      filter,
    );
    return rows.map(auditFromRow);
  }

  async directoryHistory(filter: DirectoryHistoryFilter): Promise<DirectoryAuditRecord[]> {
    const kinds = filter.kind !== undefined ? [filter.kind] : DIRECTORY_AUDIT_KINDS;
    const rows = await this.auditRows(
      kinds.map((k) => `dir:${k}`),
      [['config_id', filter.ref]],
      filter,
    );
    return rows.map(directoryAuditFromRow);
  }

  /**
   * config_audit rows of these config_table values, newest first: the columns given equal to
   * their values (where defined), by changedBy, within since..until, at most `limit` (1000).
   */
  private async auditRows(
    tables: readonly string[],
    equal: ReadonlyArray<readonly [column: string, value: string | undefined]>,
    filter: Pick<HistoryFilter, 'changedBy' | 'since' | 'until' | 'limit'>,
  ): Promise<AuditRow[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      values.push(v);
      where.push(sql.replace('?', `$${values.length}`));
    };
    add('config_table = ANY(?::text[])', tables);
    for (const [column, value] of equal) if (value !== undefined) add(`${column} = ?`, value);
    if (filter.changedBy !== undefined) add('changed_by = ?', filter.changedBy);
    if (filter.since !== undefined) add('changed_at >= ?::timestamptz', filter.since);
    if (filter.until !== undefined) add('changed_at <= ?::timestamptz', filter.until);
    const limit = Math.max(1, Math.min(filter.limit ?? 1000, 100_000));
    return this.rows<AuditRow>(
      `SELECT id::text, seq, config_table::text, config_id::text, key::text, old_value, new_value, change_type::text,
              changed_by, changed_at, reason, push_id
       FROM config_audit WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ${limit}`,
      values,
    );
  }

  /**
   * The directory. With `users`, every tenant, department and group but only the users named
   * (ids that are not users are left out): what a plan needs of a large network, where the
   * users are most of the rows.
   */
  async readDirectory(opts: { users?: readonly string[] } = {}): Promise<Directory> {
    const [tenants, departments, groups, users] = await Promise.all([
      this.rows<DirectoryRows['tenants'][number]>(
        'SELECT id, name, tenant_type FROM tenants ORDER BY id',
      ),
      this.rows<DirectoryRows['departments'][number]>(
        'SELECT tenant_id, id, name FROM departments ORDER BY tenant_id, id',
      ),
      this.rows<DirectoryRows['groups'][number]>(
        'SELECT id, tenant_id, department, name FROM groups ORDER BY id',
      ),
      opts.users === undefined ? this.readUserRows('') : this.readUserRows('id', opts.users),
    ]);
    return directoryFromRows({ tenants, departments, groups, users, members: [] });
  }

  /** The directory users with these ids, or the one mapped to this database role. */
  async readUsers(
    where: { ids: readonly string[] } | { dbRole: string },
  ): Promise<DirectoryUser[]> {
    const users =
      'ids' in where
        ? await this.readUserRows('id', where.ids)
        : await this.readUserRows('db_role', [where.dbRole]);
    return directoryFromRows({ tenants: [], departments: [], groups: [], users, members: [] })
      .users;
  }

  /**
   * User rows with their memberships folded in server-side (one row per user, groups joined
   * with U+001F): a third of the rows and far less client-side parsing than a members query.
   * All users, or those whose `column` is one of `values`.
   */
  private readUserRows(
    column: '' | 'id' | 'db_role',
    values: readonly string[] = [],
  ): Promise<DirectoryRows['users']> {
    const select = `SELECT u.id, u.tenant_id, u.department, u.display_name, u.email, array_to_string(u.traits, E'\\x1f'),
                           u.db_role`;
    if (column === '') {
      return this.rows<DirectoryRows['users'][number]>(
        `${select}, m.groups
         FROM users u
         LEFT JOIN (SELECT user_id, string_agg(group_id, E'\\x1f' ORDER BY position) AS groups
                    FROM group_members GROUP BY user_id) m ON m.user_id = u.id
         ORDER BY u.id`,
      );
    }
    // A few users: their memberships through the (user_id, ...) index, not an aggregate of all.
    return this.rows<DirectoryRows['users'][number]>(
      `${select}, (SELECT string_agg(m.group_id, E'\\x1f' ORDER BY m.position)
                   FROM group_members m WHERE m.user_id = u.id) AS groups
       FROM users u WHERE u.${column} = ANY ($1::text[])
       ORDER BY u.id`,
      [[...values]],
    );
  }

  async writeDirectory(dir: DirectoryUpsert): Promise<void> {
    await this.inTransaction(null, (c) => writeDirectoryRows(c, dir));
  }

  async readMetadata(): Promise<KeyMetadata[]> {
    const rows = await this.rows<MetadataRow>(
      `SELECT key::text, category::text, display_name::text, description, input_type::text, value_type::text, validation_rules,
              default_value, is_required, sort_order, group_name::text, help_text
       FROM configuration_metadata ORDER BY category, sort_order, key`,
    );
    return rows.map(metadataFromRow);
  }

  async writeMetadata(meta: readonly KeyMetadata[]): Promise<void> {
    await this.inTransaction(null, (c) => writeMetadataRows(c, meta));
  }

  async readTemplates(): Promise<StoredTemplate[]> {
    const r = await this.pool.query<{
      name: string;
      description: string | null;
      target_level: string;
      template_data: unknown;
      traits: string[];
      version: number;
      provider_name: string | null;
      category: string | null;
      created_at: string | null;
      created_by: string | null;
    }>(
      'SELECT name, description, target_level, template_data, traits, version, provider_name, category, created_at, created_by FROM config_templates ORDER BY name',
    );
    return r.rows.map((t) => ({
      name: t.name,
      description: t.description,
      targetLevel: asLevel(t.target_level),
      templateData: t.template_data,
      traits: t.traits,
      version: Number(t.version),
      providerName: t.provider_name,
      category: t.category,
      createdAt: t.created_at,
      createdBy: t.created_by,
    }));
  }

  async writeTemplate(t: StoredTemplate): Promise<void> {
    await this.pool.query(
      `INSERT INTO config_templates (name, description, target_level, template_data, traits, version, provider_name, category, created_by)
       VALUES ($1, $2, $3, $4::jsonb, $5::text[], $6, $7, $8, $9)
       ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, target_level = EXCLUDED.target_level,
         template_data = EXCLUDED.template_data, traits = EXCLUDED.traits, version = EXCLUDED.version,
         provider_name = EXCLUDED.provider_name, category = EXCLUDED.category`,
      [
        t.name,
        t.description,
        t.targetLevel,
        JSON.stringify(t.templateData),
        t.traits,
        t.version,
        t.providerName,
        t.category,
        t.createdBy,
      ],
    );
  }

  async getSetting(key: string): Promise<string | null> {
    const r = await this.pool.query<{ value: string }>(
      'SELECT value FROM strata_settings WHERE key = $1',
      [key],
    );
    return r.rows[0]?.value ?? null;
  }

  async setSetting(key: string, value: string | null): Promise<void> {
    if (value === null) await this.pool.query('DELETE FROM strata_settings WHERE key = $1', [key]);
    else
      await this.pool.query(
        'INSERT INTO strata_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
        [key, value],
      );
  }

  async isEmpty(): Promise<boolean> {
    const tables = ['tenants', 'users', 'groups', ...LEVELS.map((l) => LEVEL_TABLES[l].table)];
    const sql = tables.map((t) => `EXISTS (SELECT 1 FROM ${t})`).join(' OR ');
    const r = await this.pool.query<{ any: boolean }>(`SELECT (${sql}) AS any`);
    return !r.rows[0]!.any;
  }

  /** Loads a dataset live in one transaction (audit rows from the triggers). */
  async loadBase(data: BaseData, ctx: WriteContext): Promise<void> {
    await this.inTransaction(ctx, async (c) => {
      await writeDirectoryRows(c, data.directory);
      await writeMetadataRows(c, data.metadata);
      for (const level of LEVELS) {
        const mine = data.entries.filter((e) => e.level === level);
        for (let i = 0; i < mine.length; i += CHUNK) {
          const chunk = mine.slice(i, i + CHUNK).map((e) => ({
            level: e.level,
            scope: e.scope,
            key: e.key,
            action: 'set' as const,
            value: e.value,
            valueType: e.valueType,
            encrypted: e.encrypted,
            locked: e.locked,
          }));
          await upsertEntries(c, level, chunk, ctx.operator, false);
        }
      }
    });
  }

  private async inTransaction(
    ctx: WriteContext | null,
    fn: (c: pg.PoolClient) => Promise<void>,
  ): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (ctx) await setWriteContext(client, ctx);
      await fn(client);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw translateWriteError(err);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function setWriteContext(client: pg.ClientBase, ctx: WriteContext): Promise<void> {
  await client.query(
    "SELECT set_config('strata.operator', $1, true), set_config('strata.reason', $2, true), set_config('strata.push_id', $3, true)",
    [ctx.operator, ctx.reason ?? '', ctx.pushId ?? ''],
  );
}

/** SELECT of the given slots of one level (optionally locking them), as [text, values]. */
export function selectSlots(
  level: Level,
  slots: readonly Slot[],
  lock: boolean,
): [string, unknown[]] {
  const t = LEVEL_TABLES[level];
  const forUpdate = lock ? ' FOR UPDATE' : '';
  if (level === 'global') {
    return [
      `SELECT ${scopeExpr(level)}, ${ENTRY_COLS} FROM ${t.table} WHERE key = ANY($1::text[])${forUpdate}`,
      [slots.map((s) => s.key)],
    ];
  }
  const cols = [...t.scopeColumns, 'key'];
  const arrays = t.scopeColumns.map((_, i) => slots.map((s) => t.split(s.scope)[i]!));
  arrays.push(slots.map((s) => s.key));
  const un = arrays.map((_, i) => `$${i + 1}::text[]`).join(', ');
  // One unique-index probe per slot. As a plain join, the planner (which knows the array's
  // length) hashed the whole table for a few thousand slots: 10,000 slots of a 315,000-row
  // config_user took 200 ms instead of 30. OFFSET 0 keeps the lateral subquery from being
  // flattened back into that join.
  const text = `SELECT x.* FROM unnest(${un}) AS u(${cols.join(', ')})
    CROSS JOIN LATERAL (
      SELECT ${scopeExpr(level, 'c')}, ${ENTRY_COLS.split(', ')
        .map((col) => `c.${col}`)
        .join(', ')}
      FROM ${t.table} c WHERE ${cols.map((col) => `c.${col} = u.${col}`).join(' AND ')}
      OFFSET 0${forUpdate}) x`;
  return [text, arrays];
}

/** Multi-row upsert of set changes of one level; returns the stored rows (EntryRow order). */
export async function upsertEntries(
  client: pg.ClientBase,
  level: Level,
  sets: readonly StoredChange[],
  operator: string,
  returning: boolean,
): Promise<EntryRow[]> {
  if (sets.length === 0) return [];
  const t = LEVEL_TABLES[level];
  const names = [...t.scopeColumns, 'key', 'value', 'value_type', 'encrypted', 'locked'];
  const types = [
    ...t.scopeColumns.map(() => 'text[]'),
    'text[]',
    'text[]',
    'text[]',
    'bool[]',
    'bool[]',
  ];
  const arrays: unknown[] = [
    ...t.scopeColumns.map((_, i) => sets.map((s) => t.split(s.scope)[i]!)),
    sets.map((s) => s.key),
    sets.map((s) => s.value ?? ''),
    sets.map((s) => s.valueType),
    sets.map((s) => s.encrypted),
    sets.map((s) => s.locked),
  ];
  if (level === 'global') {
    // The seed's config_global.category column, kept filled for services that read it.
    names.push('category');
    types.push('text[]');
    arrays.push(sets.map((s) => categoryOf(s.key)));
  }
  arrays.push(operator);
  const op = `$${arrays.length}`;
  const unnestArgs = types.map((ty, i) => `$${i + 1}::${ty}`).join(', ');
  const text = `INSERT INTO ${t.table} (${names.join(', ')}, created_by, updated_by)
    SELECT ${names.map((n) => `u.${n}`).join(', ')}, ${op}, ${op} FROM unnest(${unnestArgs}) AS u(${names.join(', ')})
    ON CONFLICT (${[...t.scopeColumns, 'key'].join(', ')}) DO UPDATE SET value = EXCLUDED.value, value_type = EXCLUDED.value_type,
      encrypted = EXCLUDED.encrypted, locked = EXCLUDED.locked, updated_by = EXCLUDED.updated_by
    ${returning ? `RETURNING ${scopeExpr(level)}, ${ENTRY_COLS}` : ''}`;
  const r = await client.query({ text, values: arrays, rowMode: 'array' });
  return r.rows as EntryRow[];
}

/** Deletes the unset slots of one level in one statement. */
export async function deleteEntries(
  client: pg.ClientBase,
  level: Level,
  unsets: readonly StoredChange[],
): Promise<void> {
  const t = LEVEL_TABLES[level];
  if (level === 'global') {
    await client.query(`DELETE FROM ${t.table} WHERE key = ANY($1::text[])`, [
      unsets.map((u) => u.key),
    ]);
    return;
  }
  const cols = [...t.scopeColumns, 'key'];
  const arrays = t.scopeColumns.map((_, i) => unsets.map((s) => t.split(s.scope)[i]!));
  arrays.push(unsets.map((s) => s.key));
  await client.query(
    `DELETE FROM ${t.table} c USING unnest(${arrays.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS u(${cols.join(', ')})
     WHERE ${cols.map((col) => `c.${col} = u.${col}`).join(' AND ')}`,
    arrays,
  );
}

async function writeDirectoryRows(c: pg.ClientBase, dir: DirectoryUpsert): Promise<void> {
  if (dir.tenants?.length) {
    await c.query(
      `INSERT INTO tenants (id, name, tenant_type) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, tenant_type = EXCLUDED.tenant_type`,
      [
        dir.tenants.map((t) => t.id),
        dir.tenants.map((t) => t.name),
        dir.tenants.map((t) => t.tenantType),
      ],
    );
  }
  if (dir.departments?.length) {
    const d = dir.departments;
    await c.query(
      `INSERT INTO departments (tenant_id, id, name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (tenant_id, id) DO UPDATE SET name = EXCLUDED.name`,
      [d.map((x) => x.tenantId), d.map((x) => x.id), d.map((x) => x.name)],
    );
  }
  if (dir.groups?.length) {
    const g = dir.groups;
    await c.query(
      `INSERT INTO groups (id, tenant_id, department, name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT (id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, department = EXCLUDED.department, name = EXCLUDED.name`,
      [
        g.map((x) => x.id),
        g.map((x) => x.tenantId),
        g.map((x) => x.department),
        g.map((x) => x.name),
      ],
    );
  }
  const users = dir.users ?? [];
  for (let i = 0; i < users.length; i += CHUNK) {
    const u = users.slice(i, i + CHUNK);
    // Traits travel as JSON text per user: unnest would flatten a two-dimensional array.
    await c.query(
      `INSERT INTO users (id, tenant_id, department, display_name, email, traits, db_role)
       SELECT id, tenant_id, department, display_name, email, ARRAY(SELECT jsonb_array_elements_text(traits::jsonb)), db_role
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
         AS x(id, tenant_id, department, display_name, email, traits, db_role)
       ON CONFLICT (id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, department = EXCLUDED.department,
         display_name = EXCLUDED.display_name, email = EXCLUDED.email, traits = EXCLUDED.traits, db_role = EXCLUDED.db_role`,
      [
        u.map((x) => x.id),
        u.map((x) => x.tenantId),
        u.map((x) => x.department),
        u.map((x) => x.displayName),
        u.map((x) => x.email),
        u.map((x) => JSON.stringify(x.traits)),
        u.map((x) => x.dbRole),
      ],
    );
    await writeMemberships(c, u);
  }
}

/**
 * Makes each of `users`' memberships what its `groups` list says (position = index; 0 wins).
 */
export async function writeMemberships(
  c: pg.ClientBase,
  users: readonly Pick<DirectoryUser, 'id' | 'groups'>[],
): Promise<void> {
  if (users.length === 0) return;
  const user: string[] = [];
  const group: string[] = [];
  const pos: number[] = [];
  for (const u of users) {
    u.groups.forEach((g, i) => {
      user.push(u.id);
      group.push(g);
      pos.push(i);
    });
  }
  // Only what differs is written, so the directory audit (0270) records the memberships that
  // changed, not every membership of every user the push touched: a group the user left is
  // removed, one that moved gets its new position (an update, audited as a move), a new one is
  // added. The position constraint is checked at the end of each statement (0290), so one
  // UPDATE can swap positions; after it, the positions the inserts take are free, as each
  // user's target positions are distinct and every remaining row already holds its own.
  await c.query(
    `DELETE FROM group_members m WHERE m.user_id = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS x(user_id, group_id)
                       WHERE x.user_id = m.user_id AND x.group_id = m.group_id)`,
    [users.map((u) => u.id), user, group],
  );
  if (user.length === 0) return;
  await c.query(
    `UPDATE group_members m SET position = x.position
     FROM unnest($1::text[], $2::text[], $3::int[]) AS x(user_id, group_id, position)
     WHERE m.user_id = x.user_id AND m.group_id = x.group_id AND m.position <> x.position`,
    [user, group, pos],
  );
  await c.query(
    `INSERT INTO group_members (user_id, group_id, position)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) ON CONFLICT (user_id, group_id) DO NOTHING`,
    [user, group, pos],
  );
}

/**
 * Writes key metadata in one statement. `existing` says what happens to a key the database
 * already describes: 'replace' (the store's own writes) or 'keep' (a push adds only what is new).
 */
export async function writeMetadataRows(
  c: pg.ClientBase,
  meta: readonly KeyMetadata[],
  existing: 'replace' | 'keep' = 'replace',
): Promise<void> {
  if (meta.length === 0) return;
  const m = metadataColumns(meta);
  await c.query(
    `INSERT INTO configuration_metadata (key, category, config_key, display_name, description, input_type, value_type,
       validation_rules, default_value, is_required, sort_order, group_name, help_text)
     SELECT key, category, config_key, display_name, description, input_type, value_type, rules::jsonb, default_value,
       is_required, sort_order, group_name, help_text
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
       $10::bool[], $11::int[], $12::text[], $13::text[])
       AS x(key, category, config_key, display_name, description, input_type, value_type, rules, default_value, is_required,
         sort_order, group_name, help_text)
     ON CONFLICT (key) ${
       existing === 'keep'
         ? 'DO NOTHING'
         : `DO UPDATE SET category = EXCLUDED.category, config_key = EXCLUDED.config_key,
       display_name = EXCLUDED.display_name, description = EXCLUDED.description, input_type = EXCLUDED.input_type,
       value_type = EXCLUDED.value_type, validation_rules = EXCLUDED.validation_rules, default_value = EXCLUDED.default_value,
       is_required = EXCLUDED.is_required, sort_order = EXCLUDED.sort_order, group_name = EXCLUDED.group_name,
       help_text = EXCLUDED.help_text`
     }`,
    [
      m.key,
      m.category,
      m.configKey,
      m.displayName,
      m.description,
      m.inputType,
      m.valueType,
      m.rules,
      m.defaultValue,
      m.required,
      m.sortOrder,
      m.groupName,
      m.helpText,
    ],
  );
}

/**
 * Database refusals (row-level security, validation triggers, privileges) become one clear
 * sentence with the right exit class; anything else stays internal.
 */
function translateWriteError(err: unknown): unknown {
  if (err instanceof StrataError) return err;
  const e = err as { code?: string; message?: string };
  const msg = (e.message ?? 'unknown error').replace(/\.$/, '');
  if (e.code === '42501')
    return new StrataError('forbidden', `The database refused the change: ${msg}.`);
  if (e.code === '40001' || e.code === '40P01' || e.code === '23505') {
    return new StrataError(
      'conflict',
      `The database reported a concurrent change: ${msg}; try again.`,
    );
  }
  if (e.code && /^(22|23|P0)/.test(e.code))
    return new StrataError('invalid', `The database refused the change: ${msg}.`);
  return err;
}
