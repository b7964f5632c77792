/**
 * Template applications travel with a push. A draft records every template it applies (tenant
 * provisioning, `strata template apply`, upgrades) in its own template_applications table; a
 * pull copies the target's rows in, marked as the target's (from_target). The push carries the
 * rows the draft wrote itself that differ from the target's, and upserts them in its
 * transaction (template-store.ts writeApplications), so the target's upgrade listing knows
 * which version each scope runs. Rights: the operator must be allowed to write
 * configuration at the row's level and scope (checked before the push; row-level security on
 * template_applications checks it again for mapped roles).
 */
import { LEVELS, type Level } from '../core/types.js';
import type { PostgresStore } from '../store/postgres-store.js';
import type { DraftWorkspace } from './draft-workspace.js';
import type { ApplicationRecord } from './template-store.js';

const LEVEL_SET: ReadonlySet<string> = new Set(LEVELS);

interface DraftApplicationRow {
  template_name: string;
  version: number;
  level: string;
  scope: string;
}

function appKey(a: Pick<ApplicationRecord, 'template' | 'level' | 'scope'>): string {
  return `${a.template}\u0000${a.level}\u0000${a.scope}`;
}

/**
 * The draft's own template applications (written by the draft, not copied from its target by
 * a pull; see migrations/sqlite/0004_application_origin.sql), oldest key first. Rows whose
 * level is not a configuration level are left out.
 */
export function draftApplications(ws: DraftWorkspace): ApplicationRecord[] {
  const rows = ws.db
    .prepare(
      'SELECT template_name, version, level, scope FROM template_applications WHERE from_target = 0 ORDER BY template_name, level, scope',
    )
    .all() as DraftApplicationRow[];
  const out: ApplicationRecord[] = [];
  for (const r of rows) {
    if (!LEVEL_SET.has(r.level)) continue;
    out.push({
      template: r.template_name,
      version: Number(r.version),
      level: r.level as Level,
      scope: r.scope,
    });
  }
  return out;
}

/**
 * The applications a push of this draft must write: the draft's new or changed rows that the
 * target does not already hold at the same version.
 */
export async function pendingApplications(
  ws: DraftWorkspace,
  live: PostgresStore,
): Promise<ApplicationRecord[]> {
  const mine = draftApplications(ws);
  if (mine.length === 0) return [];
  const r = await live.pool.query<{ n: string; l: Level; s: string; version: number }>(
    `SELECT t.template_name AS n, t.level AS l, t.scope AS s, t.version
     FROM template_applications t
     JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(n, l, s)
       ON t.template_name = u.n AND t.level = u.l AND t.scope = u.s`,
    [mine.map((a) => a.template), mine.map((a) => a.level), mine.map((a) => a.scope)],
  );
  const held = new Map(
    r.rows.map((x) => [appKey({ template: x.n, level: x.l, scope: x.s }), Number(x.version)]),
  );
  return mine.filter((a) => held.get(appKey(a)) !== a.version);
}
