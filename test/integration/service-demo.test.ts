/**
 * The demo datasets: the hospital network satisfies its own metadata and covers the seed's
 * network; the generated network is deterministic with the documented x1 shape; both load into
 * real SQLite drafts (base, not staged) and real PostgreSQL.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSecretKey } from '../../src-main/core/secret-keys.js';
import { validateValue } from '../../src-main/core/validation.js';
import { generateNetwork } from '../../src-main/demo/generator.js';
import { hospitalNetwork } from '../../src-main/demo/hospital-network.js';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { SqliteStore } from '../../src-main/store/sqlite-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { migratedPg, pgQuery, tempDir, testCodec } from './service-fixtures.js';

afterAll(dropTestDatabases);

describe('hospital network', () => {
  const net = hospitalNetwork();

  it('passes its own metadata rules and marks exactly the secret keys', () => {
    const meta = new Map(net.metadata.map((m) => [m.key, m]));
    for (const e of net.entries) {
      const m = meta.get(e.key);
      expect(m, `${e.key} has metadata`).toBeDefined();
      expect(
        validateValue(e.key, e.value, e.valueType, m, e.secret),
        `${e.level} ${e.scope} ${e.key}`,
      ).toBeNull();
      expect(e.secret).toBe(isSecretKey(e.key, m));
    }
  });

  it("holds the seed's network: two HIPAA hospitals, Marketing without HIPAA, IT admins", () => {
    const d = net.directory;
    expect(d.tenants.map((t) => t.id)).toEqual(['mercy_hospital', 'general_hospital']);
    expect(d.departments.map((x) => `${x.tenantId}/${x.id}`)).toEqual(
      expect.arrayContaining([
        'mercy_hospital/medical',
        'mercy_hospital/marketing',
        'mercy_hospital/it',
      ]),
    );
    expect(d.users.length).toBeGreaterThanOrEqual(18);
    const traits = (id: string): string[] => d.users.find((u) => u.id === id)!.traits;
    expect(traits('superadmin')).toContain('super_admin');
    expect(
      d.users
        .filter((u) => u.traits.includes('tenant_admin'))
        .map((u) => u.tenantId)
        .sort(),
    ).toEqual(['general_hospital', 'mercy_hospital']);
    expect(
      d.users
        .filter((u) => u.traits.includes('dept_admin'))
        .map((u) => `${u.tenantId}/${u.department}`),
    ).toEqual(['mercy_hospital/medical']);
    const value = (level: string, scope: string, key: string): string | undefined =>
      net.entries.find((e) => e.level === level && e.scope === scope && e.key === key)?.value;
    expect(value('tenant', 'mercy_hospital', 'fax.backend.provider')).toBe('phaxio');
    expect(value('tenant', 'general_hospital', 'fax.backend.provider')).toBe('sip');
    expect(value('tenant', 'general_hospital', 'compliance.hipaa.enabled')).toBe('true');
    expect(value('department', 'mercy_hospital/marketing', 'compliance.hipaa.enabled')).toBe(
      'false',
    );
    expect(value('department', 'mercy_hospital/marketing', 'features.email_gateway.enabled')).toBe(
      'true',
    );
    expect(value('group', 'emergency_doctors_group', 'fax_backend')).toBe('sip');
    // Every group and user scope the values name exists in the directory.
    for (const e of net.entries) {
      if (e.level === 'group') expect(d.groups.some((g) => g.id === e.scope)).toBe(true);
      if (e.level === 'user') expect(d.users.some((u) => u.id === e.scope)).toBe(true);
    }
  });
});

describe('generated network', () => {
  it('has the documented x1 shape and is deterministic', () => {
    const a = generateNetwork(1);
    const d = a.directory;
    expect([d.tenants.length, d.departments.length, d.groups.length, d.users.length]).toEqual([
      5, 20, 200, 10_000,
    ]);
    const count = (level: string): number => a.entries.filter((e) => e.level === level).length;
    expect(count('global')).toBe(400);
    expect(count('tenant')).toBe(5 * 150);
    expect(count('department')).toBe(20 * 60);
    expect(count('group')).toBe(200 * 20);
    expect(count('user')).toBe(10_000 * 3);
    for (const u of d.users.slice(0, 500)) {
      expect(u.groups).toHaveLength(2);
      expect(new Set(u.groups).size).toBe(2);
      for (const g of u.groups) {
        expect(d.groups.find((x) => x.id === g)).toMatchObject({
          tenantId: u.tenantId,
          department: u.department,
        });
      }
    }
    const b = generateNetwork(1);
    expect(b.entries).toEqual(a.entries);
    expect(b.directory).toEqual(a.directory);
    const x2 = generateNetwork(2);
    expect([x2.directory.tenants.length, x2.directory.users.length]).toEqual([10, 20_000]);
    expect(() => generateNetwork(0)).toThrow();
  });

  it('loads x1 into a draft base (nothing staged) and serves every user', async () => {
    const path = join(tempDir(), 'x1.sqlite');
    const summary = await loadDemo(path, { scale: 1, codec: codecChoiceOf(null) });
    expect(summary).toMatchObject({
      kind: 'draft',
      dataset: 'scale-1',
      users: 10_000,
      entries: 36_350,
      skippedSecrets: 0,
    });
    const store = SqliteStore.open(path);
    try {
      expect(store.stagedCount()).toBe(0);
      expect(store.baseEntries()).toHaveLength(36_350);
      expect(store.meta('source')).toBeNull();
    } finally {
      await store.close();
    }
    const s = await openService({ db: path, codec: null });
    try {
      const eff = await s.effective({ userId: 'u0000042' });
      expect(eff.length).toBeGreaterThanOrEqual(400);
      expect((await s.info()).stagedCount).toBe(0);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe('demo on PostgreSQL', () => {
  it('loads the hospital network live in one audited transaction, with secrets encrypted', async () => {
    const url = await migratedPg();
    const summary = await loadDemo(url, {
      codec: codecChoiceOf(testCodec()),
      operator: 'demo-loader',
    });
    expect(summary).toMatchObject({ kind: 'postgres', tenants: 2, users: 20, skippedSecrets: 0 });
    const audit = await pgQuery<{
      values: number;
      directory: number;
      who: string;
      who_last: string;
      why: string;
    }>(
      url,
      `SELECT count(*) FILTER (WHERE config_table NOT LIKE 'dir:%')::int AS values,
              count(*) FILTER (WHERE config_table LIKE 'dir:%')::int AS directory,
              min(changed_by) AS who, max(changed_by) AS who_last, min(reason) AS why
       FROM config_audit`,
    );
    // One row per value and one per directory row and membership (0270), all by the loader.
    const dirRows = await pgQuery<{ n: number }>(
      url,
      `SELECT ((SELECT count(*) FROM tenants) + (SELECT count(*) FROM departments) + (SELECT count(*) FROM groups)
               + (SELECT count(*) FROM users) + (SELECT count(*) FROM group_members))::int AS n`,
    );
    expect(audit[0]).toEqual({
      values: summary.entries,
      directory: dirRows[0]!.n,
      who: 'demo-loader',
      who_last: 'demo-loader',
      why: 'strata demo: hospital network',
    });
    const secrets = await pgQuery<{ value: string; encrypted: boolean }>(
      url,
      "SELECT value, encrypted FROM config_tenant WHERE key = 'providers.phaxio.api_key'",
    );
    expect(secrets[0]!.encrypted).toBe(true);
    expect(secrets[0]!.value).toMatch(/^enc:v1:/);
    const members = await pgQuery<{ group_id: string; position: number }>(
      url,
      "SELECT group_id, position FROM group_members WHERE user_id = 'dr_house' ORDER BY position",
    );
    expect(members).toEqual([
      { group_id: 'doctors', position: 0 },
      { group_id: 'emergency_doctors_group', position: 1 },
    ]);
    await expect(loadDemo(url, { codec: codecChoiceOf(null) })).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});
