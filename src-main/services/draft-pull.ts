/**
 * `strata pull`: a snapshot of a PostgreSQL configuration database (all levels, directory,
 * metadata, templates and their applications, policy rules; not the audit history) into a draft
 * workspace. A new draft is written to a temporary file next to the target and renamed into
 * place only when complete, so a failed pull (unreachable or unmigrated database, a dropped
 * connection, a full disk) never leaves a half-made draft behind. Pulling into an existing draft
 * is a rebase: the base is replaced, every staged change is kept (see replaceBaseSync).
 *
 * Also here: reconciling pushes whose outcome a draft never recorded (a lost COMMIT, a killed
 * process), because both pull and push must do that before they touch the base.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { StrataError } from '../core/types.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { redactUrl } from '../store/store.js';
import { assertPostgresUrl, databaseId, openTarget } from './draft-target.js';
import {
  DraftWorkspace,
  type BaseContent,
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
  /** 'created' for a new draft, 'rebased' for an existing one. */
  mode: 'created' | 'rebased';
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

/** Reads everything a base is made of from a target. */
export async function readBaseContent(
  live: PostgresStore,
  onProgress?: ProgressListener,
): Promise<{ content: BaseContent; environment: string | null }> {
  onProgress?.({ phase: 'read', done: 0, total: 1, message: `reading ${live.target}` });
  const [snap, templates, environment, rules, applications] = await Promise.all([
    live.snapshot(),
    live.readTemplates(),
    live.getSetting('environment'),
    policyRulesOf(live),
    readApplications(live),
  ]);
  onProgress?.({ phase: 'read', done: 1, total: 1 });
  return {
    environment,
    content: {
      entries: snap.entries,
      directory: snap.directory,
      metadata: snap.metadata,
      templates,
      settings: { [POLICY_RULES_SETTING]: JSON.stringify(rules) },
      applications,
    },
  };
}

function sourceOf(live: PostgresStore, environment: string | null): BaseSource {
  return { source: live.target, environment, pulledAt: new Date().toISOString() };
}

/** Replaces a draft's base with the target's current state (keeping staged changes). */
export async function refreshBase(
  ws: DraftWorkspace,
  live: PostgresStore,
  onProgress?: ProgressListener,
): Promise<{ environment: string | null; entries: number }> {
  const { content, environment } = await readBaseContent(live, onProgress);
  ws.replaceBaseSync(content, sourceOf(live, environment), onProgress);
  return { environment, entries: content.entries.length };
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
    ws.finalizePushSync(rec, null, rec.fresh ? sourceOf(live, environment) : null);
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
    const { content, environment } = await readBaseContent(live, opts.onProgress);
    const from = sourceOf(live, environment);
    const tmp = join(
      dirname(path),
      `.${basename(path)}.pull-${randomBytes(6).toString('hex')}.tmp`,
    );
    try {
      const store = SqliteStore.open(tmp, { create: true });
      try {
        DraftWorkspace.wrap(store).replaceBaseSync(content, from, opts.onProgress);
        // Fold the WAL into the file so the rename below moves everything there is.
        store.db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        await store.close();
      }
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
    } catch (err) {
      removeFiles(tmp);
      throw err;
    }
    const d = content.directory;
    return {
      draft: path,
      source: live.target,
      environment,
      mode: 'created',
      pulledAt: from.pulledAt,
      entries: content.entries.length,
      tenants: d.tenants.length,
      departments: d.departments.length,
      groups: d.groups.length,
      users: d.users.length,
      metadata: content.metadata.length,
      templates: content.templates.length,
      staged: 0,
      moved: 0,
      reconciled: [],
    };
  } finally {
    await live.close();
  }
}

async function pullInto(url: string, path: string, opts: PullOptions): Promise<PullResult> {
  const ws = DraftWorkspace.open(path);
  try {
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
      const { content, environment } = await readBaseContent(live, opts.onProgress);
      const from = sourceOf(live, environment);
      ws.replaceBaseSync(content, from, opts.onProgress);
      const d = content.directory;
      return {
        draft: path,
        source: live.target,
        environment,
        mode: 'rebased',
        pulledAt: from.pulledAt,
        entries: content.entries.length,
        tenants: d.tenants.length,
        departments: d.departments.length,
        groups: d.groups.length,
        users: d.users.length,
        metadata: content.metadata.length,
        templates: content.templates.length,
        staged: ws.stagedRows().length,
        moved: ws.keptBases().size,
        reconciled: reconciled.map((r) => r.id),
      };
    } finally {
      await live.close();
    }
  } finally {
    await ws.close();
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
