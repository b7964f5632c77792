/**
 * Template applications travel with a push. A draft records every template it applies (tenant
 * provisioning, `strata template apply`, upgrades) in its own template_applications table; a
 * pull copies the target's rows in with their applied_at. The push carries the rows the draft
 * wrote since its last pull (applied_at after pulled_at, or every row of a fresh draft) that
 * differ from the target's, and the push upserts them in its transaction (template-store.ts
 * writeApplications), so the target's upgrade
 * listing knows which version each scope runs. Rights: the operator must be allowed to write
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
  applied_at: string | null;
}

function appKey(a: Pick<ApplicationRecord, 'template' | 'level' | 'scope'>): string {
  return `${a.template}\u0000${a.level}\u0000${a.scope}`;
}

function instant(text: string | null): number {
  if (text === null || text === '') return Number.NaN;
  return Date.parse(text);
}

/**
 * The draft's template applications written since its last pull (all of them for a fresh
 * draft), oldest key first. Rows whose level is not a configuration level are left out.
 */
export function draftApplications(ws: DraftWorkspace): ApplicationRecord[] {
  const pulled = instant(ws.pulledAt());
  const rows = ws.db
    .prepare(
      'SELECT template_name, version, level, scope, applied_at FROM template_applications ORDER BY template_name, level, scope',
    )
    .all() as DraftApplicationRow[];
  const out: ApplicationRecord[] = [];
  for (const r of rows) {
    if (!LEVEL_SET.has(r.level)) continue;
    // A row the pull copied carries the target's applied_at, which is not after the pull; a
    // row the draft wrote (or rewrote) is stamped when it was written.
    if (!Number.isNaN(pulled) && !(instant(r.applied_at) > pulled)) continue;
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
