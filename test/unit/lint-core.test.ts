import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigIndex } from '../../src-main/core/config-index.js';
import { OverlayView, indexView } from '../../src-main/core/impact.js';
import {
  HIPAA_EMAIL_RULE,
  blockingFindings,
  conditionHolds,
  describeRule,
  evaluatePolicy,
  lintChanges,
  lintIndex,
  parsePolicyRule,
} from '../../src-main/core/lint.js';
import type { LintFinding, PolicyRule } from '../../src-main/core/lint.js';
import { StrataError } from '../../src-main/core/types.js';
import type { ConfigEntry, Level } from '../../src-main/core/types.js';
import { hospitalNetwork } from '../../src-main/demo/hospital-network.js';
import { applyChanges, datasetEntries, envelope, set, unset } from './impact-helpers.js';

const demo = hospitalNetwork();

function entry(
  level: Level,
  scope: string,
  key: string,
  value: string,
  extra: Partial<ConfigEntry> = {},
): ConfigEntry {
  return {
    level,
    scope,
    key,
    value,
    valueType: 'string',
    encrypted: false,
    locked: false,
    version: 1,
    updatedAt: '2025-01-01T00:00:00.000Z',
    updatedBy: null,
    ...extra,
  };
}

/** The demo network plus one planted case per guardrail. */
function plantedIndex(): ConfigIndex {
  const planted: ConfigEntry[] = [
    // invalid-value: breaks the metadata pattern, and a number above its max.
    entry('tenant', 'general_hospital', 'branding_color', 'purple'),
    entry('user', 'gh_clerk_fox', 'max_file_size_mb', '500', { valueType: 'number' }),
    // unencrypted-secret: a secret-looking key stored in plaintext.
    entry(
      'department',
      'general_hospital/medical',
      'providers.phaxio.api_key',
      'plain-text-key-123',
    ),
    // no-metadata.
    entry('tenant', 'mercy_hospital', 'custom.untracked_flag', 'on'),
    // unknown-scope.
    entry('tenant', 'ghost_hospital', 'ui.theme', 'dark'),
    // dead: both members of gh_nurses set the key themselves.
    entry('user', 'gh_nurse_lee', 'ui.theme', 'high-contrast'),
    entry('group', 'gh_nurses', 'ui.theme', 'pastel'),
    entry('user', 'gh_nurse_diaz', 'ui.theme', 'dark'),
  ];
  return ConfigIndex.build({
    entries: [...datasetEntries(demo), ...planted],
    directory: demo.directory,
    metadata: demo.metadata,
  });
}

function find(
  findings: LintFinding[],
  rule: string,
  key: string,
  level?: Level,
  scope?: string,
): LintFinding | undefined {
  return findings.find(
    (f) =>
      f.rule === rule &&
      f.key === key &&
      (level === undefined || f.level === level) &&
      (scope === undefined || f.scope === scope),
  );
}

describe('lintIndex on planted cases', () => {
  const report = lintIndex(plantedIndex(), { rules: [HIPAA_EMAIL_RULE] });
  const f = report.findings;

  it('finds overrides equal to what they inherit', () => {
    expect(find(f, 'redundant', 'fax.backend.provider', 'tenant', 'mercy_hospital')?.message).toBe(
      'fax.backend.provider at tenant mercy_hospital repeats the value it inherits from global; removing it changes nothing.',
    );
    expect(
      find(f, 'redundant', 'hipaa_mode', 'department', 'mercy_hospital/medical'),
    ).toBeDefined();
    // doctors' "normal" only wins for dr_shepherd, who would inherit "normal" from global anyway.
    expect(find(f, 'redundant', 'notification_urgency', 'group', 'doctors')).toBeDefined();
    // A user override that differs is not redundant; a lock is never redundant.
    expect(
      find(f, 'redundant', 'features.email_gateway.enabled', 'user', 'mkt_anna'),
    ).toBeUndefined();
    expect(
      find(f, 'redundant', 'fax.backend.provider', 'tenant', 'general_hospital'),
    ).toBeUndefined();
  });

  it('finds overrides that can never take effect', () => {
    const locked = find(f, 'dead', 'fax.backend.provider', 'group', 'gh_oncall');
    expect(locked?.message).toBe(
      'fax.backend.provider at group gh_oncall never takes effect: it is locked at tenant general_hospital.',
    );
    expect(locked?.shadowedBy).toEqual({ level: 'tenant', scope: 'general_hospital' });
    const shadowed = find(f, 'dead', 'ui.theme', 'group', 'gh_nurses');
    expect(shadowed?.message).toBe(
      'ui.theme at group gh_nurses never takes effect: every member gets it from a more specific level.',
    );
    // Only live values are left alone.
    expect(find(f, 'dead', 'ui.theme', 'tenant', 'general_hospital')).toBeUndefined();
  });

  it('finds values breaking their metadata, naming the rule', () => {
    expect(
      find(f, 'invalid-value', 'branding_color', 'tenant', 'general_hospital')?.message,
    ).toContain('rule pattern');
    const max = find(f, 'invalid-value', 'max_file_size_mb', 'user', 'gh_clerk_fox');
    expect(max?.severity).toBe('error');
    expect(max?.message).toContain('rule max');
  });

  it('finds secrets stored unencrypted without showing them', () => {
    const s = find(
      f,
      'unencrypted-secret',
      'providers.phaxio.api_key',
      'department',
      'general_hospital/medical',
    );
    expect(s?.severity).toBe('error');
    expect(JSON.stringify(report)).not.toContain('plain-text-key-123');
  });

  it('finds keys without metadata and scopes the directory does not know', () => {
    expect(find(f, 'no-metadata', 'custom.untracked_flag')?.message).toBe(
      'custom.untracked_flag has no metadata (set at 1 slot), so its values are not validated or described.',
    );
    expect(find(f, 'unknown-scope', '', 'tenant', 'ghost_hospital')?.message).toBe(
      'Tenant ghost_hospital is not in the directory, so its 1 value reach no one.',
    );
  });

  it('evaluates the HIPAA / email gateway policy over every user', () => {
    const p = f.find((x) => x.rule === 'policy')!;
    // Mercy's IT department turns the gateway on under a HIPAA tenant.
    expect(p.policyId).toBe('hipaa-no-email-gateway');
    expect(p.severity).toBe('error');
    expect(p.sampleUsers).toEqual(['it_ivan', 'mercy_admin', 'superadmin']);
    expect(p.usersAffected).toBe(3);
    expect(p.tenants).toEqual(['mercy_hospital']);
    expect(p.sources).toEqual([{ level: 'department', scope: 'mercy_hospital/it', users: 3 }]);
    expect(p.message).toContain(
      'where compliance.hipaa.enabled is true, features.email_gateway.enabled must be false',
    );
  });

  it('reports a clean network as clean', () => {
    const clean = ConfigIndex.build({
      entries: [entry('global', '', 'ui.theme', 'dark')],
      directory: demo.directory,
      metadata: demo.metadata.filter((m) => m.key === 'ui.theme'),
    });
    expect(lintIndex(clean, { rules: [HIPAA_EMAIL_RULE] }).findings).toEqual([]);
  });

  it('sorts errors first and totals by severity and rule', () => {
    const sev = f.map((x) => x.severity);
    expect(sev.indexOf('warning')).toBeGreaterThan(sev.lastIndexOf('error'));
    expect(report.counts.error).toBe(f.filter((x) => x.severity === 'error').length);
    expect(report.byRule.dead).toBe(f.filter((x) => x.rule === 'dead').length);
  });
});

describe('policy evaluation', () => {
  it('matches resolving every user of the demo network for generated rules and changes', () => {
    const keys = [
      'compliance.hipaa.enabled',
      'features.email_gateway.enabled',
      'ui.theme',
      'fax.backend.provider',
    ];
    const cond = fc.record({
      key: fc.constantFrom(...keys),
      op: fc.constantFrom('equals', 'not_equals', 'in', 'not_in', 'is_set', 'is_unset'),
      v: fc.constantFrom('true', 'false', 'medical', 'sip'),
    });
    const toCond = (c: { key: string; op: string; v: string }): unknown => ({
      key: c.key,
      op: c.op,
      value:
        c.op === 'in' || c.op === 'not_in' ? [c.v, 'phaxio'] : c.op.startsWith('is_') ? null : c.v,
    });
    const base = ConfigIndex.build({
      entries: datasetEntries(demo),
      directory: demo.directory,
      metadata: demo.metadata,
    });
    fc.assert(
      fc.property(
        fc.option(cond, { nil: null }),
        cond,
        fc.constantFrom(null, 'mercy_hospital'),
        fc.constantFrom('true', 'false', 'sip'),
        fc.constantFrom<[Level, string]>(
          ['global', ''],
          ['department', 'mercy_hospital/it'],
          ['user', 'mkt_ben'],
          ['group', 'gh_oncall'],
        ),
        (when, require, tenantId, value, [level, scope]) => {
          const rule = parsePolicyRule({
            id: 'r1',
            when: when && toCond(when),
            require: toCond(require),
            tenantId,
          });
          const changes = [
            set(level, scope, require.key, value),
            unset('tenant', 'mercy_hospital', 'compliance.hipaa.enabled'),
          ];
          const view = new OverlayView(base, changes);
          const ev = evaluatePolicy(view, rule);
          const truthIdx = applyChanges(base, changes);
          const expected: string[] = [];
          demo.directory.users.forEach((u) => {
            if (tenantId !== null && u.tenantId !== tenantId) return;
            const ctx = truthIdx.userContext(u.id);
            const seen = (
              k: string,
            ): { value: string | null; valueType: 'string'; encrypted: boolean } => {
              const r = truthIdx.resolve(k, ctx);
              return { value: r.value, valueType: r.valueType as 'string', encrypted: r.encrypted };
            };
            if (rule.when && !conditionHolds(rule.when, seen(rule.when.key))) return;
            if (!conditionHolds(rule.require, seen(rule.require.key))) expected.push(u.id);
          });
          const got = demo.directory.users.filter((_, i) => ev.violators[i] === 1).map((u) => u.id);
          expect(got).toEqual(expected);
          expect(ev.count).toBe(expected.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('compares under the value type and never matches an encrypted value', () => {
    expect(
      conditionHolds(
        { key: 'k', op: 'equals', value: 'true' },
        { value: '1', valueType: 'boolean', encrypted: false },
      ),
    ).toBe(true);
    expect(
      conditionHolds(
        { key: 'k', op: 'equals', value: '10' },
        { value: '10.0', valueType: 'number', encrypted: false },
      ),
    ).toBe(true);
    expect(
      conditionHolds(
        { key: 'k', op: 'equals', value: 'x' },
        { value: envelope('x'), valueType: 'string', encrypted: true },
      ),
    ).toBe(false);
    expect(
      conditionHolds(
        { key: 'k', op: 'is_set' },
        { value: envelope('x'), valueType: 'string', encrypted: true },
      ),
    ).toBe(true);
  });

  it('refuses malformed rules with one clear sentence', () => {
    const bad: Array<[unknown, RegExp]> = [
      [null, /must be an object/],
      [{ id: 'bad id!', require: { key: 'a', op: 'is_set' } }, /id must be/],
      [{ id: 'r', require: { key: 'a', op: 'matches' } }, /op must be one of/],
      [{ id: 'r', require: { key: 'a', op: 'equals' } }, /needs a text value/],
      [{ id: 'r', require: { key: 'a', op: 'in', value: [] } }, /list of 1 to 100/],
      [{ id: 'r', severity: 'fatal', require: { key: 'a', op: 'is_set' } }, /severity must be/],
      [{ id: 'r', require: { key: '__proto__.x', op: 'is_set' } }, /valid configuration key/],
    ];
    for (const [input, why] of bad) {
      expect(() => parsePolicyRule(input)).toThrow(StrataError);
      expect(() => parsePolicyRule(input)).toThrow(why);
    }
    expect(describeRule(HIPAA_EMAIL_RULE)).toBe(
      'where compliance.hipaa.enabled is true, features.email_gateway.enabled must be false',
    );
  });
});

describe('lintChanges (plan and push)', () => {
  const index = ConfigIndex.build({
    entries: datasetEntries(demo),
    directory: demo.directory,
    metadata: demo.metadata,
  });

  it('reports only the policy violations a change set introduces', () => {
    const changes = [
      set('department', 'mercy_hospital/medical', 'features.email_gateway.enabled', 'true', {
        valueType: 'boolean',
      }),
    ];
    const report = lintChanges(index, changes, { rules: [HIPAA_EMAIL_RULE] });
    const p = report.findings.find((x) => x.rule === 'policy')!;
    const medical = demo.directory.users.filter(
      (u) => u.department === 'medical' && u.tenantId === 'mercy_hospital',
    );
    expect(p.usersAffected).toBe(medical.length);
    expect(p.message).toMatch(/^7 users would newly break policy hipaa-no-email-gateway/);
    expect(p.sources).toEqual([{ level: 'department', scope: 'mercy_hospital/medical', users: 7 }]);
    expect(blockingFindings(report)).toContain(p);
    // Touching an unrelated key leaves the existing IT violation out of a push check.
    const other = lintChanges(index, [set('global', '', 'ui.theme', 'ocean')], {
      rules: [HIPAA_EMAIL_RULE],
    });
    expect(other.findings.filter((x) => x.rule === 'policy')).toEqual([]);
    // Fixing the IT department introduces nothing.
    const fix = lintChanges(
      index,
      [
        set('department', 'mercy_hospital/it', 'features.email_gateway.enabled', 'false', {
          valueType: 'boolean',
        }),
      ],
      {
        rules: [HIPAA_EMAIL_RULE],
      },
    );
    expect(fix.counts.error).toBe(0);
  });

  it('refuses lock overrides, invalid values and plaintext secrets in a change set', () => {
    const report = lintChanges(index, [
      set('group', 'gh_doctors', 'fax.backend.provider', 'phaxio'),
      set('tenant', 'mercy_hospital', 'max_file_size_mb', '1000', { valueType: 'number' }),
      set('tenant', 'mercy_hospital', 'providers.sip.password', 'hunter2-plaintext'),
    ]);
    const rules = blockingFindings(report)
      .map((x) => `${x.rule}:${x.key}`)
      .sort();
    expect(rules).toEqual([
      'invalid-value:max_file_size_mb',
      'locked:fax.backend.provider',
      'unencrypted-secret:providers.sip.password',
    ]);
    expect(find(report.findings, 'locked', 'fax.backend.provider')?.message).toBe(
      'fax.backend.provider is locked at tenant general_hospital; group overrides are not allowed.',
    );
    // The lock refusal is not reported a second time as a dead value.
    expect(find(report.findings, 'dead', 'fax.backend.provider')).toBeUndefined();
    expect(JSON.stringify(report)).not.toContain('hunter2');
  });

  it('warns about a staged value equal to what it inherits', () => {
    const report = lintChanges(index, [
      set('department', 'general_hospital/medical', 'ui.theme', 'medical'),
    ]);
    expect(
      find(report.findings, 'redundant', 'ui.theme', 'department', 'general_hospital/medical')
        ?.severity,
    ).toBe('warning');
    expect(blockingFindings(report)).toEqual([]);
  });

  it('lints the index view and the overlay alike', () => {
    const changes = [set('tenant', 'mercy_hospital', 'ui.theme', 'neutral')];
    const viaOverlay = lintChanges(index, changes, { only: ['redundant', 'dead'] }).findings;
    const whole = lintIndex(applyChanges(index, changes), { only: ['redundant', 'dead'] }).findings;
    expect(viaOverlay).toEqual(
      whole.filter((x) => x.key === 'ui.theme' && x.scope === 'mercy_hospital'),
    );
    expect(indexView(index).entry('tenant', 'mercy_hospital', 'ui.theme')?.value).toBe('medical');
  });
});

/** Keeps TypeScript honest about the exported rule shape. */
const _rule: PolicyRule = HIPAA_EMAIL_RULE;
void _rule;
