/**
 * Guardrails (`strata lint`, the console's Lint panel, and the check plan and push run): stored
 * values that repeat what they inherit (redundant) or can never take effect (dead), values that
 * break their metadata, secret-looking keys stored unencrypted, keys without metadata, scopes
 * the directory does not know, overrides of a lock, and policy rules stored in the database
 * ("where compliance.hipaa.enabled is true, the effective features.email_gateway.enabled must be
 * false").
 *
 * Everything is computed from the in-memory index through the context classes of impact.ts, so
 * a policy over 100,000 users resolves each distinct context once and reads only users' own
 * entries per user. Messages never contain a secret value.
 */
import type { ConfigIndex } from './config-index.js';
import {
  KeyLookup,
  OverlayView,
  classesInScope,
  contextClasses,
  describeSlot,
  fallbackFor,
  findLockAbove,
  indexView,
  lockViolationsIn,
  sameEffective,
} from './impact.js';
import type { ConfigView, ContextClass, ContextClasses, Fallback, SlotChange } from './impact.js';
import { isValidKey } from './keys.js';
import { isSecretKey } from './secret-keys.js';
import { LEVELS, StrataError } from './types.js';
import type { ConfigEntry, Level, SourceLevel, ValueType } from './types.js';
import { normaliseValue, validateValue } from './validation.js';

/** How serious a finding is. Errors block a push unless a super_admin overrides them. */
export type LintSeverity = 'error' | 'warning' | 'info';

/** Every guardrail, in report order. */
export const LINT_RULES = [
  'locked',
  'policy',
  'invalid-value',
  'unencrypted-secret',
  'dead',
  'redundant',
  'unknown-scope',
  'no-metadata',
] as const;
export type LintRule = (typeof LINT_RULES)[number];

/** Comparison operators of a policy condition. */
export const POLICY_OPS = ['equals', 'not_equals', 'in', 'not_in', 'is_set', 'is_unset'] as const;
export type PolicyOp = (typeof POLICY_OPS)[number];

/** A condition on one key's effective value for a user. */
export interface PolicyCondition {
  key: string;
  op: PolicyOp;
  /** equals / not_equals: one value; in / not_in: a list; is_set / is_unset: none. */
  value?: string | string[] | null;
}

/** A policy rule (a row of config_policy_rules). */
export interface PolicyRule {
  id: string;
  description: string;
  severity: 'error' | 'warning';
  /** Users the rule applies to (null: everyone in scope). */
  when: PolicyCondition | null;
  /** What must hold for every user the rule applies to. */
  require: PolicyCondition;
  /** Restricts the rule to one tenant's users (null: every user). */
  tenantId: string | null;
  enabled: boolean;
}

/** Where a user's offending value comes from, with how many violating users it explains. */
export interface PolicySource {
  level: SourceLevel;
  scope: string;
  users: number;
}

/** One guardrail finding. */
export interface LintFinding {
  rule: LintRule;
  severity: LintSeverity;
  key: string;
  /** The slot the finding is about (null for key-wide and policy findings). */
  level: Level | null;
  scope: string | null;
  /** One or two sentences; never a secret value. */
  message: string;
  /** Policy findings: the rule id. */
  policyId?: string;
  /** Policy findings: users that break the rule (for a change set: newly break it). */
  usersAffected?: number;
  /** Policy findings: the first user ids, sorted. */
  sampleUsers?: string[];
  /** Policy findings: tenants with violating users, sorted. */
  tenants?: string[];
  /** Policy findings: the slots supplying the offending values, most users first. */
  sources?: PolicySource[];
  /** Dead and locked findings: what shadows or locks the value. */
  shadowedBy?: { level: Level; scope: string } | null;
}

/** Findings with totals. */
export interface LintReport {
  findings: LintFinding[];
  counts: Record<LintSeverity, number>;
  byRule: Record<LintRule, number>;
}

/** Options for lintIndex / lintChanges. */
export interface LintOptions {
  /** Policy rules (disabled ones are skipped). */
  rules?: readonly PolicyRule[];
  /** Run only these guardrails. */
  only?: readonly LintRule[];
  /** How many user ids a policy finding lists (default 10). */
  sampleSize?: number;
}

const SEVERITY: Record<Exclude<LintRule, 'policy'>, LintSeverity> = {
  locked: 'error',
  'invalid-value': 'error',
  'unencrypted-secret': 'error',
  dead: 'warning',
  redundant: 'warning',
  'unknown-scope': 'warning',
  'no-metadata': 'info',
};

const SEVERITY_ORDER: Record<LintSeverity, number> = { error: 0, warning: 1, info: 2 };

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function finding(
  rule: Exclude<LintRule, 'policy'>,
  key: string,
  slot: { level: Level; scope: string } | null,
  message: string,
): LintFinding {
  return {
    rule,
    severity: SEVERITY[rule],
    key,
    level: slot?.level ?? null,
    scope: slot?.scope ?? null,
    message,
  };
}

/** Sorts findings (severity, rule, key, level, scope) and totals them. */
export function summarise(findings: LintFinding[]): LintReport {
  const levelRank = (l: Level | null): number => (l === null ? -1 : LEVELS.indexOf(l));
  findings.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      LINT_RULES.indexOf(a.rule) - LINT_RULES.indexOf(b.rule) ||
      compareText(a.policyId ?? '', b.policyId ?? '') ||
      compareText(a.key, b.key) ||
      levelRank(a.level) - levelRank(b.level) ||
      compareText(a.scope ?? '', b.scope ?? ''),
  );
  const counts: Record<LintSeverity, number> = { error: 0, warning: 0, info: 0 };
  const byRule = Object.fromEntries(LINT_RULES.map((r) => [r, 0])) as Record<LintRule, number>;
  for (const f of findings) {
    counts[f.severity]++;
    byRule[f.rule]++;
  }
  return { findings, counts, byRule };
}

function wants(opts: LintOptions, rule: LintRule): boolean {
  return opts.only === undefined || opts.only.includes(rule);
}

// ---------------------------------------------------------------------------------------------
// Policy rules

const ID_RE = /^[A-Za-z0-9_.:-]{1,100}$/;

function parseCondition(input: unknown, where: string): PolicyCondition {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new StrataError('invalid', `The ${where} condition must be an object with key and op.`);
  }
  const o = input as Record<string, unknown>;
  const key = o.key;
  if (typeof key !== 'string' || !isValidKey(key)) {
    throw new StrataError('invalid', `The ${where} condition needs a valid configuration key.`);
  }
  const op = o.op;
  if (typeof op !== 'string' || !(POLICY_OPS as readonly string[]).includes(op)) {
    throw new StrataError(
      'invalid',
      `The ${where} condition op must be one of ${POLICY_OPS.join(', ')}.`,
    );
  }
  const value = o.value;
  switch (op as PolicyOp) {
    case 'equals':
    case 'not_equals':
      if (typeof value !== 'string') {
        throw new StrataError('invalid', `The ${where} condition (${op}) needs a text value.`);
      }
      return { key, op: op as PolicyOp, value };
    case 'in':
    case 'not_in':
      if (
        !Array.isArray(value) ||
        value.length === 0 ||
        value.length > 100 ||
        !value.every((v) => typeof v === 'string')
      ) {
        throw new StrataError(
          'invalid',
          `The ${where} condition (${op}) needs a list of 1 to 100 text values.`,
        );
      }
      return { key, op: op as PolicyOp, value: [...(value as string[])] };
    default:
      return { key, op: op as PolicyOp, value: null };
  }
}

/** Validates a policy rule (from the database, a file or a request); throws StrataError('invalid'). */
export function parsePolicyRule(input: unknown): PolicyRule {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new StrataError('invalid', 'A policy rule must be an object.');
  }
  const o = input as Record<string, unknown>;
  const id = o.id;
  if (typeof id !== 'string' || !ID_RE.test(id)) {
    throw new StrataError(
      'invalid',
      "A policy rule id must be 1 to 100 letters, digits, '_', '.', ':' or '-'.",
    );
  }
  const description = o.description ?? '';
  if (typeof description !== 'string' || description.length > 1000) {
    throw new StrataError(
      'invalid',
      `Policy rule ${id}: the description must be text of at most 1000 characters.`,
    );
  }
  const severity = o.severity ?? 'error';
  if (severity !== 'error' && severity !== 'warning') {
    throw new StrataError('invalid', `Policy rule ${id}: severity must be error or warning.`);
  }
  const tenantId = o.tenantId ?? null;
  if (tenantId !== null && (typeof tenantId !== 'string' || !ID_RE.test(tenantId))) {
    throw new StrataError('invalid', `Policy rule ${id}: tenantId must be a tenant id or null.`);
  }
  const enabled = o.enabled ?? true;
  if (typeof enabled !== 'boolean') {
    throw new StrataError('invalid', `Policy rule ${id}: enabled must be true or false.`);
  }
  const when = o.when === null || o.when === undefined ? null : parseCondition(o.when, 'when');
  const require = parseCondition(o.require, 'require');
  return { id, description, severity, when, require, tenantId, enabled };
}

/** Canonical text of a value for comparison under a type (booleans true/false, numbers shortest). */
function canonical(value: string, valueType: ValueType): string {
  try {
    return normaliseValue(value, valueType);
  } catch {
    return value;
  }
}

/** The effective value a user sees for a condition check. */
interface Seen {
  value: string | null;
  valueType: ValueType;
  encrypted: boolean;
}

function seenOf(w: ConfigEntry | null, fallback: Fallback): Seen {
  return w === null
    ? { value: fallback.value, valueType: fallback.valueType, encrypted: false }
    : { value: w.value, valueType: w.valueType, encrypted: w.encrypted };
}

/**
 * True when the effective value satisfies the condition. Values compare under the value's type
 * ('1' equals 'true' for a boolean). An encrypted value cannot be compared without decrypting
 * it, so it satisfies only is_set and the negative operators.
 */
export function conditionHolds(c: PolicyCondition, seen: Seen): boolean {
  if (c.op === 'is_set') return seen.value !== null;
  if (c.op === 'is_unset') return seen.value === null;
  const wanted = Array.isArray(c.value) ? c.value : [c.value ?? ''];
  let match = false;
  if (seen.value !== null && !seen.encrypted) {
    const have = canonical(seen.value, seen.valueType);
    match = wanted.some((w) => canonical(w, seen.valueType) === have);
  }
  return c.op === 'equals' || c.op === 'in' ? match : !match;
}

function describeCondition(c: PolicyCondition): string {
  switch (c.op) {
    case 'equals':
      return `${c.key} is ${String(c.value)}`;
    case 'not_equals':
      return `${c.key} is not ${String(c.value)}`;
    case 'in':
      return `${c.key} is one of ${(c.value as string[]).join(', ')}`;
    case 'not_in':
      return `${c.key} is none of ${(c.value as string[]).join(', ')}`;
    case 'is_set':
      return `${c.key} is set`;
    default:
      return `${c.key} is not set`;
  }
}

/** Plain-language reading of a rule, e.g. "where X is true, Y must be false". */
export function describeRule(rule: PolicyRule): string {
  const need = describeCondition(rule.require).replace(' is ', ' must be ');
  const scope = rule.tenantId !== null ? ` in tenant ${rule.tenantId}` : '';
  return rule.when === null
    ? `${need}${scope}`
    : `where ${describeCondition(rule.when)}${scope}, ${need}`;
}

/** The users who break one policy rule in one view. */
export interface PolicyEvaluation {
  rule: PolicyRule;
  /** Positions in Directory.users of the violating users. */
  violators: Uint8Array;
  count: number;
  /** Winners of the required key for violating users, by slot. */
  sources: Map<string, PolicySource>;
}

/** Evaluates one rule for every user (one resolution per context class and key). */
export function evaluatePolicy(view: ConfigView, rule: PolicyRule): PolicyEvaluation {
  const index = view.index;
  const classes = contextClasses(index.directory());
  const violators = new Uint8Array(classes.userCount);
  const sources = new Map<string, PolicySource>();
  let count = 0;
  const legacy = index.legacyMap();
  const reqKey = rule.require.key;
  const reqFallback = fallbackFor(index, reqKey, legacy);
  const req = new KeyLookup(view, reqKey, classes);
  const whenKey = rule.when?.key ?? null;
  const whenFallback = whenKey === null ? null : fallbackFor(index, whenKey, legacy);
  const when = whenKey === null ? null : new KeyLookup(view, whenKey, classes);
  const list = rule.tenantId === null ? classes.all : (classes.byTenant.get(rule.tenantId) ?? []);

  const addSource = (w: ConfigEntry | null): void => {
    const level: SourceLevel = w === null ? reqFallback.level : w.level;
    const scope = w === null ? '' : w.scope;
    const id = `${level}\u0000${scope}`;
    const s = sources.get(id);
    if (s === undefined) sources.set(id, { level, scope, users: 1 });
    else s.users++;
  };

  for (const cls of list) {
    const rW = req.winner(cls);
    const wW = when === null ? null : when.winner(cls);
    const rLocked = rW !== null && rW.locked;
    const wLocked = wW !== null && wW.locked;
    for (let m = 0; m < cls.users.length; m++) {
      const id = cls.users[m]!.id;
      let applies = true;
      if (when !== null && rule.when !== null) {
        const w = wLocked ? wW : (view.entry('user', id, whenKey!) ?? wW);
        applies = conditionHolds(rule.when, seenOf(w, whenFallback!));
      }
      if (!applies) continue;
      const r = rLocked ? rW : (view.entry('user', id, reqKey) ?? rW);
      if (conditionHolds(rule.require, seenOf(r, reqFallback))) continue;
      violators[cls.ordinals[m]!] = 1;
      count++;
      addSource(r);
    }
  }
  return { rule, violators, count, sources };
}

function policyFinding(
  rule: PolicyRule,
  classes: ContextClasses,
  violators: Uint8Array,
  count: number,
  sources: Iterable<PolicySource>,
  sampleSize: number,
  introduced: boolean,
): LintFinding {
  const ids: string[] = [];
  const tenants = new Set<string>();
  for (const cls of classes.all) {
    for (let m = 0; m < cls.users.length; m++) {
      if (violators[cls.ordinals[m]!] === 0) continue;
      ids.push(cls.users[m]!.id);
      if (cls.tenantId !== null) tenants.add(cls.tenantId);
    }
  }
  ids.sort(compareText);
  const src = [...sources].sort(
    (a, b) => b.users - a.users || compareText(`${a.level}/${a.scope}`, `${b.level}/${b.scope}`),
  );
  const sample = ids.slice(0, sampleSize);
  const where = src
    .slice(0, 3)
    .map((s) => describeSlot(s))
    .join(', ');
  const lead = introduced
    ? `would newly break policy ${rule.id} (${describeRule(rule)})`
    : `break policy ${rule.id} (${describeRule(rule)})`;
  const message =
    `${count} user${count === 1 ? '' : 's'} ${lead}` +
    (sample.length > 0 ? `, e.g. ${sample.slice(0, 3).join(', ')}` : '') +
    (where !== '' ? `; the ${rule.require.key} values come from ${where}.` : '.');
  return {
    rule: 'policy',
    severity: rule.severity,
    key: rule.require.key,
    level: null,
    scope: null,
    message: rule.description ? `${message} ${rule.description}` : message,
    policyId: rule.id,
    usersAffected: count,
    sampleUsers: sample,
    tenants: [...tenants].sort(compareText),
    sources: src,
  };
}

// ---------------------------------------------------------------------------------------------
// Entry guardrails

/** The context a slot describes on its own (used when no directory user sits in its scope). */
function slotClass(index: ConfigIndex, level: Level, scope: string): ContextClass | null {
  const make = (
    tenantId: string | null,
    department: string | null,
    groups: string[],
  ): ContextClass => ({
    id: -1,
    tenantId,
    department,
    groups,
    users: [],
    ordinals: [],
    tenantIdx: -1,
    departmentIdx: -1,
    groupIdxs: new Int32Array(groups.length).fill(-1),
    departmentScope: tenantId !== null && department !== null ? `${tenantId}/${department}` : null,
  });
  switch (level) {
    case 'global':
      return make(null, null, []);
    case 'tenant':
      return make(scope, null, []);
    case 'department': {
      const slash = scope.indexOf('/');
      return slash < 0 ? null : make(scope.slice(0, slash), scope.slice(slash + 1), []);
    }
    case 'group': {
      const g = index.directory().groups.find((x) => x.id === scope);
      return g
        ? make(g.tenantId, g.tenantId === null ? null : g.department, [scope])
        : make(null, null, [scope]);
    }
    default:
      return null;
  }
}

function describeSource(w: ConfigEntry | null, fallback: Fallback): string {
  if (w !== null) return describeSlot(w);
  return fallback.level === 'env_legacy' ? 'the legacy .env file' : 'the metadata default';
}

/**
 * Redundant / dead analysis of one entry. Dead: no member of its scope resolves to it (a lock
 * above, or more specific values for every member). Redundant: it wins somewhere, but without it
 * every such member would see the same value (a lock is never redundant: it binds the future).
 */
function shadowFinding(
  view: ConfigView,
  lookup: KeyLookup,
  fallback: Fallback,
  classes: ContextClasses,
  e: ConfigEntry,
): LintFinding | null {
  const index = view.index;
  const where = describeSlot(e);
  if (e.level === 'user') {
    const cls = classes.classOfUser.get(e.scope);
    if (cls === undefined) return null;
    const w = lookup.winner(cls);
    if (w !== null && w.locked) {
      const f = finding(
        'dead',
        e.key,
        e,
        `${e.key} at ${where} never takes effect: it is locked at ${describeSlot(w)}.`,
      );
      f.shadowedBy = { level: w.level, scope: w.scope };
      return f;
    }
    if (sameEffective(e, w, fallback)) {
      return finding(
        'redundant',
        e.key,
        e,
        `${e.key} at ${where} repeats the value it inherits from ${describeSource(w, fallback)}; removing it changes nothing.`,
      );
    }
    return null;
  }

  const reach = classesInScope(classes, e.level, e.scope);
  if (reach.length === 0) {
    // No members: judge the slot in its own context (a lock above makes it dead).
    const own = slotClass(index, e.level, e.scope);
    if (own === null) return null;
    const w = lookup.winner(own);
    if (w !== e) {
      if (w !== null && w.locked) {
        const f = finding(
          'dead',
          e.key,
          e,
          `${e.key} at ${where} never takes effect: it is locked at ${describeSlot(w)}.`,
        );
        f.shadowedBy = { level: w.level, scope: w.scope };
        return f;
      }
      return null;
    }
    const inherited = lookup.winner(own, e);
    if (!e.locked && sameEffective(e, inherited, fallback)) {
      return finding(
        'redundant',
        e.key,
        e,
        `${e.key} at ${where} repeats the value it inherits from ${describeSource(inherited, fallback)}; removing it changes nothing.`,
      );
    }
    return null;
  }

  let live = false;
  let same = true;
  let inheritedFrom: ConfigEntry | null = null;
  for (const cls of reach) {
    if (lookup.winner(cls) !== e) continue;
    if (e.locked) {
      live = true;
      same = false;
      break;
    }
    // It reaches a member unless every member of the class overrides it for themselves.
    let memberSees = false;
    for (const u of cls.users) {
      if (view.entry('user', u.id, e.key) === null) {
        memberSees = true;
        break;
      }
    }
    if (!memberSees) continue;
    live = true;
    const inherited = lookup.winner(cls, e);
    if (!sameEffective(e, inherited, fallback)) {
      same = false;
      break;
    }
    inheritedFrom = inherited;
  }
  if (!live) {
    const lock = findLockAbove(view, e);
    const f = finding(
      'dead',
      e.key,
      e,
      lock !== null
        ? `${e.key} at ${where} never takes effect: it is locked at ${describeSlot(lock)}.`
        : `${e.key} at ${where} never takes effect: every member gets it from a more specific level.`,
    );
    f.shadowedBy = lock !== null ? { level: lock.level, scope: lock.scope } : null;
    return f;
  }
  if (same && !e.locked) {
    return finding(
      'redundant',
      e.key,
      e,
      `${e.key} at ${where} repeats the value it inherits from ${describeSource(inheritedFrom, fallback)}; removing it changes nothing.`,
    );
  }
  return null;
}

/** Value, encryption and metadata checks of one stored entry. */
function valueFindings(index: ConfigIndex, e: ConfigEntry): LintFinding[] {
  const out: LintFinding[] = [];
  const meta = index.metadata(e.key);
  const secret = isSecretKey(e.key, meta);
  const where = describeSlot(e);
  if (secret && !e.encrypted) {
    out.push(
      finding(
        'unencrypted-secret',
        e.key,
        e,
        `${e.key} at ${where} looks like a secret but is stored unencrypted; set it again through Strata to encrypt it.`,
      ),
    );
  }
  if (e.encrypted) {
    if (meta !== undefined && meta.valueType !== e.valueType) {
      out.push(
        finding(
          'invalid-value',
          e.key,
          e,
          `Key '${e.key}' at ${where} is stored as ${e.valueType}, but its metadata declares ${meta.valueType}.`,
        ),
      );
    }
    return out;
  }
  const failure = validateValue(e.key, e.value, e.valueType, meta, secret);
  if (failure !== null) {
    out.push(
      finding('invalid-value', e.key, e, `${failure.message.replace(/\.$/, '')} (at ${where}).`),
    );
  }
  return out;
}

/** Lints a set of entries of one view (all of them for lintIndex, changed ones for lintChanges). */
function lintEntries(
  view: ConfigView,
  entries: readonly ConfigEntry[],
  opts: LintOptions,
  out: LintFinding[],
): void {
  const index = view.index;
  const classes = contextClasses(index.directory());
  const legacy = index.legacyMap();
  const byKey = new Map<string, ConfigEntry[]>();
  const unknown = new Map<string, { level: Level; scope: string; count: number }>();
  const noMeta = new Map<string, number>();
  for (const e of entries) {
    const list = byKey.get(e.key);
    if (list === undefined) byKey.set(e.key, [e]);
    else list.push(e);
    if (!index.inDirectory(e.level, e.scope)) {
      const id = `${e.level}\u0000${e.scope}`;
      const u = unknown.get(id);
      if (u === undefined) unknown.set(id, { level: e.level, scope: e.scope, count: 1 });
      else u.count++;
    }
    if (index.metadata(e.key) === undefined) noMeta.set(e.key, (noMeta.get(e.key) ?? 0) + 1);
    if (wants(opts, 'invalid-value') || wants(opts, 'unencrypted-secret')) {
      for (const f of valueFindings(index, e)) if (wants(opts, f.rule)) out.push(f);
    }
  }
  if (wants(opts, 'unknown-scope')) {
    for (const u of unknown.values()) {
      const what = u.level[0]!.toUpperCase() + u.level.slice(1);
      out.push(
        finding(
          'unknown-scope',
          '',
          u,
          `${what} ${u.scope} is not in the directory, so its ${u.count} value${u.count === 1 ? '' : 's'} reach no one.`,
        ),
      );
    }
  }
  if (wants(opts, 'no-metadata')) {
    for (const [key, n] of noMeta) {
      out.push(
        finding(
          'no-metadata',
          key,
          null,
          `${key} has no metadata (set at ${n} slot${n === 1 ? '' : 's'}), so its values are not validated or described.`,
        ),
      );
    }
  }
  if (wants(opts, 'dead') || wants(opts, 'redundant')) {
    for (const [key, list] of byKey) {
      const lookup = new KeyLookup(view, key, classes);
      const fallback = fallbackFor(index, key, legacy);
      for (const e of list) {
        const f = shadowFinding(view, lookup, fallback, classes, e);
        if (f !== null && wants(opts, f.rule)) out.push(f);
      }
    }
  }
}

/** Lints everything stored in the index, plus policy rules over every user. */
export function lintIndex(index: ConfigIndex, opts: LintOptions = {}): LintReport {
  const view = indexView(index);
  const out: LintFinding[] = [];
  lintEntries(view, index.allEntries(), opts, out);
  // Overrides stored below a lock (written before it, or outside Strata) are reported as dead;
  // the 'locked' guardrail is about changes that try to override one (lintChanges).
  if (wants(opts, 'policy')) {
    const classes = contextClasses(index.directory());
    for (const rule of opts.rules ?? []) {
      if (!rule.enabled) continue;
      const ev = evaluatePolicy(view, rule);
      if (ev.count === 0) continue;
      out.push(
        policyFinding(
          rule,
          classes,
          ev.violators,
          ev.count,
          ev.sources.values(),
          opts.sampleSize ?? 10,
          false,
        ),
      );
    }
  }
  return summarise(out);
}

/**
 * Lints a change set against the index it will be applied to (plan and push): lock overrides,
 * the guardrails for each value it sets, and policy violations it introduces (users who break a
 * rule afterwards but did not before). Pre-existing violations the change does not touch are
 * not reported here; `lintIndex` shows them.
 */
export function lintChanges(
  index: ConfigIndex,
  changes: readonly SlotChange[] | OverlayView,
  opts: LintOptions = {},
): LintReport {
  const after = changes instanceof OverlayView ? changes : new OverlayView(index, changes);
  return lintChangesBetween(indexView(index), after, after.changes(), opts);
}

/**
 * lintChanges between two views of one index that differ only at the changed slots (a draft's
 * index holds its staged changes: `before` is then an overlay that puts the base back).
 */
export function lintChangesBetween(
  before: ConfigView,
  after: ConfigView,
  changes: readonly SlotChange[],
  opts: LintOptions = {},
): LintReport {
  if (before.index !== after.index) {
    throw new StrataError('internal', 'Lint compares two views of the same index.');
  }
  const index = after.index;
  const out: LintFinding[] = [];
  if (wants(opts, 'locked')) {
    for (const v of lockViolationsIn(after, changes)) {
      const f = finding('locked', v.change.key, v.change, v.message);
      f.shadowedBy = { level: v.lock.level, scope: v.lock.scope };
      out.push(f);
    }
  }
  const setEntries: ConfigEntry[] = [];
  for (const c of changes) {
    if (c.action !== 'set') continue;
    const e = after.entry(c.level, c.scope, c.key);
    if (e !== null) setEntries.push(e);
  }
  // A value refused for its lock is reported once, as a lock violation.
  const lockedSlots = new Set(out.map((f) => `${f.level}\u0000${f.scope}\u0000${f.key}`));
  const entryFindings: LintFinding[] = [];
  lintEntries(after, setEntries, opts, entryFindings);
  for (const f of entryFindings) {
    if (f.rule === 'dead' && lockedSlots.has(`${f.level}\u0000${f.scope}\u0000${f.key}`)) continue;
    out.push(f);
  }
  if (wants(opts, 'policy')) {
    const classes = contextClasses(index.directory());
    const changedKeys = new Set(changes.map((c) => c.key));
    for (const rule of opts.rules ?? []) {
      if (!rule.enabled) continue;
      // A rule can only change outcome if the change set touches one of its keys.
      if (!changedKeys.has(rule.require.key) && !(rule.when && changedKeys.has(rule.when.key))) {
        continue;
      }
      const b = evaluatePolicy(before, rule);
      const a = evaluatePolicy(after, rule);
      const introduced = new Uint8Array(a.violators.length);
      let n = 0;
      for (let i = 0; i < introduced.length; i++) {
        if (a.violators[i] === 1 && b.violators[i] === 0) {
          introduced[i] = 1;
          n++;
        }
      }
      if (n === 0) continue;
      const sources = new Map<string, PolicySource>();
      // Sources for the newly violating users only: where their offending values come from.
      const req = new KeyLookup(after, rule.require.key, classes);
      const fb = fallbackFor(index, rule.require.key, index.legacyMap());
      for (const cls of classes.all) {
        for (let m = 0; m < cls.users.length; m++) {
          if (introduced[cls.ordinals[m]!] === 0) continue;
          const w0 = req.winner(cls);
          const w =
            w0 !== null && w0.locked
              ? w0
              : (after.entry('user', cls.users[m]!.id, rule.require.key) ?? w0);
          const level: SourceLevel = w === null ? fb.level : w.level;
          const scope = w === null ? '' : w.scope;
          const id = `${level}\u0000${scope}`;
          const s = sources.get(id);
          if (s === undefined) sources.set(id, { level, scope, users: 1 });
          else s.users++;
        }
      }
      out.push(
        policyFinding(rule, classes, introduced, n, sources.values(), opts.sampleSize ?? 10, true),
      );
    }
  }
  return summarise(out);
}

/** Findings that block a push: every error (locks, invalid values, error-level policies...). */
export function blockingFindings(report: LintReport): LintFinding[] {
  return report.findings.filter((f) => f.severity === 'error');
}

/** The seed's HIPAA / marketing split as a policy rule (also installed by migration 0200). */
export const HIPAA_EMAIL_RULE: PolicyRule = Object.freeze({
  id: 'hipaa-no-email-gateway',
  description:
    'Users under HIPAA must not send faxes by email: turn the email gateway off where HIPAA applies.',
  severity: 'error',
  when: Object.freeze({ key: 'compliance.hipaa.enabled', op: 'equals', value: 'true' }),
  require: Object.freeze({ key: 'features.email_gateway.enabled', op: 'equals', value: 'false' }),
  tenantId: null,
  enabled: true,
}) as PolicyRule;
