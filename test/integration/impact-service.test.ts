import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers } from '../../src-main/contract/handlers.js';
import { ConfigIndex } from '../../src-main/core/config-index.js';
import { HIPAA_EMAIL_RULE } from '../../src-main/core/lint.js';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { impactOfDraftFile, impactServiceFor } from '../../src-main/services/impact-service.js';
import {
  POLICY_RULES_SETTING,
  checkPush,
  copyPolicyRules,
  lintServiceFor,
  pushGuardrails,
} from '../../src-main/services/lint-service.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import type { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { json, migratedPg, strata, tempDir, testCodec, TEST_KEY } from './service-fixtures.js';

let pgUrl: string;
let draftPath: string;
let live: StrataConfigService;
let draft: StrataConfigService;

/** Users whose resolved value of `key` differs between two indexes (every user, the slow way). */
function bruteForce(before: ConfigIndex, after: ConfigIndex, key: string): string[] {
  return before
    .directory()
    .users.filter((u) => {
      const ctx = before.userContext(u.id);
      const a = before.resolve(key, ctx);
      const b = after.resolve(key, ctx);
      return a.value !== b.value || a.valueType !== b.valueType;
    })
    .map((u) => u.id)
    .sort();
}

beforeAll(async () => {
  pgUrl = await migratedPg();
  await loadDemo(pgUrl, { codec: codecChoiceOf(testCodec()) });
  draftPath = join(tempDir(), 'impact.sqlite');
  await loadDemo(draftPath, { codec: codecChoiceOf(testCodec()) });
  live = await openService({ db: pgUrl, operator: 'superadmin', codec: testCodec() });
  draft = await openService({ db: draftPath, operator: 'superadmin', codec: testCodec() });
  // The draft carries the source's policy rules, as a pull copies them.
  await copyPolicyRules(live.store, draft.store);
  await draft.set({
    level: 'tenant',
    scope: 'mercy_hospital',
    key: 'features.email_gateway.enabled',
    value: 'true',
    reason: 'campaign',
  });
  await draft.set({
    level: 'global',
    scope: '',
    key: 'ui.theme',
    value: 'dark',
    reason: 'dark mode',
  });
  await draft.unset({
    level: 'department',
    scope: 'mercy_hospital/marketing',
    key: 'ui.theme',
    reason: 'tidy',
  });
});

afterAll(async () => {
  await live?.close();
  await draft?.close();
  await dropTestDatabases();
});

/** The draft's base (as pulled) and its state with the staged changes, as indexes. */
async function draftIndexes(): Promise<{ base: ConfigIndex; after: ConfigIndex }> {
  const store = draft.store as SqliteStore;
  const snap = await store.snapshot();
  const base = ConfigIndex.build({
    entries: store.baseEntries(),
    directory: snap.directory,
    metadata: snap.metadata,
  });
  const after = ConfigIndex.build({
    entries: snap.entries,
    directory: snap.directory,
    metadata: snap.metadata,
  });
  return { base, after };
}

describe('impact of a draft', () => {
  it("previews the open draft's staged changes, matching a brute force over every user", async () => {
    const p = await impactServiceFor(draft).preview({ includeUsers: true });
    const { base, after } = await draftIndexes();
    expect(p.source).toBe('staged');
    expect(p.changes).toBe(3);
    for (const k of p.keys) expect(k.userIds, k.key).toEqual(bruteForce(base, after, k.key));
    const gateway = p.keys.find((k) => k.key === 'features.email_gateway.enabled')!;
    // Marketing, IT and mkt_anna override it: only Mercy's medical department flips.
    expect(gateway.departments.map((d) => d.id)).toEqual(['mercy_hospital/medical']);
    // Turning the gateway on under HIPAA breaks the stored policy rule: an error for the push.
    const policy = p.guardrails.findings.find((f) => f.rule === 'policy')!;
    expect(policy).toMatchObject({
      severity: 'error',
      policyId: 'hipaa-no-email-gateway',
      usersAffected: gateway.usersAffected,
    });
  });

  it('drills down to one user with provenance and masks secrets', async () => {
    const p = await impactServiceFor(draft).preview({ userId: 'mkt_ben' });
    const theme = p.user!.items.find((i) => i.key === 'ui.theme')!;
    expect(theme.changed).toBe(true);
    expect(theme.before).toMatchObject({
      value: 'business',
      level: 'department',
      scope: 'mercy_hospital/marketing',
    });
    expect(theme.after).toMatchObject({
      value: 'medical',
      level: 'tenant',
      scope: 'mercy_hospital',
    });
    expect(theme.after.chain.find((l) => l.winner)).toMatchObject({ level: 'tenant' });
    const secret = await impactServiceFor(live).preview({
      changes: [
        {
          level: 'global',
          scope: '',
          key: 'providers.phaxio.api_key',
          action: 'set',
          value: 'new-key-value-123',
        },
      ],
      userId: 'user123',
    });
    expect(JSON.stringify(secret)).not.toContain('new-key-value-123');
    // Mercy sets its own key, so only General Hospital's users see the new global one.
    const general = live.index.directory().users.filter((u) => u.tenantId === 'general_hospital');
    expect(secret.usersAffected).toBe(general.length);
    expect(secret.keys[0]!.tenants).toEqual([{ id: 'general_hospital', users: general.length }]);
    expect(secret.user!.items[0]).toMatchObject({
      changed: false,
      after: { value: '••••••••', level: 'tenant' },
    });
  });

  it('answers `strata impact <draft> --users --json` in the documented shape', async () => {
    const run = await strata(['impact', draftPath, '--users', '--json'], {
      CONFIG_ENCRYPTION_KEY: TEST_KEY,
    });
    const doc = json<{
      keys: Array<{
        key: string;
        level: string;
        scope: string;
        users_affected: number;
        tenants: string[];
        users: string[];
      }>;
      users_affected: number;
    }>(run);
    const { base, after } = await draftIndexes();
    const all = new Set<string>();
    for (const row of doc.keys) {
      expect(Object.keys(row)).toEqual(
        expect.arrayContaining(['key', 'level', 'scope', 'users_affected', 'tenants', 'users']),
      );
      expect(row.users.length).toBe(row.users_affected);
      row.users.forEach((u) => all.add(u));
    }
    const truth = new Set(
      ['features.email_gateway.enabled', 'ui.theme'].flatMap((k) => bruteForce(base, after, k)),
    );
    expect(doc.users_affected).toBe(truth.size);
    expect([...all].sort()).toEqual([...truth].sort());
    const gw = doc.keys.find((k) => k.key === 'features.email_gateway.enabled')!;
    expect(gw).toMatchObject({
      level: 'tenant',
      scope: 'mercy_hospital',
      tenants: ['mercy_hospital'],
    });
    // The same numbers from the library entry point.
    expect((await impactOfDraftFile(draftPath)).usersAffected).toBe(truth.size);
  });
});

describe('guardrails service', () => {
  it('runs `strata lint` against the rules stored in PostgreSQL, exiting 2 on errors', async () => {
    const run = await strata(['lint', '--json', '--db', pgUrl], {
      CONFIG_ENCRYPTION_KEY: TEST_KEY,
    });
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout) as {
      errors: number;
      findings: Array<{ rule: string; policy_id?: string; sample_users?: string[] }>;
    };
    const policy = doc.findings.find((f) => f.rule === 'policy')!;
    expect(policy.policy_id).toBe('hipaa-no-email-gateway');
    expect(policy.sample_users).toEqual(['it_ivan', 'mercy_admin', 'superadmin']);
    expect(doc.findings.some((f) => f.rule === 'dead')).toBe(true);
    const only = await strata(['lint', '--only', 'redundant', '--db', pgUrl]);
    expect(only.code).toBe(0);
    expect(only.stdout).toMatch(/redundant/);
  });

  it('edits rules in the database (super_admin only) and lints a draft offline with its copy', async () => {
    const lint = lintServiceFor(live);
    await lint.saveRule({
      ...HIPAA_EMAIL_RULE,
      id: 'mercy-theme',
      severity: 'warning',
      when: null,
      require: { key: 'ui.theme', op: 'not_equals', value: 'dark' },
      tenantId: 'mercy_hospital',
    });
    expect((await lint.rules()).map((r) => r.id)).toEqual([
      'hipaa-no-email-gateway',
      'mercy-theme',
    ]);
    const tenantAdmin = await openService({
      db: pgUrl,
      operator: 'mercy_admin',
      codec: testCodec(),
    });
    try {
      await expect(lintServiceFor(tenantAdmin).deleteRule('mercy-theme')).rejects.toThrow(
        'Changing policy rules requires super_admin; mercy_admin is not one.',
      );
    } finally {
      await tenantAdmin.close();
    }
    expect(await lint.deleteRule('mercy-theme')).toBe(true);
    // The draft's staged set, judged as a push would judge it.
    const staged = await lintServiceFor(draft).run({ staged: true });
    expect(staged.findings.find((f) => f.rule === 'policy')?.message).toMatch(
      /would newly break policy hipaa-no-email-gateway/,
    );
    expect(await draft.store.getSetting(POLICY_RULES_SETTING)).toContain('hipaa-no-email-gateway');
  });

  it('refuses a push that breaks an error-level rule unless a super_admin overrides it with a reason', async () => {
    const changes = [
      {
        level: 'department' as const,
        scope: 'mercy_hospital/medical',
        key: 'features.email_gateway.enabled',
        action: 'set' as const,
        value: 'true',
        valueType: 'boolean' as const,
        encrypted: false,
        locked: false,
      },
    ];
    const report = await pushGuardrails(live.index, live.store, changes);
    const admin = { id: 'mercy_admin', traits: ['admin_capable', 'config_write', 'tenant_admin'] };
    expect(() => checkPush(report, admin)).toThrow(
      /^The push was refused: 7 users would newly break policy hipaa-no-email-gateway/,
    );
    expect(() => checkPush(report, admin, { reason: 'pilot' })).toThrow(
      'Only a super_admin may override policy rules; mercy_admin is not one.',
    );
    const sa = live.operator();
    expect(() => checkPush(report, sa, { reason: '  ' })).toThrow(
      'Overriding a policy rule needs a reason.',
    );
    const ok = checkPush(report, sa, { reason: 'approved pilot, ticket 123' });
    expect(ok.overridden.map((f) => f.policyId)).toEqual(['hipaa-no-email-gateway']);
    expect(ok.blocking).toEqual([]);
  });
});

describe('contract channels', () => {
  it('serves impact:preview, lint:run and history:at through the handler table', async () => {
    const h = createHandlers(draft);
    const preview = await h['impact:preview']({});
    expect(preview).toMatchObject({ ok: true, data: { source: 'staged', changes: 3 } });
    const lint = await h['lint:run']({ staged: true, only: ['policy'] });
    expect(lint.ok && lint.data.findings.every((f) => f.rule === 'policy')).toBe(true);
    const bad = await h['impact:preview']({
      changes: [{ level: 'tenant', scope: 'x', key: 'k', action: 'nope' }],
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid' } });
    // Point in time needs the PostgreSQL history: a draft says so in one sentence.
    const pit = await h['history:at']({
      at: '2030-01-01T00:00:00Z',
      context: { userId: 'user123' },
    });
    expect(pit).toMatchObject({
      ok: false,
      error: {
        code: 'invalid',
        message: expect.stringMatching(/^Point-in-time views read the history/),
      },
    });
    const livePit = await createHandlers(live)['history:at']({
      at: new Date().toISOString(),
      context: { userId: 'user123' },
    });
    expect(livePit.ok).toBe(true);
  });
});
