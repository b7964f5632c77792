import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { lintChanges } from '../../src-main/core/lint.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { EnvImportService } from '../../src-main/services/env-import-service.js';
import { checkPush, pushGuardrails } from '../../src-main/services/lint-service.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { templateServiceFor } from '../../src-main/services/template-service.js';
import type { PostgresStore } from '../../src-main/store/postgres-store.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { pgQuery, migratedPg, tempDir, testCodec } from './service-fixtures.js';

const LOCK = 'fax.backend.provider is locked at tenant general_hospital';
let url: string;
let service: StrataConfigService;

beforeAll(async () => {
  url = await migratedPg();
  await loadDemo(url, { codec: codecChoiceOf(testCodec()) });
  service = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
});

afterAll(async () => {
  await service?.close();
  await dropTestDatabases();
});

describe('locked keys on PostgreSQL (every write path meets the same wall)', () => {
  it('refuses a set below a lock through the config service, naming the lock', async () => {
    await expect(
      service.set({
        level: 'department',
        scope: 'general_hospital/medical',
        key: 'fax.backend.provider',
        value: 'phaxio',
      }),
    ).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining(`${LOCK}; department overrides are not allowed.`),
    });
    await expect(
      service.set({
        level: 'user',
        scope: 'gh_dr_osei',
        key: 'fax.backend.provider',
        value: 'test',
      }),
    ).rejects.toThrow(`${LOCK}; user overrides are not allowed.`);
    // Nothing was written.
    const rows = await pgQuery(
      url,
      "SELECT 1 FROM config_user WHERE user_id = 'gh_dr_osei' AND key = 'fax.backend.provider'",
    );
    expect(rows).toEqual([]);
  });

  it('refuses psql too, and changing an override already stored below the lock', async () => {
    await expect(
      pgQuery(
        url,
        "INSERT INTO config_group (group_id, key, value) VALUES ('gh_nurses', 'fax.backend.provider', 'sinch')",
      ),
    ).rejects.toThrow(`${LOCK}; group overrides are not allowed.`);
    // The demo's shadowed gh_oncall value may be removed, but not changed.
    await expect(
      pgQuery(
        url,
        "UPDATE config_group SET value = 'sinch' WHERE group_id = 'gh_oncall' AND key = 'fax.backend.provider'",
      ),
    ).rejects.toThrow(`${LOCK}; group overrides are not allowed.`);
  });

  it('allows the lock owner to change the lock, and overrides once it is lifted', async () => {
    await service.set({
      level: 'tenant',
      scope: 'general_hospital',
      key: 'fax.backend.provider',
      value: 'sip',
      locked: false,
      reason: 'unlock',
    });
    await service.set({
      level: 'department',
      scope: 'general_hospital/medical',
      key: 'fax.backend.provider',
      value: 'phaxio',
      reason: 'now allowed',
    });
    await service.unset({
      level: 'department',
      scope: 'general_hospital/medical',
      key: 'fax.backend.provider',
      reason: 'tidy',
    });
    await service.set({
      level: 'tenant',
      scope: 'general_hospital',
      key: 'fax.backend.provider',
      value: 'sip',
      locked: true,
      reason: 'lock again',
    });
    await expect(
      service.set({
        level: 'department',
        scope: 'general_hospital/medical',
        key: 'fax.backend.provider',
        value: 'phaxio',
      }),
    ).rejects.toThrow(LOCK);
  });

  it('refuses a template application below a lock', async () => {
    const templates = templateServiceFor(service);
    // The healthcare template sets compliance.hipaa.enabled at a tenant; lock it at global first.
    await service.set({
      level: 'global',
      scope: '',
      key: 'compliance.hipaa.enabled',
      value: 'true',
      locked: true,
      reason: 'hipaa everywhere',
    });
    try {
      await expect(
        templates.apply({
          template: 'healthcare',
          level: 'tenant',
          scope: 'general_hospital',
          reason: 'try',
        }),
      ).rejects.toThrow(
        /compliance\.hipaa\.enabled is locked at global; tenant overrides are not allowed\./,
      );
    } finally {
      await service.set({
        level: 'global',
        scope: '',
        key: 'compliance.hipaa.enabled',
        value: 'false',
        locked: false,
        reason: 'undo',
      });
    }
  });

  it('refuses an .env import below a lock', async () => {
    const env = new EnvImportService(service);
    const file = {
      fileName: 'locked.env',
      bytes: new TextEncoder().encode('FAX_BACKEND=phaxio\n'),
    };
    const placement = { level: 'department' as const, scope: 'general_hospital/medical' };
    const preview = await env.preview(file, { placement });
    expect(JSON.stringify(preview)).toContain('fax.backend.provider');
    await expect(env.stage(file, { placement, reason: 'import' })).rejects.toThrow(
      `${LOCK}; department overrides are not allowed.`,
    );
  });

  it('re-checks a push against the live locks and policy rules', async () => {
    const store = service.store as PostgresStore;
    const changes = [
      {
        level: 'department' as const,
        scope: 'general_hospital/medical',
        key: 'fax.backend.provider',
        action: 'set' as const,
        value: 'phaxio',
        valueType: 'string' as const,
        encrypted: false,
        locked: false,
      },
    ];
    const report = await pushGuardrails(service.index, store, changes);
    expect(() => checkPush(report, service.operator(), { reason: 'urgent' })).toThrow(
      /The push was refused: fax\.backend\.provider is locked at tenant general_hospital/,
    );
    // Even a push that slipped past that check is stopped by the database in its transaction.
    await expect(
      store.write(changes, { operator: 'superadmin', reason: 'push', pushId: 'p-lock' }),
    ).rejects.toThrow(LOCK);
    expect(lintChanges(service.index, changes).findings.map((f) => f.rule)).toContain('locked');
  });

  it('lets a bulk load carry a shadowed override written with its lock', async () => {
    // The demo itself does this: gh_oncall's phaxio sits below General Hospital's SIP lock.
    const rows = await pgQuery(
      url,
      "SELECT value FROM config_group WHERE group_id = 'gh_oncall' AND key = 'fax.backend.provider'",
    );
    expect(rows).toEqual([{ value: 'phaxio' }]);
    const r = service.index.resolve(
      'fax.backend.provider',
      service.index.userContext('gh_dr_osei'),
    );
    expect(r).toMatchObject({ level: 'tenant', scope: 'general_hospital', value: 'sip' });
  });
});

describe('locked keys in a draft (staging is refused before anything is staged)', () => {
  let draft: StrataConfigService;

  beforeAll(async () => {
    const path = join(tempDir(), 'locks.sqlite');
    await loadDemo(path, { codec: codecChoiceOf(testCodec()) });
    draft = await openService({ db: path, operator: 'superadmin', codec: testCodec() });
  });

  afterAll(async () => {
    await draft?.close();
  });

  it('refuses set, template and import staging below a lock, and stages nothing', async () => {
    await expect(
      draft.set({
        level: 'group',
        scope: 'gh_doctors',
        key: 'fax.backend.provider',
        value: 'phaxio',
      }),
    ).rejects.toMatchObject({
      code: 'forbidden',
      message: `${LOCK}; group overrides are not allowed.`,
    });

    await draft.set({
      level: 'global',
      scope: '',
      key: 'compliance.hipaa.enabled',
      value: 'true',
      locked: true,
      reason: 'lock',
    });
    await expect(
      templateServiceFor(draft).apply({
        template: 'healthcare',
        level: 'tenant',
        scope: 'general_hospital',
        reason: 't',
      }),
    ).rejects.toThrow(
      'compliance.hipaa.enabled is locked at global; tenant overrides are not allowed.',
    );

    const env = new EnvImportService(draft);
    const file = { fileName: 'x.env', bytes: new TextEncoder().encode('FAX_BACKEND=phaxio\n') };
    await expect(
      env.stage(file, { placement: { level: 'user', scope: 'gh_clerk_fox' }, reason: 'import' }),
    ).rejects.toThrow(`${LOCK}; user overrides are not allowed.`);

    const info = await draft.info();
    expect(info.stagedCount).toBe(1); // only the global lock itself
  });

  it('lets a staged unlock make room for an override in the same draft', async () => {
    await draft.set({
      level: 'tenant',
      scope: 'general_hospital',
      key: 'fax.backend.provider',
      value: 'sip',
      locked: false,
      reason: 'unlock',
    });
    await draft.set({
      level: 'group',
      scope: 'gh_doctors',
      key: 'fax.backend.provider',
      value: 'phaxio',
      reason: 'now allowed',
    });
    const r = draft.index.resolve('fax.backend.provider', draft.index.userContext('gh_dr_patel'));
    expect(r).toMatchObject({ level: 'group', scope: 'gh_doctors', value: 'phaxio' });
  });
});
