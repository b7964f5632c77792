/**
 * The .env channels through the one handler table (what Electron IPC and the web bridge call):
 * strict request schemas, envelopes instead of throws, events after a stage, and a legacy
 * attachment that the other channels (config:resolve) see.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StrataEvent } from '../../src-main/contract/contract.js';
import { createHandlers, type HandlerTable } from '../../src-main/contract/handlers.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { demoTargets, ROOT, tempDir, TEST_KEY } from './service-fixtures.js';

let service: StrataConfigService;
let handlers: HandlerTable;
const events: StrataEvent[] = [];

beforeAll(async () => {
  const targets = await demoTargets();
  const path = join(tempDir(), 'handlers.sqlite');
  copyFileSync(targets.draft, path);
  service = await openService({
    db: path,
    operator: 'superadmin',
    env: { CONFIG_ENCRYPTION_KEY: TEST_KEY },
  });
  handlers = createHandlers(service, { emit: (e) => events.push(e) });
});

afterAll(async () => {
  await service.close();
  await dropTestDatabases();
});

describe('env channels', () => {
  it('previews from text content and masks secrets', async () => {
    const content = readFileSync(join(ROOT, 'test/fixtures/env/valid/faxbot-legacy.env'), 'utf8');
    const r = await handlers['env:preview']({
      fileName: 'faxbot-legacy.env',
      content,
      tenant: 'mercy_hospital',
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.data.accepted).toBe(true);
    expect(r.data.items).toHaveLength(9);
    expect(JSON.stringify(r.data)).not.toContain('pk_live_0123456789abcdef');
    expect(r.data.errors.map((e) => e.line)).toEqual([8]);
  });

  it('refuses malformed requests with one sentence that does not echo them', async () => {
    const cases: unknown[] = [
      { fileName: 'a.env' },
      { fileName: 'a.env', content: 'A=1', extra: true },
      { fileName: 'a.env', content: 'A=1', mapping: [{ envKey: '1BAD', key: 'x' }] },
      { fileName: 'a.env', content: 'A=1', placement: { level: 'planet', scope: '' } },
      { fileName: 'a.env', content: 'x'.repeat(1024 * 1024 + 1) },
    ];
    for (const request of cases) {
      const r = await handlers['env:preview'](request);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('invalid');
        expect(r.error.message).toMatch(/^Invalid request for env:preview: /);
        expect(r.error.message).not.toContain('1BAD');
      }
    }
    const proto = await handlers['env:saveMappings']({
      mapping: [{ envKey: '__proto__', key: 'x.y' }],
    });
    expect(proto).toMatchObject({ ok: false, error: { code: 'invalid' } });
  });

  it('stages the selected rows and announces them', async () => {
    events.length = 0;
    const r = await handlers['env:stage']({
      fileName: 'ops.env',
      content: 'FAX_TIMEOUT=30\nPUBLIC_URL=https://fax.example.org/\nUPLOADS_MAX_SIZE_MB=5000\n',
      select: ['FAX_TIMEOUT', 'PUBLIC_URL'],
      reason: 'wizard',
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.data).toMatchObject({ mode: 'staged', reason: 'Imported from ops.env: wizard' });
    expect(events).toEqual([
      {
        type: 'config-changed',
        mode: 'staged',
        changes: [
          { level: 'global', scope: '', key: 'fax_timeout', action: 'set' },
          { level: 'global', scope: '', key: 'public_url', action: 'set' },
        ],
      },
      { type: 'staged-changed', count: 2 },
    ]);
    const bad = await handlers['env:stage']({
      fileName: 'ops.env',
      content: 'UPLOADS_MAX_SIZE_MB=5000\n',
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid' } });
    if (!bad.ok)
      expect(bad.error.message).toMatch(
        /^ops\.env was not imported: one row cannot be written \(Line 1: /,
      );
  });

  it('attaches a legacy file that config:resolve then reports as env_legacy', async () => {
    const a = await handlers['env:attachLegacy']({
      fileName: 'old.env',
      content: 'LEGACY_ONLY=1\n',
    });
    if (!a.ok) throw new Error(a.error.message);
    expect(a.data).toMatchObject({ attached: true, onlyInFile: 1 });
    const r = await handlers['config:resolve']({
      key: 'legacy_only',
      context: { userId: 'dr_house' },
    });
    expect(r).toMatchObject({ ok: true, data: { value: '1', level: 'env_legacy' } });
    const s = await handlers['env:legacyStatus']({});
    expect(s).toMatchObject({ ok: true, data: { fileName: 'old.env' } });
    const d = await handlers['env:attachLegacy']({ detach: true });
    expect(d).toMatchObject({ ok: true, data: { attached: false } });
  });

  it('restores the legacy attachment of a draft as soon as the handlers exist', async () => {
    const a = await handlers['env:attachLegacy']({
      fileName: 'kept.env',
      content: 'KEPT_FLAG=yes\n',
    });
    expect(a.ok).toBe(true);
    const reopened = await openService({
      db: service.store.target,
      operator: 'superadmin',
      env: { CONFIG_ENCRYPTION_KEY: TEST_KEY },
    });
    try {
      const fresh = createHandlers(reopened);
      const r = await fresh['config:resolve']({
        key: 'kept_flag',
        context: { userId: 'dr_house' },
      });
      expect(r).toMatchObject({ ok: true, data: { value: 'yes', level: 'env_legacy' } });
    } finally {
      await reopened.close();
    }
    await handlers['env:attachLegacy']({ detach: true });
  });

  it('exports a context without secrets, and with secrets only after recording the reveals', async () => {
    const r = await handlers['env:export']({ context: { userId: 'dr_house' } });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.data.text).toContain('FAX_BACKEND=');
    expect(r.data.omittedSecrets.length).toBeGreaterThan(0);
    expect(r.data.text).not.toContain('demo-mercy-phaxio-key-0002');
    const before = (await service.reveals()).length;
    const bad = await handlers['env:export']({ context: { userId: 'dr_house' }, reason: 'x' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid' } });
    const s = await handlers['env:export']({
      context: { userId: 'dr_house' },
      includeSecrets: true,
      reason: 'ticket 42',
    });
    if (!s.ok) throw new Error(s.error.message);
    expect(s.data.text).toContain('PHAXIO_API_KEY=demo-mercy-phaxio-key-0002');
    const reveals = (await service.reveals()).slice(0, s.data.secretsIncluded);
    expect((await service.reveals()).length).toBe(before + s.data.secretsIncluded);
    for (const rec of reveals) {
      expect(rec.via).toBe('console');
      expect(rec.reason).toMatch(/^Export to \.env for user dr_house.*: ticket 42$/);
    }
  });
});
