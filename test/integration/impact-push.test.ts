import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemo } from '../../src-main/demo/load-demo.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { pullDraft } from '../../src-main/services/draft-pull.js';
import { pushGuardrailHook } from '../../src-main/services/lint-service.js';
import type { PushCheck } from '../../src-main/services/lint-service.js';
import { pushDraft } from '../../src-main/services/push-service.js';
import { codecChoiceOf } from '../../src-main/services/secret-codec.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { migratedPg, pgQuery, tempDir, testCodec } from './service-fixtures.js';

let url: string;
let live: StrataConfigService;

beforeAll(async () => {
  url = await migratedPg();
  await loadDemo(url, { codec: codecChoiceOf(testCodec()) });
  live = await openService({ db: url, operator: 'superadmin', codec: testCodec() });
});

afterAll(async () => {
  await live?.close();
  await dropTestDatabases();
});

/** A draft pulled from the database with one change staged in it. */
async function draftWith(change: {
  level: 'department' | 'tenant' | 'group';
  scope: string;
  key: string;
  value: string;
}): Promise<string> {
  const path = join(tempDir(), 'push.sqlite');
  await pullDraft(url, path);
  const draft = await openService({ db: path, operator: 'superadmin', codec: testCodec() });
  try {
    await draft.set({ ...change, reason: 'staged' });
  } finally {
    await draft.close();
  }
  return path;
}

async function liveValue(table: string, where: string): Promise<unknown[]> {
  return pgQuery(url, `SELECT value FROM ${table} WHERE ${where}`);
}

describe('push guardrails', () => {
  const gateway = {
    level: 'department' as const,
    scope: 'mercy_hospital/medical',
    key: 'features.email_gateway.enabled',
    value: 'true',
  };
  const where =
    "tenant_id = 'mercy_hospital' AND department = 'medical' AND key = 'features.email_gateway.enabled'";

  it('refuses a push that breaks an error-level policy rule, writing nothing', async () => {
    const path = await draftWith(gateway);
    await expect(
      pushDraft(path, {
        to: url,
        reason: 'campaign',
        operator: 'superadmin',
        guardrails: pushGuardrailHook(),
      }),
    ).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(
        /^The push was refused: 7 users would newly break policy hipaa-no-email-gateway .* A super_admin may override policy findings with a reason\.$/,
      ),
    });
    expect(await liveValue('config_department', where)).toEqual([]);
  });

  it('lets only a super_admin override it, and only with a reason', async () => {
    const path = await draftWith(gateway);
    await expect(
      pushDraft(path, {
        to: url,
        reason: 'campaign',
        operator: 'mercy_admin',
        guardrails: pushGuardrailHook({ reason: 'pilot' }),
      }),
    ).rejects.toThrow('Only a super_admin may override policy rules; mercy_admin is not one.');
    let seen: PushCheck | null = null;
    const out = await pushDraft(path, {
      to: url,
      reason: 'campaign',
      operator: 'superadmin',
      guardrails: pushGuardrailHook({ reason: 'approved pilot CHG-7' }, (c) => (seen = c)),
    });
    expect(out.status).toBe('applied');
    expect(seen!.overridden.map((f) => f.policyId)).toEqual(['hipaa-no-email-gateway']);
    expect(await liveValue('config_department', where)).toEqual([{ value: 'true' }]);
  });

  it('re-checks locks against production at push time', async () => {
    // Staged while nothing was locked; production locks the key before the push.
    const path = await draftWith({
      level: 'department',
      scope: 'mercy_hospital/it',
      key: 'ui.terminology',
      value: 'standard',
    });
    await live.set({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'ui.terminology',
      value: 'clinical',
      locked: true,
      reason: 'lock',
    });
    const lock =
      'ui.terminology is locked at tenant mercy_hospital; department overrides are not allowed.';
    await expect(
      pushDraft(path, {
        to: url,
        reason: 'r',
        operator: 'superadmin',
        guardrails: pushGuardrailHook({ reason: 'override?' }),
      }),
    ).rejects.toThrow(lock);
    // Without the hook the database refuses it in the push's own transaction.
    await expect(pushDraft(path, { to: url, reason: 'r', operator: 'superadmin' })).rejects.toThrow(
      lock,
    );
    expect(
      await liveValue(
        'config_department',
        "tenant_id = 'mercy_hospital' AND department = 'it' AND key = 'ui.terminology'",
      ),
    ).toEqual([]);
  });
});
