/**
 * Guardrails as a service: `strata lint`, the console's Lint panel, and the checks plan and push
 * run. Policy rules come from the database (config_policy_rules, migration 0200); a draft keeps
 * the copy it was pulled with in its settings (`policy_rules`), so lint works offline too.
 *
 * Push rule: a change set whose guardrails report errors is refused. Error-level policy findings
 * (and only those) may be overridden by a super_admin who gives a reason; locks, invalid values
 * and plaintext secrets are never overridable (the database refuses them as well).
 */
import type { ConfigIndex } from '../core/config-index.js';
import { OverlayView, indexView } from '../core/impact.js';
import type { SlotChange } from '../core/impact.js';
import {
  LINT_RULES,
  blockingFindings,
  lintChangesBetween,
  lintIndex,
  parsePolicyRule,
  summarise,
} from '../core/lint.js';
import type { LintFinding, LintReport, LintRule, PolicyRule } from '../core/lint.js';
import { StrataError } from '../core/types.js';
import type { ConfigEntry } from '../core/types.js';
import { PostgresStore } from '../store/postgres-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { StrataConfigService } from './config-service.js';
import type { GuardrailHook } from './push-service.js';

/** The draft setting that holds a copy of the source database's policy rules (JSON array). */
export const POLICY_RULES_SETTING = 'policy_rules';

interface RuleRow {
  id: string;
  description: string;
  severity: string;
  when_key: string | null;
  when_op: string | null;
  when_value: unknown;
  require_key: string;
  require_op: string;
  require_value: unknown;
  tenant_id: string | null;
  enabled: boolean;
}

/** A config_policy_rules row as a PolicyRule. */
export function ruleFromRow(r: RuleRow): PolicyRule {
  return parsePolicyRule({
    id: r.id,
    description: r.description,
    severity: r.severity,
    when:
      r.when_key === null ? null : { key: r.when_key, op: r.when_op, value: r.when_value ?? null },
    require: { key: r.require_key, op: r.require_op, value: r.require_value ?? null },
    tenantId: r.tenant_id,
    enabled: r.enabled,
  });
}

/** Policy rules of a store: the table on PostgreSQL, the pulled copy in a draft (sorted by id). */
export async function policyRulesOf(store: Store): Promise<PolicyRule[]> {
  if (store instanceof PostgresStore) {
    try {
      const r = await store.pool.query<RuleRow>(
        `SELECT id, description, severity, when_key::text, when_op::text, when_value, require_key::text,
                require_op::text, require_value, tenant_id, enabled
         FROM config_policy_rules ORDER BY id`,
      );
      return r.rows.map(ruleFromRow);
    } catch (err) {
      // A database migrated before 0200 simply has no rules yet.
      if ((err as { code?: string }).code === '42P01') return [];
      throw err;
    }
  }
  const text = await store.getSetting(POLICY_RULES_SETTING);
  if (text === null) return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw new StrataError(
      'invalid',
      `The draft's copy of the policy rules is damaged; pull again to refresh it.`,
    );
  }
  if (!Array.isArray(list)) {
    throw new StrataError(
      'invalid',
      `The draft's copy of the policy rules is damaged; pull again to refresh it.`,
    );
  }
  return list
    .map((x) => parsePolicyRule(x))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Copies the source's policy rules into a draft (call when pulling); returns how many. */
export async function copyPolicyRules(from: Store, to: Store): Promise<number> {
  const rules = await policyRulesOf(from);
  await to.setSetting(POLICY_RULES_SETTING, JSON.stringify(rules));
  return rules.length;
}

/** A draft's staged changes in stored form, and the base entries they replace (by slot id). */
export function stagedChangeSet(store: SqliteStore): {
  staged: SlotChange[];
  base: Map<string, ConfigEntry>;
} {
  const staged: SlotChange[] = store.stagedChanges().map((r) => ({
    level: r.level,
    scope: r.scope,
    key: r.key,
    action: r.action,
    value: r.action === 'set' ? r.value : null,
    valueType: r.valueType,
    encrypted: r.encrypted,
    locked: r.locked,
  }));
  const wanted = new Set(staged.map(slotId));
  const base = new Map<string, ConfigEntry>();
  if (wanted.size > 0) {
    for (const e of store.baseEntries()) {
      const id = slotId(e);
      if (wanted.has(id)) base.set(id, e);
    }
  }
  return { staged, base };
}

/** Slot identity used by the change-set helpers. */
export function slotId(s: { level: string; scope: string; key: string }): string {
  return `${s.level}\u0000${s.scope}\u0000${s.key}`;
}

/** Changes that put the base back over an index that already holds the staged changes. */
export function undoChanges(
  staged: readonly SlotChange[],
  base: ReadonlyMap<string, ConfigEntry>,
): SlotChange[] {
  return staged.map((c): SlotChange => {
    const b = base.get(slotId(c));
    return b
      ? {
          level: c.level,
          scope: c.scope,
          key: c.key,
          action: 'set',
          value: b.value,
          valueType: b.valueType,
          encrypted: b.encrypted,
          locked: b.locked,
        }
      : {
          level: c.level,
          scope: c.scope,
          key: c.key,
          action: 'unset',
          value: null,
          valueType: 'string',
          encrypted: false,
          locked: false,
        };
  });
}

/** What a lint run covers. */
export interface LintRunOptions {
  /** Only these guardrails. */
  only?: LintRule[];
  /** Lint the open draft's staged changes (what plan and push check) instead of everything. */
  staged?: boolean;
}

/** An operator override of error-level policy findings at push time. */
export interface PushOverride {
  reason: string;
}

/** The result of a push check. */
export interface PushCheck {
  report: LintReport;
  /** Error findings that stop the push (after any override). */
  blocking: LintFinding[];
  /** Error-level policy findings waived by a super_admin's override. */
  overridden: LintFinding[];
}

function checkOnly(only: unknown): LintRule[] | undefined {
  if (only === undefined) return undefined;
  if (!Array.isArray(only) || !only.every((r) => (LINT_RULES as readonly string[]).includes(r))) {
    throw new StrataError(
      'invalid',
      `Unknown guardrail; the guardrails are ${LINT_RULES.join(', ')}.`,
    );
  }
  return only as LintRule[];
}

/**
 * Decides a push: every error finding blocks it, except error-level policy findings when a
 * super_admin overrides them with a reason. Throws StrataError('forbidden') naming what blocks;
 * returns the check (with what was overridden) when the push may go ahead.
 */
export function checkPush(
  report: LintReport,
  operator: { id: string; traits: readonly string[] },
  override: PushOverride | null = null,
): PushCheck {
  const errors = blockingFindings(report);
  const policy = errors.filter((f) => f.rule === 'policy');
  const hard = errors.filter((f) => f.rule !== 'policy');
  let overridden: LintFinding[] = [];
  if (policy.length > 0 && override !== null) {
    const reason = typeof override.reason === 'string' ? override.reason.trim() : '';
    if (!operator.traits.includes('super_admin')) {
      throw new StrataError(
        'forbidden',
        `Only a super_admin may override policy rules; ${operator.id} is not one.`,
      );
    }
    if (reason === '') {
      throw new StrataError('invalid', 'Overriding a policy rule needs a reason.');
    }
    overridden = policy;
  }
  const blocking = overridden.length > 0 ? hard : errors;
  if (blocking.length > 0) {
    const shown = blocking.slice(0, 3).map((f) => f.message);
    const more = blocking.length > 3 ? ` (and ${blocking.length - 3} more)` : '';
    const hint = blocking.some((f) => f.rule === 'policy')
      ? ' A super_admin may override policy findings with a reason.'
      : '';
    throw new StrataError('forbidden', `The push was refused: ${shown.join(' ')}${more}${hint}`, {
      findings: blocking.map((f) => ({
        rule: f.rule,
        key: f.key,
        level: f.level,
        scope: f.scope,
        policyId: f.policyId ?? null,
      })),
    });
  }
  return { report, blocking: [], overridden };
}

/**
 * The guardrails of a change set about to be pushed, judged against the live index (so locks
 * and policies are re-checked against what production holds now).
 */
export async function pushGuardrails(
  liveIndex: ConfigIndex,
  liveStore: Store,
  changes: readonly SlotChange[],
): Promise<LintReport> {
  const rules = await policyRulesOf(liveStore);
  const after = new OverlayView(liveIndex, changes);
  return lintChangesBetween(indexView(liveIndex), after, after.changes(), { rules });
}

/** The lint service of one open workspace. */
export class LintService {
  constructor(readonly config: StrataConfigService) {}

  /** The policy rules in force for this workspace. */
  async rules(): Promise<PolicyRule[]> {
    return policyRulesOf(this.config.store);
  }

  /** Runs the guardrails over everything, or over the open draft's staged changes. */
  async run(opts: LintRunOptions = {}): Promise<LintReport> {
    const only = checkOnly(opts.only);
    const rules = await this.rules();
    const index = this.config.index;
    if (opts.staged !== true) return lintIndex(index, { rules, ...(only ? { only } : {}) });
    const store = this.config.store;
    if (!(store instanceof SqliteStore)) {
      throw new StrataError(
        'invalid',
        'A live database has no staged changes; open a draft to lint them.',
      );
    }
    const { staged, base } = stagedChangeSet(store);
    if (staged.length === 0) return summarise([]);
    const before = new OverlayView(index, undoChanges(staged, base));
    return lintChangesBetween(before, indexView(index), staged, {
      rules,
      ...(only ? { only } : {}),
    });
  }

  /** Adds or replaces a policy rule (PostgreSQL; super_admin). */
  async saveRule(input: unknown): Promise<PolicyRule> {
    const rule = parsePolicyRule(input);
    const store = this.pg();
    this.assertSuperAdmin();
    const c = await store.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query("SELECT set_config('strata.operator', $1, true)", [this.config.operator().id]);
      await c.query(
        `INSERT INTO config_policy_rules (id, description, severity, when_key, when_op, when_value,
                                          require_key, require_op, require_value, tenant_id, enabled)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, $10, $11)
         ON CONFLICT (id) DO UPDATE SET description = EXCLUDED.description, severity = EXCLUDED.severity,
           when_key = EXCLUDED.when_key, when_op = EXCLUDED.when_op, when_value = EXCLUDED.when_value,
           require_key = EXCLUDED.require_key, require_op = EXCLUDED.require_op,
           require_value = EXCLUDED.require_value, tenant_id = EXCLUDED.tenant_id, enabled = EXCLUDED.enabled`,
        [
          rule.id,
          rule.description,
          rule.severity,
          rule.when?.key ?? null,
          rule.when?.op ?? null,
          rule.when && rule.when.value !== undefined && rule.when.value !== null
            ? JSON.stringify(rule.when.value)
            : null,
          rule.require.key,
          rule.require.op,
          rule.require.value !== undefined && rule.require.value !== null
            ? JSON.stringify(rule.require.value)
            : null,
          rule.tenantId,
          rule.enabled,
        ],
      );
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      const e = err as { code?: string; message?: string };
      if (e.code === '23503')
        throw new StrataError(
          'invalid',
          `Policy rule ${rule.id} names a tenant that does not exist.`,
        );
      if (e.code === '42501')
        throw new StrataError(
          'forbidden',
          `The database refused the rule: ${e.message ?? ''}`.trim(),
        );
      throw err;
    } finally {
      c.release();
    }
    return rule;
  }

  /** Removes a policy rule (PostgreSQL; super_admin); false when there was none. */
  async deleteRule(id: string): Promise<boolean> {
    const store = this.pg();
    this.assertSuperAdmin();
    const r = await store.pool.query('DELETE FROM config_policy_rules WHERE id = $1', [id]);
    return (r.rowCount ?? 0) > 0;
  }

  private pg(): PostgresStore {
    const store = this.config.store;
    if (!(store instanceof PostgresStore)) {
      throw new StrataError(
        'invalid',
        'Policy rules are edited in the PostgreSQL database, not in a draft.',
      );
    }
    return store;
  }

  private assertSuperAdmin(): void {
    const op = this.config.operator();
    if (!op.traits.includes('super_admin')) {
      throw new StrataError(
        'forbidden',
        `Changing policy rules requires super_admin; ${op.id} is not one.`,
      );
    }
  }
}

const services = new WeakMap<object, LintService>();

/** The lint service of a config service (one per config service). */
export function lintServiceFor(config: StrataConfigService): LintService {
  let s = services.get(config);
  if (!s) {
    s = new LintService(config);
    services.set(config, s);
  }
  return s;
}

/**
 * The push-service guardrails hook (push-service.ts GuardrailHook): judges the change set a push
 * is about to write against the target as it is now (locks and policy rules re-checked live) and
 * refuses it on any error finding, except error-level policy findings a super_admin overrides
 * with `override.reason`. `onChecked` receives the outcome (e.g. to print what was overridden).
 */
export function pushGuardrailHook(
  override: PushOverride | null = null,
  onChecked?: (check: PushCheck) => void,
): GuardrailHook {
  return async (ctx) => {
    const report = await pushGuardrails(await ctx.liveIndex(), ctx.live, ctx.changes);
    const check = checkPush(report, ctx.operator, override);
    onChecked?.(check);
  };
}
