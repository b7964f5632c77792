/**
 * Template persistence on either back end: template rows in config_templates (with the earlier
 * versions kept beside the current one, so an upgrade can compute the exact difference), the
 * template_applications record of which version was applied where, the seed step that loads
 * the built-ins, and the one-transaction writer that applies a change set (directory rows,
 * values, application records) as a unit: live on PostgreSQL, staged in a draft.
 */
import type pg from 'pg';
import {
  BUILTIN_TEMPLATE_NAMES,
  safeParseTemplate,
  templateKeyMetadata,
} from '../core/templates/index.js';
import type { TemplateDefinition } from '../core/templates/index.js';
import { LEVELS, StrataError } from '../core/types.js';
import type { Department, Group, Tenant } from '../core/types.js';
import {
  PostgresStore,
  deleteEntries,
  selectSlots,
  upsertEntries,
} from '../store/postgres-store.js';
import { asLevel, entryFromRow, type EntryRow } from '../store/sql-rows.js';
import {
  SqliteStore,
  assertNoDuplicateSlots,
  conflictError,
  describeSlot,
} from '../store/sqlite-store.js';
import { slotKey } from '../store/store.js';
import type { Store, StoredChange, StoredTemplate, WriteContext } from '../store/store.js';
import { securityErrorFromPg } from './access.js';
import { DraftWorkspace } from './draft-workspace.js';
import { loadBuiltinTemplates } from './template-files.js';
import type { TemplateApplication } from './template-types.js';

/**
 * Field of template_data that keeps the earlier versions of a template. template_data stays the
 * definition itself (configs, variables, instructions at the top, as the customer's queries read
 * it); the history rides beside it and is stripped before parsing.
 */
export const HISTORY_FIELD = 'previousVersions';

/** A template as stored: its current definition and the earlier versions kept for upgrades. */
export interface TemplateRecord {
  definition: TemplateDefinition;
  /** Earlier versions, oldest first. */
  history: TemplateDefinition[];
  createdAt: string | null;
  createdBy: string | null;
}

/** Stored templates by name, and the names of rows that could not be parsed. */
export interface TemplateRecords {
  records: Map<string, TemplateRecord>;
  invalid: Array<{ name: string; problem: string }>;
}

function parseStored(data: unknown): { def: TemplateDefinition; history: TemplateDefinition[] } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new StrataError('invalid', 'template_data is not a JSON object');
  }
  const { [HISTORY_FIELD]: rawHistory, ...rest } = data as Record<string, unknown>;
  const parsed = safeParseTemplate(rest);
  if (!parsed.ok) throw new StrataError('invalid', parsed.errors[0] ?? 'invalid template');
  const history: TemplateDefinition[] = [];
  if (Array.isArray(rawHistory)) {
    for (const h of rawHistory) {
      const p = safeParseTemplate(h);
      // A damaged old version only costs exactness of upgrades from it, never the template.
      if (p.ok && p.template.version < parsed.template.version) history.push(p.template);
    }
  }
  history.sort((a, b) => a.version - b.version);
  return { def: parsed.template, history };
}

/** Reads every template row; rows that do not parse are reported, not thrown. */
export async function readTemplateRecords(store: Store): Promise<TemplateRecords> {
  const records = new Map<string, TemplateRecord>();
  const invalid: TemplateRecords['invalid'] = [];
  for (const row of await store.readTemplates()) {
    try {
      const { def, history } = parseStored(row.templateData);
      records.set(def.name, {
        definition: def,
        history,
        createdAt: row.createdAt,
        createdBy: row.createdBy,
      });
    } catch (e) {
      invalid.push({ name: row.name, problem: (e as Error).message });
    }
  }
  return { records, invalid };
}

/** The config_templates row for a definition and its kept history. */
export function templateRow(
  def: TemplateDefinition,
  history: readonly TemplateDefinition[],
  createdBy: string | null,
): StoredTemplate {
  const data: Record<string, unknown> = { ...def };
  if (history.length > 0) data[HISTORY_FIELD] = history.map((h) => ({ ...h }));
  return {
    name: def.name,
    description: def.description,
    targetLevel: def.targetLevel,
    templateData: data,
    traits: [...def.requiredTraits],
    version: def.version,
    providerName: def.providerName ?? null,
    category: def.category ?? def.kind,
    createdAt: null,
    createdBy,
  };
}

/**
 * Stores a new version of a template, keeping the version it replaces in its history. Refuses a
 * version that is not newer than the stored one (a template version is published once).
 */
export async function publishTemplate(
  store: Store,
  def: TemplateDefinition,
  createdBy: string | null,
  existing?: TemplateRecord | null,
): Promise<void> {
  const current =
    existing === undefined
      ? ((await readTemplateRecords(store)).records.get(def.name) ?? null)
      : existing;
  let history: TemplateDefinition[] = [];
  if (current) {
    if (def.version <= current.definition.version) {
      throw new StrataError(
        'conflict',
        `Template "${def.name}" is already at version ${current.definition.version}; publish version ${current.definition.version + 1} or higher.`,
      );
    }
    history = [...current.history, current.definition];
  }
  await store.writeTemplate(templateRow(def, history, createdBy));
}

/** What the seed step did. */
export interface SeedResult {
  /** Built-ins stored for the first time. */
  added: string[];
  /** Built-ins whose stored row was older than the shipped file. */
  upgraded: Array<{ name: string; from: number; to: number }>;
  /** Metadata rows added for template keys the database had no metadata for. */
  metadata: string[];
}

/**
 * The seed step (run by `strata demo` and `strata db migrate`): stores each built-in template
 * that config_templates lacks, upgrades a stored built-in whose shipped file is newer (keeping
 * the old version for upgrades), and adds configuration_metadata for template keys that have
 * none, so secret keys such as smtp.auth_pass are known as secrets before anyone sets them.
 */
export async function seedBuiltinTemplates(
  store: Store,
  opts: { dir?: string; operator?: string | null } = {},
): Promise<SeedResult> {
  const builtins = opts.dir ? await loadBuiltinTemplates(opts.dir) : await loadBuiltinTemplates();
  const { records } = await readTemplateRecords(store);
  const by = opts.operator ?? null;
  const result: SeedResult = { added: [], upgraded: [], metadata: [] };
  for (const def of builtins) {
    const stored = records.get(def.name);
    if (!stored) {
      await store.writeTemplate(templateRow(def, [], by));
      result.added.push(def.name);
    } else if (stored.definition.version < def.version) {
      await publishTemplate(store, def, by, stored);
      result.upgraded.push({ name: def.name, from: stored.definition.version, to: def.version });
    }
  }
  const known = new Set((await store.readMetadata()).map((m) => m.key));
  const missing = new Map<string, ReturnType<typeof templateKeyMetadata>[number]>();
  for (const def of builtins) {
    for (const m of templateKeyMetadata(def)) {
      if (!known.has(m.key) && !missing.has(m.key)) missing.set(m.key, m);
    }
  }
  if (missing.size > 0) {
    await store.writeMetadata([...missing.values()]);
    result.metadata = [...missing.keys()];
  }
  return result;
}

/** Whether a template name is one of the shipped built-ins. */
export function isBuiltinName(name: string): boolean {
  return (BUILTIN_TEMPLATE_NAMES as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------------
// template_applications

/** One application to record (template, version, where). */
export type ApplicationRecord = Pick<
  TemplateApplication,
  'template' | 'version' | 'level' | 'scope'
>;

function applicationFromRow(r: Record<string, unknown>): TemplateApplication {
  return {
    template: String(r.template_name),
    version: Number(r.version),
    level: asLevel(String(r.level)),
    scope: String(r.scope),
    appliedAt:
      r.applied_at === null || r.applied_at === undefined
        ? null
        : r.applied_at instanceof Date
          ? r.applied_at.toISOString()
          : String(r.applied_at),
    appliedBy: r.applied_by === null || r.applied_by === undefined ? null : String(r.applied_by),
  };
}

const APPLICATIONS_SQL =
  'SELECT template_name, version, level, scope, applied_at, applied_by FROM template_applications ORDER BY template_name, level, scope';

/** Every recorded template application. */
export async function readApplications(store: Store): Promise<TemplateApplication[]> {
  if (store instanceof PostgresStore) {
    const r = await store.pool.query(APPLICATIONS_SQL);
    return (r.rows as Array<Record<string, unknown>>).map(applicationFromRow);
  }
  if (store instanceof SqliteStore) {
    return (store.db.prepare(APPLICATIONS_SQL).all() as Array<Record<string, unknown>>).map(
      applicationFromRow,
    );
  }
  return [];
}

/**
 * Upserts template applications in the caller's transaction (one statement; a push, or a
 * template write): the version, the transaction's time and the operator replace what the
 * target held for the same template and scope.
 */
export async function writeApplications(
  c: pg.ClientBase,
  apps: readonly ApplicationRecord[],
  operator: string,
): Promise<void> {
  if (apps.length === 0) return;
  await c.query(
    `INSERT INTO template_applications (template_name, version, level, scope, applied_by)
     SELECT n, v, l, s, $5::text FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]) AS u(n, v, l, s)
     ON CONFLICT (template_name, level, scope) DO UPDATE SET version = EXCLUDED.version,
       applied_at = now(), applied_by = EXCLUDED.applied_by`,
    [
      apps.map((a) => a.template),
      apps.map((a) => a.version),
      apps.map((a) => a.level),
      apps.map((a) => a.scope),
      operator,
    ],
  );
}

// ---------------------------------------------------------------------------------------------
// Change sets

/** Directory rows a change set creates (tenant provisioning). */
export interface DirectoryCreate {
  tenants: Tenant[];
  departments: Department[];
  groups: Group[];
}

/** Everything one operation writes, applied (or staged) together or not at all. */
export interface ChangeSet {
  directory?: DirectoryCreate;
  changes: StoredChange[];
  applications?: ApplicationRecord[];
}

/**
 * Writes a change set in ONE transaction. PostgreSQL: live, audited by the triggers with the
 * operator and reason, row versions checked (a slot changed since it was read refuses the whole
 * set with exit class conflict), new directory rows inserted (an existing tenant is a conflict).
 * Draft: directory rows staged (staged_directory, visible to reads at once), values staged and
 * the application recorded, in one SQLite transaction; a push then carries all of it as a unit.
 */
export async function writeChangeSet(
  store: Store,
  set: ChangeSet,
  ctx: WriteContext,
): Promise<void> {
  assertNoDuplicateSlots(set.changes);
  if (store instanceof PostgresStore) return writePostgres(store, set, ctx);
  if (store instanceof SqliteStore) return writeDraft(store, set, ctx);
  throw new StrataError('internal', 'This store does not support template change sets.');
}

async function writeDraft(store: SqliteStore, set: ChangeSet, ctx: WriteContext): Promise<void> {
  const db = store.db;
  // The store's own transactions nest inside this one as savepoints, and its methods finish
  // synchronously, so nothing else runs on the connection between BEGIN and COMMIT.
  db.exec('BEGIN IMMEDIATE');
  try {
    // Staged (not written into the base), so the push creates them first, in its transaction.
    if (set.directory) DraftWorkspace.wrap(store).stageDirectorySync(set.directory, ctx);
    if (set.changes.length > 0) await store.write(set.changes, ctx);
    const apps = set.applications ?? [];
    if (apps.length > 0) {
      const st = db.prepare(
        `INSERT INTO template_applications (template_name, version, level, scope, applied_by) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (template_name, level, scope) DO UPDATE SET version = excluded.version,
           applied_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), applied_by = excluded.applied_by,
           from_target = 0`,
      );
      for (const a of apps) st.run(a.template, a.version, a.level, a.scope, ctx.operator);
    }
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

function pgError(err: unknown): unknown {
  if (err instanceof StrataError) return err;
  const security = securityErrorFromPg(err);
  if (security) return security;
  const e = err as { code?: string; message?: string; constraint?: string; table?: string };
  const msg = (e.message ?? 'unknown error').replace(/\.$/, '');
  if (e.code === '23505') {
    if (e.table === 'tenants') return new StrataError('conflict', 'That tenant already exists.');
    if (e.table === 'groups') {
      return new StrataError(
        'conflict',
        'One of the new groups already exists (group ids are global).',
      );
    }
    return new StrataError(
      'conflict',
      `The database reported a concurrent change: ${msg}; try again.`,
    );
  }
  if (e.code === '40001' || e.code === '40P01') {
    return new StrataError(
      'conflict',
      `The database reported a concurrent change: ${msg}; try again.`,
    );
  }
  if (e.code === '42501')
    return new StrataError('forbidden', `The database refused the change: ${msg}.`);
  if (e.code && /^(22|23|P0)/.test(e.code)) {
    return new StrataError('invalid', `The database refused the change: ${msg}.`);
  }
  return err;
}

async function writePostgres(
  store: PostgresStore,
  set: ChangeSet,
  ctx: WriteContext,
): Promise<void> {
  const client = await store.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      "SELECT set_config('strata.operator', $1, true), set_config('strata.reason', $2, true), set_config('strata.push_id', $3, true)",
      [ctx.operator, ctx.reason ?? '', ctx.pushId ?? ''],
    );
    if (set.directory) await insertDirectory(client, set.directory);
    await applyChanges(client, set.changes, ctx.operator);
    await writeApplications(client, set.applications ?? [], ctx.operator);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw pgError(err);
  } finally {
    client.release();
  }
}

// New directory rows are plain INSERTs: a tenant or group that appeared meanwhile is a conflict,
// never silently merged into.
async function insertDirectory(c: pg.ClientBase, dir: DirectoryCreate): Promise<void> {
  if (dir.tenants.length > 0) {
    await c.query(
      'INSERT INTO tenants (id, name, tenant_type) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])',
      [
        dir.tenants.map((t) => t.id),
        dir.tenants.map((t) => t.name),
        dir.tenants.map((t) => t.tenantType),
      ],
    );
  }
  if (dir.departments.length > 0) {
    const d = dir.departments;
    await c.query(
      'INSERT INTO departments (tenant_id, id, name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])',
      [d.map((x) => x.tenantId), d.map((x) => x.id), d.map((x) => x.name)],
    );
  }
  if (dir.groups.length > 0) {
    const g = dir.groups;
    await c.query(
      'INSERT INTO groups (id, tenant_id, department, name) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])',
      [
        g.map((x) => x.id),
        g.map((x) => x.tenantId),
        g.map((x) => x.department),
        g.map((x) => x.name),
      ],
    );
  }
}

/** Multi-row, version-checked upserts and deletes, one statement per level and kind. */
async function applyChanges(
  c: pg.ClientBase,
  changes: readonly StoredChange[],
  operator: string,
): Promise<void> {
  const conflicts: string[] = [];
  for (const level of LEVELS) {
    const mine = changes.filter((x) => x.level === level);
    if (mine.length === 0) continue;
    const [text, values] = selectSlots(level, mine, true);
    const locked = await c.query({ text, values, rowMode: 'array' });
    const versions = new Map<string, number>();
    for (const row of locked.rows as EntryRow[]) {
      const e = entryFromRow(level, row);
      versions.set(slotKey(e), e.version);
    }
    for (const ch of mine) {
      if (ch.expectedVersion === undefined) continue;
      if ((versions.get(slotKey(ch)) ?? null) !== ch.expectedVersion)
        conflicts.push(describeSlot(ch));
    }
    if (conflicts.length > 0) continue;
    await upsertEntries(
      c,
      level,
      mine.filter((x) => x.action === 'set'),
      operator,
      false,
    );
    const unsets = mine.filter((x) => x.action === 'unset');
    if (unsets.length > 0) await deleteEntries(c, level, unsets);
  }
  if (conflicts.length > 0) throw conflictError(conflicts);
}
