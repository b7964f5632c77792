/**
 * The template service: templates wired onto a workspace. It lists and shows templates (stored
 * in config_templates, else the shipped files), previews a rendered template as a diff against
 * what a scope holds and inherits, applies it (live and audited on PostgreSQL, staged in a draft),
 * provisions tenants from tenant templates in one change set, lists and applies template
 * upgrades per scope, saves a scope's overrides as a custom template, and sets or removes one
 * key across many scopes at once (bulk edit). Every write goes through writeChangeSet, so each
 * operation lands as one unit or not at all; secrets are encrypted before they are stored and
 * masked in everything returned.
 */
import { assertValidKey, assertValidScope, parseLevel } from '../core/keys.js';
import { MASK } from '../core/masking.js';
import { isSecretKey } from '../core/secret-keys.js';
import { assertNoLockViolations } from '../core/impact.js';
import {
  TEMPLATE_NAME_RE,
  diffTemplateChanges,
  missingTraits,
  parseTemplate,
  planTenant,
  renderTemplate,
  scanPlaceholders,
  templateFromOverrides,
  templateLevels,
  tenantGroupId,
  upgradeChanges,
} from '../core/templates/index.js';
import type {
  StoredValue,
  TemplateChange,
  TemplateDefinition,
  TemplateError,
  TemplateUpgradeChange,
} from '../core/templates/index.js';
import { LEVELS, StrataError, VALUE_TYPES } from '../core/types.js';
import type {
  ConfigEntry,
  Group,
  Level,
  Slot,
  SourceLevel,
  UserContext,
  ValueType,
} from '../core/types.js';
import { normaliseValue, validateValue } from '../core/validation.js';
import type { StoredChange } from '../store/store.js';
import { checkWrite, operatorOf } from './access.js';
import { MAX_REASON_LENGTH, MAX_VALUE_LENGTH } from './config-service.js';
import type { StrataConfigService } from './config-service.js';
import { codecChoiceFromEnv, codecChoiceOf } from './secret-codec.js';
import type { CodecChoice, SecretCodec } from './secret-codec.js';
import { loadBuiltinTemplatesSync } from './template-files.js';
import {
  isBuiltinName,
  publishTemplate,
  readApplications,
  readTemplateRecords,
  seedBuiltinTemplates,
  writeChangeSet,
} from './template-store.js';
import type { ApplicationRecord, ChangeSet, SeedResult, TemplateRecord } from './template-store.js';
import type {
  BulkItemView,
  BulkSetRequest,
  BulkSetResult,
  SaveTemplateRequest,
  TemplateApplication,
  TemplateApplyRequest,
  TemplateDetail,
  TemplateDiffSummary,
  TemplateDiffView,
  TemplateItemAction,
  TemplatePreview,
  TemplateSource,
  TemplateSummary,
  TemplateUpgradeRequest,
  TemplateUpgradeView,
  TemplateWriteResult,
  TenantCreateRequest,
  TenantCreateResult,
} from './template-types.js';

/** Most scopes one bulk edit may touch. */
export const MAX_BULK_SCOPES = 10_000;

/** Options for a template service. */
export interface TemplateServiceOptions {
  /** Secret codec; undefined: the config service's own (else CONFIG_ENCRYPTION_KEY). */
  codec?: CodecChoice | SecretCodec | null;
  /** Folder of the shipped template files (tests point it elsewhere). */
  builtinDir?: string;
  env?: Record<string, string | undefined>;
}

/** One template as the registry knows it. */
interface Known {
  def: TemplateDefinition;
  history: TemplateDefinition[];
  source: TemplateSource;
  stored: boolean;
  shippedVersion: number | null;
}

// Stands for a secret that cannot be decrypted here: it never equals a rendered value.
const UNKNOWN = '\u0000unknown';

interface Inherited {
  value: string | null;
  from: { level: SourceLevel; scope: string } | null;
  lockedAbove: boolean;
}

function emptySummary(): TemplateDiffSummary {
  return { create: 0, update: 0, remove: 0, unchanged: 0, redundant: 0 };
}

function summarise(items: readonly { action: TemplateItemAction }[]): TemplateDiffSummary {
  const s = emptySummary();
  for (const i of items) s[i.action]++;
  return s;
}

function describeTarget(level: Level, scope: string): string {
  return level === 'global' ? 'the global level' : `${level} ${scope}`;
}

/** "A; B; C" from messages that each end in a full stop. */
function joinErrors(errors: readonly TemplateError[]): string {
  return errors.map((e) => e.message.replace(/\.$/, '')).join('; ');
}

function checkReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null) return null;
  if (typeof reason !== 'string') throw new StrataError('invalid', 'The reason must be text.');
  if (reason.length > MAX_REASON_LENGTH) {
    throw new StrataError(
      'invalid',
      `The reason is ${reason.length} characters long; the limit is ${MAX_REASON_LENGTH}.`,
    );
  }
  return reason.trim() === '' ? null : reason.trim();
}

function checkVars(vars: unknown): Record<string, string> {
  if (vars === undefined || vars === null) return {};
  if (typeof vars !== 'object' || Array.isArray(vars)) {
    throw new StrataError('invalid', 'Template variables must be given as NAME=value pairs.');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars as Record<string, unknown>)) {
    if (typeof v !== 'string')
      throw new StrataError('invalid', `Variable ${k.slice(0, 60)} must be text.`);
    out[k] = v;
  }
  return out;
}

function shortName(name: string): string {
  return name.length > 60 ? `${name.slice(0, 57)}...` : name;
}

/**
 * Variables recovered from what a scope holds: each non-literal config of `def` is matched
 * against the slot's value ("{{EMAIL_USER}}" against "desk@gmail.com"), so an upgrade need not
 * ask again for values the scope already has.
 */
export function recoverVariables(
  def: TemplateDefinition,
  valueOf: (key: string) => string | null,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, cfg] of Object.entries(def.configs)) {
    if (cfg.literal) continue;
    const names = scanPlaceholders(cfg.value).names;
    if (names.length === 0) continue;
    const value = valueOf(key);
    if (value === null || value === UNKNOWN) continue;
    const seen = new Set<string>();
    let pattern = '';
    let last = 0;
    for (const m of cfg.value.matchAll(/\{\{([A-Z][A-Z0-9_]*)\}\}/g)) {
      pattern += cfg.value.slice(last, m.index).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const name = m[1]!;
      pattern += seen.has(name) ? `\\k<${name}>` : `(?<${name}>[\\s\\S]*?)`;
      seen.add(name);
      last = m.index + m[0].length;
    }
    pattern += cfg.value.slice(last).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const match = new RegExp(`^${pattern}$`).exec(value);
    if (!match?.groups) continue;
    for (const n of names) {
      const v = match.groups[n];
      if (v !== undefined && !(n in out)) out[n] = v;
    }
  }
  return out;
}

/** Templates on one open workspace. */
export class TemplateService {
  private builtinCache: TemplateDefinition[] | null = null;
  private readonly codecChoice: CodecChoice;

  constructor(
    readonly config: StrataConfigService,
    private readonly opts: TemplateServiceOptions = {},
  ) {
    this.codecChoice = resolveCodec(config, opts);
  }

  private get store() {
    return this.config.store;
  }

  private get idx() {
    return this.config.index;
  }

  private get mode(): 'live' | 'staged' {
    return this.store.kind === 'postgres' ? 'live' : 'staged';
  }

  private builtins(): TemplateDefinition[] {
    this.builtinCache ??= this.opts.builtinDir
      ? loadBuiltinTemplatesSync(this.opts.builtinDir)
      : loadBuiltinTemplatesSync();
    return this.builtinCache;
  }

  /** Stored templates override shipped files of the same name. */
  private async registry(): Promise<Map<string, Known>> {
    const { records } = await readTemplateRecords(this.store);
    const out = new Map<string, Known>();
    for (const b of this.builtins()) {
      const r = records.get(b.name);
      out.set(b.name, {
        def: r?.definition ?? b,
        history: r?.history ?? [],
        source: 'builtin',
        stored: !!r,
        shippedVersion: r && b.version > r.definition.version ? b.version : null,
      });
    }
    for (const [name, r] of records) {
      if (out.has(name)) continue;
      out.set(name, {
        def: r.definition,
        history: r.history,
        source: 'stored',
        stored: true,
        shippedVersion: null,
      });
    }
    return out;
  }

  private async known(name: unknown): Promise<Known> {
    if (typeof name !== 'string' || name === '') {
      throw new StrataError('invalid', 'Name a template; `strata template list` shows them.');
    }
    const k = (await this.registry()).get(name);
    if (!k) {
      throw new StrataError(
        'not_found',
        `No template named "${shortName(name)}"; \`strata template list\` shows the templates.`,
      );
    }
    return k;
  }

  private summary(k: Known): TemplateSummary {
    const d = k.def;
    return {
      name: d.name,
      description: d.description,
      version: d.version,
      kind: d.kind,
      targetLevel: d.targetLevel,
      levels: LEVELS.filter((l) => templateLevels(d).includes(l)),
      providerName: d.providerName ?? null,
      category: d.category ?? null,
      requiredTraits: [...d.requiredTraits],
      variableCount: d.variables.length,
      keyCount: Object.keys(d.configs).length,
      source: k.source,
      stored: k.stored,
      shippedVersion: k.shippedVersion,
      missingTraits: missingTraits(d, this.config.operator().traits),
    };
  }

  /** Every template: the built-ins (stored or shipped) and the stored custom ones, by name. */
  async list(): Promise<TemplateSummary[]> {
    const reg = await this.registry();
    return [...reg.values()]
      .map((k) => this.summary(k))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One template's definition, kept versions and where it was applied. */
  async show(name: string): Promise<TemplateDetail> {
    const k = await this.known(name);
    const apps = (await readApplications(this.store)).filter((a) => a.template === k.def.name);
    return {
      summary: this.summary(k),
      definition: k.def,
      versions: [...k.history.map((h) => h.version), k.def.version],
      applications: apps,
    };
  }

  /** Template applications recorded in this workspace (optionally for one template). */
  async applications(template?: string): Promise<TemplateApplication[]> {
    const all = await readApplications(this.store);
    return template === undefined ? all : all.filter((a) => a.template === template);
  }

  // -------------------------------------------------------------------------------------------
  // Apply

  /**
   * Renders a template for a level and scope and compares it with what is there. Problems with
   * variables, the target, the operator's traits or rights come back in `errors` (ok: false),
   * so a form can show them beside the fields; unknown templates and bad levels throw.
   */
  async preview(req: TemplateApplyRequest): Promise<TemplatePreview> {
    const k = await this.known(req.template);
    const level = parseLevel(req.level);
    const scope = typeof req.scope === 'string' ? req.scope : '';
    const vars = checkVars(req.vars);
    const def = k.def;
    const base = {
      template: def.name,
      version: def.version,
      level,
      scope,
      instructions: [...def.instructions],
    };
    const errors = this.permissionErrors(def, [{ level, scope }]);
    const rendered = renderTemplate(def, vars, { level, scope });
    if (!rendered.ok) errors.push(...rendered.errors);
    else if (errors.length === 0) {
      const unknown = this.unknownScope(level, scope);
      if (unknown) errors.push({ variable: '', message: unknown });
    }
    if (errors.length > 0 || !rendered.ok) {
      return { ...base, ok: false, errors, items: [], summary: emptySummary() };
    }
    const items = this.diff(rendered.changes);
    return { ...base, ok: true, errors: [], items, summary: summarise(items) };
  }

  /**
   * Applies a template at a level and scope: every value it renders that the scope does not
   * already hold is written (live) or staged (draft) in one change set, and the template
   * version is recorded for the scope. A missing or invalid variable refuses the whole apply
   * naming the variable and why; nothing is written.
   */
  async apply(req: TemplateApplyRequest): Promise<TemplateWriteResult> {
    const reason = checkReason(req.reason);
    const p = await this.preview(req);
    if (!p.ok) this.refuse(p.template, p.errors);
    const toWrite = p.items.filter((i) => i.action !== 'unchanged');
    const def = (await this.known(p.template)).def;
    const rendered = renderTemplate(def, checkVars(req.vars), { level: p.level, scope: p.scope });
    if (!rendered.ok) this.refuse(def.name, rendered.errors);
    const plain = new Map(rendered.changes.map((c) => [c.key, c]));
    const changes = toWrite.map((i) => {
      const c = plain.get(i.key)!;
      return this.prepareSet(c, c.value, c.valueType, c.locked, c.secret);
    });
    if (!req.dryRun) {
      await this.commit(
        {
          changes,
          applications: [
            { template: def.name, version: def.version, level: p.level, scope: p.scope },
          ],
        },
        reason ?? `template ${def.name} v${def.version}`,
      );
    }
    return {
      mode: this.mode,
      dryRun: req.dryRun === true,
      template: def.name,
      version: def.version,
      level: p.level,
      scope: p.scope,
      written: toWrite.length,
      items: p.items,
      summary: p.summary,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Tenant provisioning

  /**
   * Creates a tenant from a tenant template: the tenant row, its departments, its groups (ids
   * `tenant.local`, in priority order) and the template's tenant-level values, as one change set
   * (one PostgreSQL transaction, or one staged set in a draft that is pushed as a unit).
   */
  async createTenant(req: TenantCreateRequest): Promise<TenantCreateResult> {
    const reason = checkReason(req.reason);
    const k = await this.known(req.template);
    const def = k.def;
    if (typeof req.id !== 'string' || typeof req.name !== 'string') {
      throw new StrataError('invalid', 'A new tenant needs an id and a name.');
    }
    if (!templateLevels(def).includes('tenant')) {
      throw new StrataError(
        'invalid',
        `Template "${def.name}" is a ${def.targetLevel}-level template; a tenant needs a template that applies at the tenant level.`,
      );
    }
    this.assertManagesDirectory('create tenants');
    const denied = this.permissionErrors(def, []);
    if (denied.length > 0) throw new StrataError('forbidden', denied[0]!.message);

    const plan = planTenant({
      id: req.id,
      name: req.name,
      template: def,
      ...(req.tenantType !== undefined ? { tenantType: req.tenantType } : {}),
      ...(req.departments !== undefined ? { departments: req.departments } : {}),
      ...(req.groups !== undefined ? { groups: req.groups } : {}),
      vars: checkVars(req.vars),
    });
    if (!plan.ok) {
      throw new StrataError(
        'invalid',
        `Tenant ${shortName(req.id)} was not created: ${joinErrors(plan.errors)}.`,
        { errors: plan.errors },
      );
    }
    const dir = this.idx.directory();
    if (dir.tenants.some((t) => t.id === plan.tenant.id)) {
      throw new StrataError('conflict', `Tenant ${plan.tenant.id} already exists.`);
    }
    if (this.idx.entriesAt('tenant', plan.tenant.id).length > 0) {
      throw new StrataError(
        'conflict',
        `Tenant ${plan.tenant.id} already has configuration values; choose another id.`,
      );
    }
    const taken = plan.groups.filter((g) => dir.groups.some((x) => x.id === g.id));
    if (taken.length > 0) {
      throw new StrataError(
        'conflict',
        `Group ${taken[0]!.id} already exists (group ids are global); choose other group ids.`,
      );
    }
    const items = this.diff(plan.changes);
    const changes = plan.changes.map((c) =>
      this.prepareSet(c, c.value, c.valueType, c.locked, c.secret),
    );
    if (!req.dryRun) {
      await this.commit(
        {
          directory: {
            tenants: [plan.tenant],
            departments: plan.departments,
            groups: plan.groups.map((g): Group => ({
              id: g.id,
              tenantId: g.tenantId,
              department: g.department,
              name: g.name,
            })),
          },
          changes,
          applications: [
            { template: def.name, version: def.version, level: 'tenant', scope: plan.tenant.id },
          ],
        },
        reason ?? `create tenant ${plan.tenant.id} from template ${def.name} v${def.version}`,
      );
    }
    return {
      mode: this.mode,
      dryRun: req.dryRun === true,
      template: def.name,
      version: def.version,
      level: 'tenant',
      scope: plan.tenant.id,
      written: changes.length,
      items,
      summary: summarise(items),
      tenant: { ...plan.tenant },
      departments: plan.departments.map((d) => ({ id: d.id, name: d.name })),
      groups: plan.groups.map((g) => ({
        id: g.id,
        localId: g.localId,
        name: g.name,
        department: g.department,
        order: g.order,
      })),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Upgrades

  /**
   * For every scope a template was applied at an older version: the changes that bring it to the
   * template's current version. Variables are recovered from the scope's values; `vars` (per
   * template) adds or overrides them. Optionally limited to one template or one tenant's scopes.
   */
  async upgrades(
    filter: {
      template?: string;
      tenant?: string;
      vars?: Record<string, Record<string, string>>;
    } = {},
  ): Promise<TemplateUpgradeView[]> {
    const reg = await this.registry();
    const out: TemplateUpgradeView[] = [];
    for (const app of await readApplications(this.store)) {
      if (filter.template !== undefined && app.template !== filter.template) continue;
      if (filter.tenant !== undefined && this.tenantOf(app.level, app.scope) !== filter.tenant)
        continue;
      const k = reg.get(app.template);
      if (!k || k.def.version <= app.version) continue;
      out.push(this.planUpgrade(k, app, checkVars(filter.vars?.[app.template])));
    }
    return out;
  }

  /** Applies (or stages) the upgrade of one scope to its template's current version. */
  async upgrade(req: TemplateUpgradeRequest): Promise<TemplateWriteResult> {
    const reason = checkReason(req.reason);
    const k = await this.known(req.template);
    const level = parseLevel(req.level);
    const app = (await readApplications(this.store)).find(
      (a) => a.template === k.def.name && a.level === level && a.scope === req.scope,
    );
    if (!app) {
      throw new StrataError(
        'not_found',
        `Template "${k.def.name}" was never applied at ${describeTarget(level, req.scope)}.`,
      );
    }
    if (app.version >= k.def.version) {
      throw new StrataError(
        'conflict',
        `${describeTarget(level, req.scope)} already has template "${k.def.name}" at version ${app.version}.`,
      );
    }
    const view = this.planUpgrade(k, app, checkVars(req.vars));
    if (!view.ok) {
      throw new StrataError(
        'invalid',
        `The upgrade of ${describeTarget(level, req.scope)} to "${k.def.name}" v${k.def.version} was not planned: ${joinErrors(view.errors)}.`,
        { errors: view.errors },
      );
    }
    const denied = this.permissionErrors(k.def, [{ level, scope: req.scope }]);
    if (denied.length > 0) throw new StrataError('forbidden', denied[0]!.message);
    const plainChanges = this.upgradePlainChanges(k, app, checkVars(req.vars));
    const byKey = new Map(plainChanges.map((c) => [c.key, c]));
    const changes: StoredChange[] = [];
    for (const item of view.items) {
      if (item.action === 'unchanged') continue;
      if (item.action === 'remove') {
        changes.push(this.prepareUnset({ level, scope: req.scope, key: item.key }));
        continue;
      }
      const c = byKey.get(item.key)!;
      changes.push(this.prepareSet(c, c.value!, c.valueType, c.locked, c.secret));
    }
    if (!req.dryRun) {
      await this.commit(
        {
          changes,
          applications: [{ template: k.def.name, version: k.def.version, level, scope: req.scope }],
        },
        reason ?? `upgrade template ${k.def.name} v${app.version} -> v${k.def.version}`,
      );
    }
    return {
      mode: this.mode,
      dryRun: req.dryRun === true,
      template: k.def.name,
      version: k.def.version,
      level,
      scope: req.scope,
      written: changes.length,
      items: view.items,
      summary: view.summary,
    };
  }

  private upgradeVars(
    oldDef: TemplateDefinition,
    app: TemplateApplication,
    vars: Record<string, string>,
  ): Record<string, string> {
    const recovered = recoverVariables(oldDef, (key) =>
      this.currentPlain({ level: app.level, scope: app.scope, key }),
    );
    return { ...recovered, ...vars };
  }

  // The plaintext changes of an upgrade (exact when the old definition is kept, else the new
  // version's rendering), or the errors that stop it.
  private upgradeResult(
    k: Known,
    app: TemplateApplication,
    vars: Record<string, string>,
  ):
    | { ok: true; changes: TemplateUpgradeChange[]; exact: boolean }
    | { ok: false; errors: TemplateError[]; exact: boolean } {
    const target = { level: app.level, scope: app.scope };
    const oldDef = k.history.find((h) => h.version === app.version);
    if (oldDef) {
      const all = this.upgradeVars(oldDef, app, vars);
      // Recovered values of variables the new version dropped are not the caller's mistake.
      const known = new Set([...oldDef.variables, ...k.def.variables].map((v) => v.name));
      const usable = Object.fromEntries(Object.entries(all).filter(([n]) => known.has(n)));
      const r = upgradeChanges(oldDef, k.def, usable, target);
      return r.ok
        ? { ok: true, changes: r.changes, exact: true }
        : { ok: false, errors: r.errors, exact: true };
    }
    // Without the old definition, the best available: what the new version sets that differs.
    const recovered = recoverVariables(k.def, (key) => this.currentPlain({ ...target, key }));
    const declared = new Set(k.def.variables.map((v) => v.name));
    const merged = Object.fromEntries(
      Object.entries({ ...recovered, ...vars }).filter(([n]) => declared.has(n)),
    );
    const r = renderTemplate(k.def, merged, target);
    if (!r.ok) return { ok: false, errors: r.errors, exact: false };
    return {
      ok: true,
      exact: false,
      changes: r.changes.map((c) => ({ action: 'set' as const, ...c })),
    };
  }

  private upgradePlainChanges(
    k: Known,
    app: TemplateApplication,
    vars: Record<string, string>,
  ): TemplateUpgradeChange[] {
    const r = this.upgradeResult(k, app, vars);
    return r.ok ? r.changes : [];
  }

  private planUpgrade(
    k: Known,
    app: TemplateApplication,
    vars: Record<string, string>,
  ): TemplateUpgradeView {
    const base = {
      template: k.def.name,
      fromVersion: app.version,
      toVersion: k.def.version,
      level: app.level,
      scope: app.scope,
    };
    const r = this.upgradeResult(k, app, vars);
    if (!r.ok) {
      return {
        ...base,
        ok: false,
        errors: r.errors,
        exact: r.exact,
        items: [],
        summary: emptySummary(),
      };
    }
    const sets: TemplateChange[] = [];
    const removes: TemplateDiffView[] = [];
    for (const c of r.changes) {
      if (c.action === 'set') {
        sets.push({
          level: c.level,
          scope: c.scope,
          key: c.key,
          value: c.value!,
          valueType: c.valueType,
          locked: c.locked,
          secret: c.secret,
        });
        continue;
      }
      const slot = { level: c.level, scope: c.scope, key: c.key };
      const entry = this.idx.get(slot);
      if (!entry) continue;
      const inh = this.inherited(slot);
      const secret = c.secret || entry.encrypted || this.isSecret(c.key);
      removes.push({
        ...slot,
        action: 'remove',
        value: null,
        valueType: entry.valueType,
        locked: false,
        secret,
        currentValue: secret ? MASK : entry.value,
        inheritedValue: inh.value === null ? null : secret ? MASK : inh.value,
        inheritedFrom: inh.from,
        lockedAbove: inh.lockedAbove,
      });
    }
    let items = [...this.diff(sets), ...removes];
    // An inexact upgrade (old definition unknown) only moves what differs.
    if (!r.exact) items = items.filter((i) => i.action === 'create' || i.action === 'update');
    return { ...base, ok: true, errors: [], exact: r.exact, items, summary: summarise(items) };
  }

  // -------------------------------------------------------------------------------------------
  // Custom templates

  /**
   * Saves the overrides at one level and scope as a custom template (a new version when a
   * custom template of that name exists). Secret values never enter it: each becomes a
   * required secret variable. The scope is recorded as using the saved version.
   */
  async saveCustom(req: SaveTemplateRequest): Promise<TemplateDetail> {
    const level = parseLevel(req.level);
    assertValidScope(level, req.scope);
    this.assertManagesDirectory('save templates');
    const entries = this.idx.entriesAt(level, req.scope);
    if (entries.length === 0) {
      throw new StrataError(
        'invalid',
        `Nothing is set at ${describeTarget(level, req.scope)} to save as a template.`,
      );
    }
    const keys = new Set(entries.map((e) => e.key));
    const metadata = this.idx.allMetadata().filter((m) => keys.has(m.key));
    let def = templateFromOverrides(
      req.name,
      entries.map((e) => ({
        key: e.key,
        value: e.encrypted ? '' : e.value,
        valueType: e.valueType,
        secret: e.encrypted || this.isSecret(e.key),
        locked: e.locked,
      })),
      level,
      {
        description: req.description ?? `Overrides saved from ${describeTarget(level, req.scope)}`,
        metadata,
      },
    );
    const existing = (await this.registry()).get(def.name);
    if (existing && (existing.source === 'builtin' || existing.def.kind !== 'custom')) {
      throw new StrataError(
        'conflict',
        `"${def.name}" is a ${existing.source === 'builtin' ? 'built-in' : existing.def.kind} template; save the overrides under another name.`,
      );
    }
    if (existing) def = parseTemplate({ ...def, version: existing.def.version + 1 });
    const record: TemplateRecord | null = existing
      ? { definition: existing.def, history: existing.history, createdAt: null, createdBy: null }
      : null;
    await publishTemplate(this.store, def, this.config.operator().id, record);
    await this.commit(
      {
        changes: [],
        applications: [{ template: def.name, version: def.version, level, scope: req.scope }],
      },
      `save template ${def.name} v${def.version}`,
    );
    return this.show(def.name);
  }

  /**
   * Publishes a template definition (a file a user wrote, or a new version of a built-in): it
   * must parse and be newer than the stored version; the replaced version is kept for upgrades.
   */
  async publish(json: unknown): Promise<TemplateDetail> {
    this.assertManagesDirectory('publish templates');
    const def = parseTemplate(json);
    const existing = (await this.registry()).get(def.name);
    const record: TemplateRecord | null =
      existing && existing.stored
        ? { definition: existing.def, history: existing.history, createdAt: null, createdBy: null }
        : null;
    if (existing && !existing.stored && def.version <= existing.def.version) {
      throw new StrataError(
        'conflict',
        `Template "${def.name}" is already at version ${existing.def.version}; publish version ${existing.def.version + 1} or higher.`,
      );
    }
    // A shipped built-in never stored yet: store the shipped version first so it is kept.
    const history = existing && !existing.stored ? [existing.def] : null;
    if (history) {
      await publishTemplate(this.store, existing!.def, this.config.operator().id, null);
      await publishTemplate(this.store, def, this.config.operator().id, {
        definition: existing!.def,
        history: [],
        createdAt: null,
        createdBy: null,
      });
    } else {
      await publishTemplate(this.store, def, this.config.operator().id, record);
    }
    return this.show(def.name);
  }

  /** Runs the seed step on this workspace (built-ins into config_templates, their metadata). */
  async seed(): Promise<SeedResult> {
    const r = await seedBuiltinTemplates(this.store, {
      ...(this.opts.builtinDir ? { dir: this.opts.builtinDir } : {}),
      operator: this.config.operator().id,
    });
    if (r.metadata.length > 0) await this.config.reload();
    return r;
  }

  // -------------------------------------------------------------------------------------------
  // Bulk edit

  /** Scopes of every department of a tenant (for "all departments" bulk edits). */
  departmentScopes(tenantId: string): string[] {
    return this.idx
      .directory()
      .departments.filter((d) => d.tenantId === tenantId)
      .map((d) => `${d.tenantId}/${d.id}`);
  }

  /** Ids of every group of a tenant. */
  groupScopes(tenantId: string): string[] {
    return this.idx
      .directory()
      .groups.filter((g) => g.tenantId === tenantId)
      .map((g) => g.id);
  }

  /**
   * Sets or removes one key at many scopes of one level as one change set (one transaction
   * live, one staged set in a draft). Every scope is checked (syntax, directory, rights, the
   * key's rules) before anything is written; a refusal names the scope.
   */
  async bulkSet(req: BulkSetRequest): Promise<BulkSetResult> {
    if (!req || typeof req !== 'object')
      throw new StrataError('invalid', 'A bulk edit needs a key, a level and scopes.');
    const reason = checkReason(req.reason);
    assertValidKey(req.key);
    const level = parseLevel(req.level);
    if (level === 'global') {
      throw new StrataError(
        'invalid',
        'A bulk edit spans many scopes of one level; the global level has only one (use set).',
      );
    }
    if (req.action !== 'set' && req.action !== 'unset') {
      throw new StrataError('invalid', 'A bulk edit either sets or removes (unset) the key.');
    }
    if (!Array.isArray(req.scopes) || req.scopes.length === 0) {
      throw new StrataError('invalid', 'Choose at least one scope for the bulk edit.');
    }
    if (req.scopes.length > MAX_BULK_SCOPES) {
      throw new StrataError('invalid', `A bulk edit may touch at most ${MAX_BULK_SCOPES} scopes.`);
    }
    const scopes = [...new Set(req.scopes)];
    for (const s of scopes) {
      assertValidScope(level, s);
      const unknown = this.unknownScope(level, s);
      if (unknown) throw new StrataError('invalid', unknown);
    }
    const denied = this.accessErrors(scopes.map((scope) => ({ level, scope })));
    if (denied.length > 0) throw new StrataError('forbidden', denied[0]!.message);
    if (req.action === 'set') {
      if (typeof req.value !== 'string')
        throw new StrataError('invalid', `The value for ${req.key} must be text.`);
      if (req.value.length > MAX_VALUE_LENGTH) {
        throw new StrataError(
          'invalid',
          `The value for ${req.key} is ${req.value.length} characters long; the limit is ${MAX_VALUE_LENGTH}.`,
        );
      }
      if (
        req.valueType !== undefined &&
        !(VALUE_TYPES as readonly string[]).includes(req.valueType)
      ) {
        throw new StrataError(
          'invalid',
          `Unknown value type '${String(req.valueType).slice(0, 20)}'; use ${VALUE_TYPES.join(', ')}.`,
        );
      }
    }
    const secret = this.isSecret(req.key);
    const items: BulkItemView[] = [];
    const changes: StoredChange[] = [];
    for (const scope of scopes) {
      const slot = { level, scope, key: req.key };
      const existing = this.idx.get(slot) ?? null;
      const shownSecret = secret || (existing?.encrypted ?? false);
      const previous = existing ? (shownSecret ? MASK : existing.value) : null;
      if (req.action === 'unset') {
        items.push({ ...slot, action: 'unset', value: null, previous, changed: existing !== null });
        if (existing) changes.push(this.prepareUnset(slot));
        continue;
      }
      const valueType: ValueType =
        req.valueType ?? this.idx.metadata(req.key)?.valueType ?? existing?.valueType ?? 'string';
      const locked = req.locked ?? existing?.locked ?? false;
      const change = this.prepareSet(slot, req.value!, valueType, locked, secret);
      const normal = normaliseValue(req.value!, valueType);
      const same =
        existing !== null &&
        existing.valueType === valueType &&
        existing.locked === locked &&
        this.plainOf(existing) === normal;
      items.push({
        ...slot,
        action: 'set',
        value: change.encrypted ? MASK : normal,
        previous,
        changed: !same,
      });
      if (!same) changes.push(change);
    }
    if (!req.dryRun && changes.length > 0) {
      await this.commit({ changes }, reason);
    }
    return {
      mode: this.mode,
      dryRun: req.dryRun === true,
      key: req.key,
      level,
      written: changes.length,
      items,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Shared machinery

  private async commit(set: ChangeSet, reason: string | null): Promise<void> {
    // Locks bind templates too, in drafts as on PostgreSQL (core/impact.ts).
    assertNoLockViolations(this.idx, set.changes);
    await writeChangeSet(this.store, set, { operator: this.config.operator().id, reason });
    await this.config.reload();
  }

  private refuse(template: string, errors: readonly TemplateError[]): never {
    throw new StrataError(
      'invalid',
      `Template "${template}" was not applied: ${joinErrors(errors)}.`,
      {
        errors,
      },
    );
  }

  private isSecret(key: string): boolean {
    return isSecretKey(key, this.idx.metadata(key));
  }

  /** The operator's missing traits and write rights for targets, as template errors. */
  private permissionErrors(
    def: TemplateDefinition,
    targets: ReadonlyArray<Pick<Slot, 'level' | 'scope'>>,
  ): TemplateError[] {
    const op = this.config.operator();
    const lacking = missingTraits(def, op.traits);
    const errors: TemplateError[] = [];
    if (lacking.length > 0) {
      errors.push({
        variable: '',
        message: `Template "${def.name}" requires the trait${lacking.length > 1 ? 's' : ''} ${lacking.join(', ')}, which ${op.id} lacks.`,
      });
    }
    errors.push(...this.accessErrors(targets));
    return errors;
  }

  private accessErrors(targets: ReadonlyArray<Pick<Slot, 'level' | 'scope'>>): TemplateError[] {
    const op = this.config.operator();
    const dir = this.idx.directory();
    for (const t of targets) {
      const d = checkWrite(operatorOf(op), t, dir);
      if (d.ok) continue;
      if (op.source === 'role' || op.source === 'local') {
        return [
          {
            variable: '',
            message: `${op.id} is not a directory user with traits, so it may not change configuration; pass --as <user id> (or set STRATA_OPERATOR).`,
          },
        ];
      }
      return [{ variable: '', message: d.reason }];
    }
    return [];
  }

  private assertManagesDirectory(what: string): void {
    const op = this.config.operator();
    const ok = ['admin_capable', 'config_write', 'super_admin'].every((t) => op.traits.includes(t));
    if (ok) return;
    if (op.source === 'role' || op.source === 'local') {
      throw new StrataError(
        'forbidden',
        `${op.id} is not a directory user with traits, so it may not ${what}; pass --as <user id> (or set STRATA_OPERATOR).`,
      );
    }
    throw new StrataError(
      'forbidden',
      `Only a super_admin (with admin_capable and config_write) may ${what}; ${op.id} is not one.`,
    );
  }

  /** Why a scope cannot be written (not in the directory), or null. */
  private unknownScope(level: Level, scope: string): string | null {
    if (level === 'global') return null;
    try {
      assertValidScope(level, scope);
    } catch (e) {
      return (e as Error).message;
    }
    const dir = this.idx.directory();
    const known =
      level === 'tenant'
        ? dir.tenants.some((t) => t.id === scope)
        : level === 'department'
          ? dir.departments.some((d) => `${d.tenantId}/${d.id}` === scope)
          : level === 'group'
            ? dir.groups.some((g) => g.id === scope)
            : dir.users.some((u) => u.id === scope);
    if (known || this.idx.entriesAt(level, scope).length > 0) return null;
    const what = { tenant: 'Tenant', department: 'Department', group: 'Group', user: 'User' }[
      level
    ];
    return `${what} '${scope}' is not in the directory; check the spelling or add it first.`;
  }

  private tenantOf(level: Level, scope: string): string | null {
    switch (level) {
      case 'global':
        return null;
      case 'tenant':
        return scope;
      case 'department':
        return scope.slice(0, scope.indexOf('/'));
      case 'group':
        return this.idx.directory().groups.find((g) => g.id === scope)?.tenantId ?? null;
      case 'user':
        return this.idx.user(scope)?.tenantId ?? null;
    }
  }

  private decrypt(entry: ConfigEntry): string {
    if (!entry.encrypted) return entry.value;
    const codec = this.codecChoice.codec;
    if (!codec) return UNKNOWN;
    try {
      return codec.decrypt({ level: entry.level, scope: entry.scope, key: entry.key }, entry.value);
    } catch {
      return UNKNOWN;
    }
  }

  private plainOf(entry: ConfigEntry): string {
    return this.decrypt(entry);
  }

  /** Plaintext set at exactly a slot (UNKNOWN for a secret that cannot be decrypted), or null. */
  private currentPlain(slot: Slot): string | null {
    const e = this.idx.get(slot);
    return e ? this.decrypt(e) : null;
  }

  private contextFor(level: Level, scope: string, groups: Map<string, Group>): UserContext | null {
    switch (level) {
      case 'global':
        return null;
      case 'tenant':
        return { userId: null, tenantId: scope, department: null, groups: [] };
      case 'department': {
        const i = scope.indexOf('/');
        return {
          userId: null,
          tenantId: scope.slice(0, i),
          department: scope.slice(i + 1),
          groups: [],
        };
      }
      case 'group': {
        const g = groups.get(scope);
        return {
          userId: null,
          tenantId: g?.tenantId ?? null,
          department: g?.department ?? null,
          groups: [scope],
        };
      }
      case 'user':
        return this.idx.user(scope)
          ? this.idx.userContext(scope)
          : { userId: scope, tenantId: null, department: null, groups: [] };
    }
  }

  /** What a slot would hold from more general levels without its own entry. */
  private inherited(slot: Slot, groups?: Map<string, Group>): Inherited {
    const g = groups ?? new Map(this.idx.directory().groups.map((x) => [x.id, x]));
    const ctx = this.contextFor(slot.level, slot.scope, g);
    const meta = this.idx.metadata(slot.key);
    const fallback: Inherited =
      meta && meta.defaultValue !== null
        ? { value: meta.defaultValue, from: { level: 'default', scope: '' }, lockedAbove: false }
        : { value: null, from: null, lockedAbove: false };
    if (!ctx) return fallback;
    const res = this.idx.resolve(slot.key, ctx);
    const own = res.chain.findIndex((l) => l.level === slot.level && l.scope === slot.scope);
    const above = own >= 0 ? res.chain.slice(0, own) : res.chain;
    const lock = above.find((l) => l.entry?.locked === true && l.value !== null);
    let link = lock;
    if (!link) {
      for (let i = above.length - 1; i >= 0; i--) {
        if (above[i]!.value !== null) {
          link = above[i];
          break;
        }
      }
    }
    if (!link) return fallback;
    const value = link.entry ? this.decrypt(link.entry) : link.value;
    return {
      value,
      from: { level: link.level, scope: link.scope },
      lockedAbove: lock !== undefined,
    };
  }

  /** Rendered changes compared with what each slot holds and inherits (display form). */
  private diff(changes: readonly TemplateChange[]): TemplateDiffView[] {
    const groups = new Map(this.idx.directory().groups.map((x) => [x.id, x]));
    const inherit = new Map<string, Inherited>();
    const keyOf = (s: Slot) => `${s.level}\u0000${s.scope}\u0000${s.key}`;
    const raw = diffTemplateChanges(
      changes,
      (slot): StoredValue | undefined => {
        const e = this.idx.get(slot);
        return e ? { value: this.decrypt(e), valueType: e.valueType, locked: e.locked } : undefined;
      },
      (slot) => {
        const inh = this.inherited(slot, groups);
        inherit.set(keyOf(slot), inh);
        return inh.value;
      },
    );
    return raw.map((item) => {
      const slot = { level: item.level, scope: item.scope, key: item.key };
      const inh = inherit.get(keyOf(slot)) ?? { value: null, from: null, lockedAbove: false };
      const entry = this.idx.get(slot);
      const secret = item.secret || this.isSecret(item.key) || (entry?.encrypted ?? false);
      const mask = (v: string | null) => (v === null ? null : secret ? MASK : v);
      return {
        ...slot,
        action: item.action,
        value: secret ? MASK : item.value,
        valueType: item.valueType,
        locked: item.locked,
        secret,
        currentValue: mask(item.currentValue),
        inheritedValue: mask(item.inheritedValue),
        inheritedFrom: inh.from,
        lockedAbove: inh.lockedAbove,
      };
    });
  }

  /** A set in stored form: checked against the key's rules, normalised, encrypted if secret. */
  private prepareSet(
    slot: Slot,
    value: string,
    valueType: ValueType,
    locked: boolean,
    secretHint: boolean,
  ): StoredChange {
    const meta = this.idx.metadata(slot.key);
    const secret = secretHint || isSecretKey(slot.key, meta);
    const failure = validateValue(slot.key, value, valueType, meta, secret);
    if (failure) {
      const where = slot.level === 'global' ? '' : ` at ${slot.level} ${slot.scope}`;
      throw new StrataError('invalid', `${failure.message.replace(/\.$/, '')}${where}.`, {
        key: failure.key,
        rule: failure.rule,
      });
    }
    const normal = normaliseValue(value, valueType);
    let stored = normal;
    if (secret) {
      const codec = this.codecChoice.codec;
      if (!codec)
        throw new StrataError(
          'invalid',
          `Secret ${slot.key} was not stored: ${this.codecChoice.why}.`,
        );
      stored = codec.encrypt({ level: slot.level, scope: slot.scope, key: slot.key }, normal);
    }
    return {
      level: slot.level,
      scope: slot.scope,
      key: slot.key,
      action: 'set',
      value: stored,
      valueType,
      encrypted: secret,
      locked,
      expectedVersion: this.idx.get(slot)?.version ?? null,
    };
  }

  private prepareUnset(slot: Slot): StoredChange {
    const e = this.idx.get(slot);
    return {
      level: slot.level,
      scope: slot.scope,
      key: slot.key,
      action: 'unset',
      value: null,
      valueType: e?.valueType ?? 'string',
      encrypted: false,
      locked: false,
      expectedVersion: e?.version ?? null,
    };
  }
}

// A sibling service must encrypt with the config service's codec, or a value written here could
// not be read there.
function resolveCodec(config: StrataConfigService, opts: TemplateServiceOptions): CodecChoice {
  if (opts.codec !== undefined) {
    const c = opts.codec;
    if (c !== null && typeof c === 'object' && 'why' in c) return c;
    return codecChoiceOf(c as SecretCodec | null);
  }
  // The config service's own codec (the one it encrypts with, e.g. from the desktop key store);
  // an explicit env in the options is for tests that build a codec from variables.
  if (opts.env !== undefined) return codecChoiceFromEnv(opts.env);
  return config.secretCodec();
}

const services = new WeakMap<object, TemplateService>();

/** The template service of a config service (one per config service, created on first use). */
export function templateServiceFor(
  config: StrataConfigService,
  opts: TemplateServiceOptions = {},
): TemplateService {
  let s = services.get(config);
  if (!s) {
    s = new TemplateService(config, opts);
    services.set(config, s);
  }
  return s;
}

/** Template names are slugs; exported for front doors that check input early. */
export function isTemplateName(name: string): boolean {
  return TEMPLATE_NAME_RE.test(name) && name.length <= 100;
}

export type { ApplicationRecord, SeedResult };
export { isBuiltinName, tenantGroupId };
