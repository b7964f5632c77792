/**
 * `strata pull`: a snapshot of a PostgreSQL configuration database (all levels, directory,
 * metadata, templates and their applications, policy rules; not the audit history) into a draft
 * workspace. A new draft is written to a temporary file next to the target and renamed into
 * place only when complete, so a failed pull (unreachable or unmigrated database, a dropped
 * connection, a full disk) never leaves a half-made draft behind. Pulling into an existing draft
 * is a rebase: the base is replaced, every staged change is kept (see replaceBaseSync).
 *
 * Everything is read inside ONE snapshot shared by several connections (SnapshotSession), so the
 * base is the database as of one instant, as a three-way plan needs. A new draft is written
 * while it is read: the server turns each range of rows into one JSON text, and each chunk goes
 * into the temporary file (built without a journal, see FreshBaseLoader) while the next ones
 * are read.
 *
 * Also here: reconciling pushes whose outcome a draft never recorded (a lost COMMIT, a killed
 * process), because both pull and push must do that before they touch the base.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type pg from 'pg';
import { LEVELS, StrataError } from '../core/types.js';
import type { ConfigEntry, Level } from '../core/types.js';
import { entryFromRow } from '../store/sql-rows.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { LEVEL_TABLES, redactUrl } from '../store/store.js';
import { assertPostgresUrl, databaseId, openTarget } from './draft-target.js';
import {
  DraftWorkspace,
  FreshBaseLoader,
  flatWidth,
  type AuditHead,
  type BaseContent,
  type BaseExtraContent,
  type BaseSource,
  type DraftPushRecord,
  type ProgressListener,
} from './draft-workspace.js';
import { POLICY_RULES_SETTING, policyRulesOf } from './lint-service.js';
import { readApplications } from './template-store.js';

/** What a pull did. */
export interface PullResult {
  draft: string;
  /** The source with any password removed. */
  source: string;
  environment: string | null;
  /**
   * 'created' for a new draft; for an existing one 'rebased' (its base read again), or
   * 'current' (the audit trail showed the base already is the target's state as this role
   * sees it: only metadata, templates, policy rules and the environment label were read).
   */
  mode: 'created' | 'rebased' | 'current';
  pulledAt: string;
  entries: number;
  tenants: number;
  departments: number;
  groups: number;
  users: number;
  metadata: number;
  templates: number;
  /** Active staged changes kept (rebase). */
  staged: number;
  /** Staged changes whose slot changed in production since they were made (now conflicts). */
  moved: number;
  /** Pushes from this draft found to have landed while their outcome was unrecorded. */
  reconciled: string[];
}

/** Options of a pull. */
export interface PullOptions {
  onProgress?: ProgressListener;
}

// Connections that read one snapshot together (at most what the store's pool has free).
const SNAPSHOT_CONNECTIONS = 4;
// Pages per range query of a large table: about 7,000 entries, a JSON chunk of about 1 MB.
const RANGE_PAGES = 128;
// Range queries allowed to run ahead of the writer (bounds the memory of a slow disk).
const READ_AHEAD = 8;

/** One query of the entry read: a level, and a ctid range of its table ('' = all of it). */
interface EntryTask {
  level: Level;
  where: string;
}

/**
 * The entries of one task as ONE JSON text: a flat array of rows laid end to end, every value a
 * string or null (see FLAT_ENTRY_FIELDS; SQLite's STRICT integer columns take '0' as 0). The
 * server builds the text on its own core while this process writes the previous chunk, and
 * JSON.parse reads it far faster than the driver parses row messages. A text array's JSON is
 * the cheapest form the server makes; every element is a quoted string or null, so trimming
 * the brackets off each row's array only ever removes the array's own.
 */
function entryChunkSql(task: EntryTask): string {
  const t = LEVEL_TABLES[task.level];
  const row = [
    ...t.scopeColumns.map((c) => `${c}::text`),
    'key::text',
    'value',
    'value_type::text',
    'encrypted::int::text',
    'locked::int::text',
    'version::text',
    // The session runs in UTC (SET LOCAL below): '2025-01-01 10:00:00.123+00' becomes the
    // store's '2025-01-01T10:00:00.123Z'.
    "left(replace(updated_at::text, ' ', 'T'), -3) || 'Z'",
    'updated_by',
  ].join(', ');
  return `SELECT count(*)::int, '[' || string_agg(btrim(to_json(ARRAY[${row}])::text, '[]'), ',') || ']'
          FROM ${t.table} ${task.where}`;
}

/**
 * A read-only REPEATABLE READ transaction over several connections that share ONE snapshot
 * (pg_export_snapshot / SET TRANSACTION SNAPSHOT): every table is read as of the same instant,
 * however the reads are spread, which is what makes the pull a sound base for a three-way plan.
 */
class SnapshotSession {
  private readonly idle: pg.PoolClient[];
  private readonly waiting: Array<{ give: (c: pg.PoolClient) => void; fail: (e: Error) => void }> =
    [];
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;
  /** The target seen through this snapshot (every query of its pool runs inside it). */
  readonly view: PostgresStore;

  private constructor(
    private readonly clients: pg.PoolClient[],
    readonly tidRanges: boolean,
    live: PostgresStore,
  ) {
    this.idle = [...clients];
    // Shadows only `pool`: the store's own readers (directory, metadata, templates, settings)
    // then run inside the snapshot with their code and row conversions unchanged.
    const pool = { query: (text: unknown, values?: unknown) => this.query(text, values) };
    this.view = Object.create(live, { pool: { value: pool } }) as PostgresStore;
  }

  static async open(live: PostgresStore): Promise<SnapshotSession> {
    const p = live.pool;
    const free = (p.options.max ?? SNAPSHOT_CONNECTIONS) - p.totalCount + p.idleCount;
    let size = Math.max(1, Math.min(SNAPSHOT_CONNECTIONS, free));
    const leader = await p.connect();
    const clients = [leader];
    try {
      const begin = async (): Promise<{ v: number; id: string | null }> => {
        await leader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await leader.query("SET LOCAL TimeZone = 'UTC'");
        const r = await leader.query<{ v: number; id: string | null }>(
          `SELECT current_setting('server_version_num')::int AS v,
                  CASE WHEN $1::int > 1 THEN pg_export_snapshot() END AS id`,
          [size],
        );
        return r.rows[0]!;
      };
      // A server that cannot export snapshots is read over one connection (still one instant).
      const { v, id } = await begin().catch(async () => {
        await leader.query('ROLLBACK');
        size = 1;
        return begin();
      });
      if (id !== null && /^[0-9A-Fa-f-]+$/.test(id)) {
        const others = await Promise.allSettled(
          Array.from({ length: size - 1 }, async () => {
            const c = await p.connect();
            try {
              await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
              await c.query(`SET TRANSACTION SNAPSHOT '${id}'`);
              await c.query("SET LOCAL TimeZone = 'UTC'");
            } catch (err) {
              c.release(true);
              throw err;
            }
            return c;
          }),
        );
        // A connection that could not join (the server's connection limit) is simply not used.
        for (const o of others) if (o.status === 'fulfilled') clients.push(o.value);
      }
      // TID range scans (PostgreSQL 14) make a ctid range cost only its own pages.
      return new SnapshotSession(clients, v >= 140000, live);
    } catch (err) {
      for (const c of clients) c.release(true);
      throw err;
    }
  }

  private acquire(): Promise<pg.PoolClient> {
    if (this.closed) return Promise.reject(new Error('The pull snapshot is closed.'));
    const c = this.idle.pop();
    if (c !== undefined) return Promise.resolve(c);
    return new Promise((give, fail) => this.waiting.push({ give, fail }));
  }

  private release(c: pg.PoolClient): void {
    const next = this.waiting.shift();
    if (next !== undefined) next.give(c);
    else this.idle.push(c);
  }

  /** Runs fn on a free connection of the snapshot; close() waits for every one started. */
  private use<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const run = (async () => {
      const c = await this.acquire();
      try {
        return await fn(c);
      } finally {
        this.release(c);
      }
    })();
    this.running.add(run);
    const settle = (): void => void this.running.delete(run);
    run.then(settle, settle);
    return run;
  }

  /** A query of the store's readers; a savepoint keeps a failed one (a missing table the
   * caller expects) from aborting the shared transaction. */
  query(text: unknown, values?: unknown): Promise<pg.QueryResult> {
    return this.use(async (c) => {
      await c.query('SAVEPOINT strata_pull');
      try {
        const r = await c.query(text as string, values as unknown[]);
        await c.query('RELEASE SAVEPOINT strata_pull');
        return r;
      } catch (err) {
        await c.query('ROLLBACK TO SAVEPOINT strata_pull');
        throw err;
      }
    });
  }

  /** The queries that read every entry: one per small table, ctid ranges of a large one. */
  async entryTasks(): Promise<{ tasks: EntryTask[]; estimate: number }> {
    const tables = LEVELS.map((l) => LEVEL_TABLES[l].table);
    const r = await this.use((c) =>
      c.query<{ name: string; rows: number; pages: number }>(
        `SELECT relname::text AS name, greatest(reltuples, 0)::float8 AS rows,
                (pg_relation_size(oid) / current_setting('block_size')::int)::float8 AS pages
         FROM pg_class WHERE oid = ANY ($1::regclass[])`,
        [tables],
      ),
    );
    const byName = new Map(r.rows.map((x) => [x.name, x]));
    const tasks: EntryTask[] = [];
    let estimate = 0;
    for (const level of LEVELS) {
      const info = byName.get(LEVEL_TABLES[level].table);
      estimate += info?.rows ?? 0;
      const pages = info?.pages ?? 0;
      if (!this.tidRanges || pages <= RANGE_PAGES) {
        tasks.push({ level, where: '' });
        continue;
      }
      // The last range is open-ended: pages added since the size was read are still covered.
      for (let from = 0; from < pages; from += RANGE_PAGES) {
        const upper =
          from + RANGE_PAGES < pages ? ` AND ctid < '(${from + RANGE_PAGES},0)'::tid` : '';
        tasks.push({ level, where: `WHERE ctid >= '(${from},0)'::tid${upper}` });
      }
    }
    return { tasks, estimate: Math.round(estimate) };
  }

  /** The rows of one task as a flat array (see FLAT_ENTRY_FIELDS). */
  async readChunk(task: EntryTask): Promise<unknown[]> {
    const r = await this.use((c) => c.query({ text: entryChunkSql(task), rowMode: 'array' }));
    const [count, text] = r.rows[0] as [number, string | null];
    const flat = text === null ? [] : (JSON.parse(text) as unknown[]);
    if (flat.length !== count * flatWidth(task.level)) {
      throw new StrataError('internal', `The ${task.level} entries were read incompletely.`);
    }
    return flat;
  }

  /**
   * Reads every entry, handing each chunk to `write` (synchronously, in task order) while the
   * next chunks are read on the other connections. Returns the number of entries.
   */
  async streamEntries(
    write: (level: Level, flat: unknown[]) => void,
    onProgress?: ProgressListener,
  ): Promise<number> {
    const { tasks, estimate } = await this.entryTasks();
    const pending: Array<Promise<unknown[]> | undefined> = [];
    let started = 0;
    let rows = 0;
    for (let i = 0; i < tasks.length; i++) {
      while (started < tasks.length && started < i + READ_AHEAD) {
        const p = this.readChunk(tasks[started]!);
        // Awaited in order below; a failure of a later one must not go unhandled meanwhile.
        p.catch(() => undefined);
        pending[started++] = p;
      }
      onProgress?.({ phase: 'read', done: rows, total: Math.max(estimate, rows) });
      const flat = await pending[i]!;
      pending[i] = undefined;
      const n = flat.length / flatWidth(tasks[i]!.level);
      onProgress?.({ phase: 'write', done: rows, total: Math.max(estimate, rows + n) });
      write(tasks[i]!.level, flat);
      rows += n;
    }
    onProgress?.({ phase: 'write', done: rows, total: rows });
    return rows;
  }

  /** Ends the transaction on every connection (after whatever still runs) and frees them. */
  async close(): Promise<void> {
    this.closed = true;
    // Queries not started yet (a failed pull stops reading) never start.
    for (const w of this.waiting.splice(0)) w.fail(new Error('The pull snapshot is closed.'));
    await Promise.allSettled([...this.running]);
    await Promise.all(
      this.clients.map(async (c) => {
        let broken = false;
        await c.query('ROLLBACK').catch(() => {
          broken = true;
        });
        c.release(broken);
      }),
    );
  }
}

/** Opens a snapshot of the target, runs fn in it, and always ends it. */
async function inSnapshot<T>(
  live: PostgresStore,
  fn: (s: SnapshotSession) => Promise<T>,
): Promise<T> {
  const session = await SnapshotSession.open(live);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** What a base read through a snapshot holds besides its entries and directory. */
interface BaseExtras {
  extras: BaseExtraContent;
  environment: string | null;
  /** The audit chain's head in the snapshot (see 0280_audit_position.sql). */
  head: AuditHead;
}

/**
 * The parts of a base the audit trail does not record (metadata, templates, policy rules,
 * template applications, the environment label) and the audit head, through a snapshot's view.
 */
async function readBaseExtras(view: PostgresStore): Promise<BaseExtras> {
  const [metadata, templates, environment, rules, applications, head] = await Promise.all([
    view.readMetadata(),
    view.readTemplates(),
    view.getSetting('environment'),
    policyRulesOf(view),
    readApplications(view),
    view.pool.query<AuditHead>(
      'SELECT last_seq::text AS seq, last_hash AS hash, current_user::text AS role FROM strata_audit_head WHERE id',
    ),
  ]);
  return {
    environment,
    head: head.rows[0]!,
    extras: {
      metadata,
      templates,
      settings: { [POLICY_RULES_SETTING]: JSON.stringify(rules) },
      applications,
    },
  };
}

/** Everything of a base but its entries, read through a snapshot's view of the target. */
async function readBaseRest(
  view: PostgresStore,
): Promise<{ rest: Omit<BaseContent, 'entries'>; environment: string | null; head: AuditHead }> {
  const [directory, { extras, environment, head }] = await Promise.all([
    view.readDirectory(),
    readBaseExtras(view),
  ]);
  return { environment, head, rest: { directory, ...extras } };
}

/** Appends the rows of a flat chunk to `out` as entries (entryFromRow: shared strings too). */
function entriesOfChunk(level: Level, flat: readonly unknown[], out: ConfigEntry[]): void {
  const s = LEVEL_TABLES[level].scopeColumns.length;
  const w = flatWidth(level);
  const text = (i: number): string => String(flat[i]);
  for (let i = 0; i < flat.length; i += w) {
    const scope = s === 0 ? '' : s === 1 ? text(i) : `${text(i)}/${text(i + 1)}`;
    const r = i + s;
    out.push(
      entryFromRow(level, [
        scope,
        text(r),
        text(r + 1),
        text(r + 2),
        Number(flat[r + 3]),
        Number(flat[r + 4]),
        text(r + 5),
        text(r + 6),
        (flat[r + 7] as string | null) ?? null,
      ]),
    );
  }
}

/**
 * Reads a base through one snapshot of the target: the rest (directory, metadata, templates,
 * settings) goes to `onRest` as soon as it arrives, and each chunk of entries to `onEntries`
 * while the next chunks are being read. Returns the rest, the environment and the entry count.
 */
async function streamBase(
  live: PostgresStore,
  onRest: (rest: Omit<BaseContent, 'entries'>) => void,
  onEntries: (level: Level, flat: unknown[]) => void,
  onProgress?: ProgressListener,
): Promise<{
  rest: Omit<BaseContent, 'entries'>;
  environment: string | null;
  head: AuditHead;
  entries: number;
}> {
  return inSnapshot(live, async (s) => {
    const restRead = readBaseRest(s.view).then((r) => {
      onRest(r.rest);
      return r;
    });
    // Awaited below; a failure while the entries are still streaming must not go unhandled.
    restRead.catch(() => undefined);
    const entries = await s.streamEntries(onEntries, onProgress);
    const { rest, environment, head } = await restRead;
    return { rest, environment, head, entries };
  });
}

/** What a pull reports: the draft, its source and the counts of what it read. */
function pullResult(
  path: string,
  live: PostgresStore,
  from: BaseSource,
  read: { rest: Omit<BaseContent, 'entries'>; environment: string | null; entries: number },
  outcome: Pick<PullResult, 'mode' | 'staged' | 'moved' | 'reconciled'>,
): PullResult {
  const d = read.rest.directory;
  return {
    draft: path,
    source: live.target,
    environment: read.environment,
    mode: outcome.mode,
    pulledAt: from.pulledAt,
    entries: read.entries,
    tenants: d.tenants.length,
    departments: d.departments.length,
    groups: d.groups.length,
    users: d.users.length,
    metadata: read.rest.metadata.length,
    templates: read.rest.templates.length,
    staged: outcome.staged,
    moved: outcome.moved,
    reconciled: outcome.reconciled,
  };
}

/**
 * Reads everything a base is made of from a target, all of it as of one instant (one
 * snapshot shared by the connections that read it).
 */
export async function readBaseContent(
  live: PostgresStore,
  onProgress?: ProgressListener,
): Promise<{ content: BaseContent; environment: string | null; head: AuditHead }> {
  onProgress?.({ phase: 'read', done: 0, total: 1, message: `reading ${live.target}` });
  const entries: ConfigEntry[] = [];
  const { rest, environment, head } = await streamBase(
    live,
    () => undefined,
    (level, flat) => entriesOfChunk(level, flat, entries),
  );
  onProgress?.({ phase: 'read', done: 1, total: 1 });
  return { content: { ...rest, entries }, environment, head };
}

function sourceOf(
  live: PostgresStore,
  environment: string | null,
  head: AuditHead | null,
): BaseSource {
  return { source: live.target, environment, pulledAt: new Date().toISOString(), auditHead: head };
}

/** Replaces a draft's base with the target's current state (keeping staged changes). */
export async function refreshBase(
  ws: DraftWorkspace,
  live: PostgresStore,
  onProgress?: ProgressListener,
): Promise<{ environment: string | null; entries: number }> {
  const { content, environment, head } = await readBaseContent(live, onProgress);
  ws.replaceBaseSync(content, sourceOf(live, environment, head), onProgress);
  return { environment, entries: content.entries.length };
}

/**
 * The parts of the base the audit trail does not cover (metadata, templates, policy rules,
 * template applications, the environment label), read again, when the audit trail shows that
 * the base still is the target's state; null when it may not be.
 *
 * The base is current when it was read from this database, the head recorded with it is a
 * link of the target's chain, and no audit row came after that head but the push `pushId`
 * (whose own rows the draft wrote into its base when it recorded the push; null counts every
 * row). See 0280_audit_position.sql. Row-level security makes a base the view of the role that
 * read it: with `sameReader` the connected role must be that role (a pull, which promises the
 * connected role's view); without it (the refresh after a push) the base stays the view of its
 * reader, and the head returned says so. The count, the role and the extras come from one
 * snapshot.
 */
async function extrasIfCurrent(
  ws: DraftWorkspace,
  live: PostgresStore,
  pushId: string | null,
  sameReader: boolean,
  onProgress?: ProgressListener,
): Promise<BaseExtras | null> {
  const since = ws.auditHead();
  const source = ws.source();
  if (since === null || source === null || databaseId(source) !== databaseId(live.target)) {
    return null;
  }
  onProgress?.({ phase: 'read', done: 0, total: 1, message: 'checking the audit trail' });
  const quick = await inSnapshot(live, async (s) => {
    const r = await s.view.pool.query<{ others: string | null; role: string }>(
      `SELECT strata_audit_changes_since($1::bigint, $2, $3)::text AS others,
              current_user::text AS role`,
      [since.seq, since.hash, pushId],
    );
    const row = r.rows[0];
    if (row?.others !== '0' || (sameReader && row.role !== since.role)) return null;
    return readBaseExtras(s.view);
  });
  return quick === null ? null : { ...quick, head: { ...quick.head, role: since.role } };
}

/**
 * The refresh after a push. When nothing but this push (`pushId`; null for a push that sent
 * nothing) changed the target's values or directory since the base was read, the base already
 * is the target's state, and only what the audit trail does not cover is read again: a few
 * hundred rows instead of the whole database (extrasIfCurrent). Otherwise, or for a base whose
 * audit head is unknown (pulled by an older Strata, or never pulled), the whole base is read
 * again, as the pushing role sees it. Returns whether the whole base was read.
 */
export async function refreshAfterPush(
  ws: DraftWorkspace,
  live: PostgresStore,
  pushId: string | null,
  onProgress?: ProgressListener,
): Promise<{ whole: boolean }> {
  const quick = await extrasIfCurrent(ws, live, pushId, false);
  if (quick !== null) {
    ws.replaceExtrasSync(quick.extras, sourceOf(live, quick.environment, quick.head));
    return { whole: false };
  }
  await refreshBase(ws, live, onProgress);
  return { whole: true };
}

/** True when the push id is recorded in the target's config_pushes. */
export async function pushLanded(live: PostgresStore, pushId: string): Promise<boolean> {
  const r = await live.pool.query('SELECT 1 FROM config_pushes WHERE id = $1', [pushId]);
  return (r.rowCount ?? 0) > 0;
}

/**
 * Settles the draft's pending pushes to this target: one that landed is recorded as applied
 * (its staged rows marked pushed or discarded, a fresh draft takes the target as its source);
 * one that did not stays pending, so the next push reuses its id. Returns the landed pushes.
 */
export async function reconcilePending(
  ws: DraftWorkspace,
  live: PostgresStore,
): Promise<DraftPushRecord[]> {
  const landed: DraftPushRecord[] = [];
  const rec = ws.pendingPush(databaseId(live.target));
  if (rec === null) return landed;
  if (await pushLanded(live, rec.id)) {
    const environment = await live.getSetting('environment');
    ws.finalizePushSync(rec, null, rec.fresh ? sourceOf(live, environment, null) : null);
    landed.push(rec);
  }
  return landed;
}

function baseIsEmpty(ws: DraftWorkspace): boolean {
  const tables = [
    'tenants',
    'users',
    'groups',
    'config_global',
    'config_tenant',
    'config_department',
    'config_group',
    'config_user',
  ];
  const sql = tables.map((t) => `EXISTS (SELECT 1 FROM ${t})`).join(' OR ');
  return ws.db.prepare(`SELECT ${sql}`).pluck().get() === 0;
}

function removeFiles(path: string): void {
  for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    rmSync(f, { force: true });
  }
}

/** Flushes a finished file to the disk, so the name it is renamed to never points at less. */
function syncFile(path: string, flags = 'r+'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a rename durable where the platform allows syncing a folder (not on Windows). */
function syncFolder(dir: string): void {
  try {
    syncFile(dir, 'r');
  } catch {
    // The rename itself is atomic; only its durability across a power cut is at stake here.
  }
}

async function pullNew(url: string, path: string, opts: PullOptions): Promise<PullResult> {
  if (!existsSync(dirname(path))) {
    throw new StrataError(
      'invalid',
      `Cannot create draft ${path}: the folder ${dirname(path)} does not exist.`,
    );
  }
  opts.onProgress?.({ phase: 'connect', done: 0, total: 1, message: redactUrl(url) });
  const live = await openTarget(url);
  try {
    const tmp = join(
      dirname(path),
      `.${basename(path)}.pull-${randomBytes(6).toString('hex')}.tmp`,
    );
    try {
      const store = SqliteStore.open(tmp, { create: true });
      let read: Awaited<ReturnType<typeof streamBase>>;
      let from: BaseSource;
      try {
        const loader = FreshBaseLoader.begin(DraftWorkspace.wrap(store));
        try {
          opts.onProgress?.({
            phase: 'read',
            done: 0,
            total: 1,
            message: `reading ${live.target}`,
          });
          // The directory and the rest are written as soon as they arrive (while the first
          // entries are still being read), and each chunk of entries while the next ones are.
          read = await streamBase(
            live,
            (rest) => loader.addRest(rest),
            (level, flat) => loader.addEntries(level, flat),
            opts.onProgress,
          );
          from = sourceOf(live, read.environment, read.head);
          loader.finish(from);
        } catch (err) {
          loader.abort();
          throw err;
        }
        // Fold the WAL into the file so the rename below moves everything there is.
        store.db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        await store.close();
      }
      syncFile(tmp);
      if (existsSync(path)) {
        throw new StrataError(
          'conflict',
          `${path} appeared while the pull was running; it was left alone, pull again into another file.`,
        );
      }
      for (const suffix of ['-wal', '-shm']) {
        if (existsSync(`${tmp}${suffix}`)) renameSync(`${tmp}${suffix}`, `${path}${suffix}`);
      }
      renameSync(tmp, path);
      syncFolder(dirname(path));
      return pullResult(path, live, from, read, {
        mode: 'created',
        staged: 0,
        moved: 0,
        reconciled: [],
      });
    } catch (err) {
      removeFiles(tmp);
      throw err;
    }
  } finally {
    await live.close();
  }
}

async function pullInto(url: string, path: string, opts: PullOptions): Promise<PullResult> {
  const ws = DraftWorkspace.open(path);
  try {
    return await pullIntoWorkspace(ws, url, opts);
  } finally {
    await ws.close();
  }
}

/**
 * Pulls the target into an open draft workspace of the same database (the console's "pull
 * again"): a rebase that keeps every staged change, or 'current' when the audit trail shows
 * nothing to read (see extrasIfCurrent).
 */
export async function pullIntoWorkspace(
  ws: DraftWorkspace,
  url: string,
  opts: PullOptions = {},
): Promise<PullResult> {
  const path = ws.path;
  const source = ws.source();
  const target = redactUrl(url);
  if (source !== null && databaseId(source) !== databaseId(url)) {
    throw new StrataError(
      'invalid',
      `Draft ${path} was pulled from ${source}, not ${target}; pull ${target} into a new file instead.`,
    );
  }
  opts.onProgress?.({ phase: 'connect', done: 0, total: 1, message: target });
  const live = await openTarget(url);
  try {
    // A first push whose outcome was never recorded gives the draft its source here.
    const reconciled = await reconcilePending(ws, live);
    if (ws.source() === null && !baseIsEmpty(ws)) {
      throw new StrataError(
        'invalid',
        `Draft ${path} has no source and holds data that was never pushed; push it first (strata push ${basename(path)} --to <url>) or pull into a new file.`,
      );
    }
    const outcome = (mode: PullResult['mode']) => ({
      mode,
      staged: ws.stagedRows().length,
      moved: ws.keptBases().size,
      reconciled: reconciled.map((r) => r.id),
    });
    // A push found landed just now wrote rows after the recorded head: read it all then.
    const quick =
      reconciled.length === 0 ? await extrasIfCurrent(ws, live, null, true, opts.onProgress) : null;
    if (quick !== null) {
      const from = sourceOf(live, quick.environment, quick.head);
      ws.replaceExtrasSync(quick.extras, from);
      const counts = ws.baseCounts();
      return {
        draft: path,
        source: live.target,
        environment: quick.environment,
        pulledAt: from.pulledAt,
        ...counts,
        metadata: quick.extras.metadata.length,
        templates: quick.extras.templates.length,
        ...outcome('current'),
      };
    }
    const { content, environment, head } = await readBaseContent(live, opts.onProgress);
    const from = sourceOf(live, environment, head);
    ws.replaceBaseSync(content, from, opts.onProgress);
    return pullResult(
      path,
      live,
      from,
      { rest: content, environment, entries: content.entries.length },
      outcome('rebased'),
    );
  } finally {
    await live.close();
  }
}

/**
 * Pulls a PostgreSQL database into a draft: a new draft file, or a rebase of an existing one.
 * A file that is not a Strata workspace (or is damaged, newer or locked) is refused untouched.
 */
export async function pullDraft(
  url: string,
  file: string,
  opts: PullOptions = {},
): Promise<PullResult> {
  const checked = assertPostgresUrl(url, 'The source');
  if (typeof file !== 'string' || file.trim() === '') {
    throw new StrataError('invalid', 'Name the draft file to pull into, e.g. draft.sqlite.');
  }
  const path = resolve(file);
  return existsSync(path) ? pullInto(checked, path, opts) : pullNew(checked, path, opts);
}
