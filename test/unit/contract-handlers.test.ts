/**
 * The handler table over a real config service (SQLite demo workspace and PostgreSQL): every
 * channel answers an envelope, bad requests are refused before any work without echoing input,
 * writes emit live-change events, and the slot view reports inheritance and overrides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MASK } from '../../src-main/core/masking.js';
import { CHANNELS, requestSchemas, type StrataEvent } from '../../src-main/contract/contract.js';
import {
  createHandlers,
  slotContext,
  type HandlerTable,
} from '../../src-main/contract/handlers.js';
import type { ConfigService } from '../../src-main/services/types.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { openPostgresDemo, openSqliteDemo, tempDir } from '../e2e/workspace-fixtures.js';

const CANARY = 'CANARY_7f3a9e';

describe.each(['sqlite', 'postgres'] as const)('handlers over %s', (kind) => {
  let service: ConfigService;
  let handlers: HandlerTable;
  const events: StrataEvent[] = [];
  const temp = tempDir();

  beforeAll(async () => {
    ({ service } = kind === 'sqlite' ? await openSqliteDemo(temp.dir) : await openPostgresDemo());
    handlers = createHandlers(service, { emit: (e) => events.push(e) });
  });

  afterAll(async () => {
    await service.close();
    temp.cleanup();
    if (kind === 'postgres') await dropTestDatabases();
  });

  it('has a handler for every channel', () => {
    expect(Object.keys(handlers).sort()).toEqual([...CHANNELS].sort());
    expect(Object.keys(requestSchemas).sort()).toEqual([...CHANNELS].sort());
  });

  it('answers reads in envelopes', async () => {
    const info = await handlers['workspace:info']({});
    expect(info.ok).toBe(true);
    if (info.ok) expect(info.data.kind).toBe(kind === 'sqlite' ? 'draft' : 'postgres');
    const dir = await handlers['directory:get']({});
    expect(dir.ok && dir.data.tenants.map((t) => t.id).sort()).toEqual([
      'general_hospital',
      'mercy_hospital',
    ]);
    const res = await handlers['config:resolve']({
      key: 'fax_backend',
      context: { userId: 'user123' },
    });
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(res.data.value).toBe('sip');
      expect(res.data.level).toBe('group');
    }
  });

  it('refuses unknown fields, wrong types and oversize input without echoing it', async () => {
    const cases: Array<[keyof HandlerTable, unknown]> = [
      ['config:resolve', { key: 'fax_backend', context: { userId: 'user123' }, [CANARY]: 1 }],
      ['config:resolve', { key: `${CANARY}${'k'.repeat(200)}`, context: { userId: 'u' } }],
      ['config:entries', { level: CANARY, scope: '' }],
      ['config:set', { level: 'global', scope: '', key: 'ui.theme', value: CANARY.repeat(9000) }],
      ['config:effective', { context: { tenantId: 't', groups: Array(101).fill(CANARY) } }],
      ['config:slot', { level: 'tenant', scope: `${CANARY}${'s'.repeat(201)}` }],
      ['workspace:info', { extra: CANARY }],
      ['audit:list', { limit: 100000 }],
      ['audit:directory', { kind: CANARY }],
      ['audit:directory', { ref: `${CANARY}${'r'.repeat(201)}` }],
      ['config:keys', CANARY],
    ];
    for (const [channel, request] of cases) {
      const answer = await handlers[channel](request);
      expect(answer.ok, channel).toBe(false);
      if (!answer.ok) {
        expect(answer.error.code).toBe('invalid');
        expect(answer.error.message).toMatch(new RegExp(`^Invalid request for ${channel}`));
        expect(answer.error.message).not.toContain(CANARY);
        expect(answer.error.message).not.toMatch(/\n\s+at /);
      }
    }
  });

  it('never echoes arbitrary payload strings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CHANNELS),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.jsonValue(),
        async (channel, name, value) => {
          const marker = `${CANARY}${name}`;
          const answer = await handlers[channel]({ [marker]: value, key: marker, level: marker });
          expect(answer.ok).toBe(false);
          if (!answer.ok) expect(answer.error.message).not.toContain(CANARY);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes through the service and emits a live-change event', async () => {
    events.length = 0;
    const set = await handlers['config:set']({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'notifications.marketing_features',
      value: 'true',
      reason: 'console test',
    });
    expect(set.ok).toBe(true);
    if (set.ok) expect(set.data.mode).toBe(kind === 'sqlite' ? 'staged' : 'live');
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'config-changed',
        changes: [
          {
            level: 'tenant',
            scope: 'mercy_hospital',
            key: 'notifications.marketing_features',
            action: 'set',
          },
        ],
      }),
    );
  });

  it('reports inheritance and overrides in the slot view', async () => {
    const view = await handlers['config:slot']({
      level: 'department',
      scope: 'mercy_hospital/marketing',
    });
    expect(view.ok).toBe(true);
    if (!view.ok) return;
    expect(view.data.context).toEqual({ tenantId: 'mercy_hospital', department: 'marketing' });
    const item = view.data.items.find((i) => i.key === 'notifications.marketing_features');
    expect(item?.entry?.value).toBe('true');
    // The tenant value written above is what the department overrides.
    expect(item?.inherited).toMatchObject({
      level: 'tenant',
      scope: 'mercy_hospital',
      value: 'true',
    });
    const theme = view.data.items.find((i) => i.key === 'ui.theme');
    expect(theme?.inherited).toMatchObject({ level: 'tenant', value: 'medical' });
    const unsetHere = view.data.items.find((i) => i.key === 'fax_backend');
    expect(unsetHere?.entry).toBeNull();
    expect(unsetHere?.inherited).toMatchObject({ level: 'tenant', value: 'phaxio' });
  });

  it('marks keys locked above the slot', async () => {
    const view = await handlers['config:slot']({
      level: 'department',
      scope: 'general_hospital/medical',
    });
    expect(view.ok).toBe(true);
    if (!view.ok) return;
    const fax = view.data.items.find((i) => i.key === 'fax.backend.provider');
    expect(fax?.lockedAbove).toBe(true);
    expect(fax?.inherited).toMatchObject({ level: 'tenant', value: 'sip', locked: true });
  });

  it('masks secrets in entries and reveals one only on request', async () => {
    const entries = await handlers['config:entries']({ level: 'global', scope: '' });
    expect(entries.ok).toBe(true);
    if (!entries.ok) return;
    const secret = entries.data.find((e) => e.key === 'providers.phaxio.api_key');
    expect(secret?.encrypted).toBe(true);
    expect(secret?.value).toBe(MASK);
    const revealed = await handlers['secret:reveal']({
      level: 'global',
      scope: '',
      key: 'providers.phaxio.api_key',
    });
    expect(revealed).toEqual({
      ok: true,
      data: {
        level: 'global',
        scope: '',
        key: 'providers.phaxio.api_key',
        value: 'demo-global-phaxio-key-0001',
      },
    });
    const missing = await handlers['secret:reveal']({
      level: 'global',
      scope: '',
      key: 'nope.key',
    });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.code).toBe('not_found');
  });

  it('passes service refusals through as safe envelopes', async () => {
    const bad = await handlers['config:set']({
      level: 'global',
      scope: '',
      key: 'uploads.max_size_mb',
      value: 'lots',
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('invalid');
      expect(bad.error.message).toContain('uploads.max_size_mb');
    }
  });

  it('answers directory history on PostgreSQL and a clear refusal on a draft', async () => {
    const answer = await handlers['audit:directory']({ kind: 'user', limit: 5 });
    if (kind === 'sqlite') {
      expect(answer.ok).toBe(false);
      if (!answer.ok) {
        expect(answer.error.code).toBe('invalid');
        expect(answer.error.message).toMatch(/^A draft keeps no directory history/);
      }
    } else {
      expect(answer.ok).toBe(true);
      if (answer.ok) {
        expect(answer.data.length).toBeLessThanOrEqual(5);
        for (const record of answer.data) expect(record.kind).toBe('user');
      }
    }
  });

  it('answers the draft channels with a clear error when no draft service is wired', async () => {
    for (const channel of ['draft:staged', 'draft:plan'] as const) {
      const answer = await handlers[channel]({});
      expect(answer).toEqual({
        ok: false,
        error: {
          code: 'invalid',
          message:
            'This workspace has no draft service; staging, plans and pushes need a draft workspace.',
        },
      });
    }
  });
});

describe('slotContext', () => {
  const dir = {
    tenants: [],
    departments: [],
    groups: [
      { id: 'g1', tenantId: 't1', department: 'd1', name: 'G1' },
      { id: 'g2', tenantId: null, department: null, name: 'G2' },
    ],
    users: [],
  };
  it('resolves exactly the levels down to each slot', () => {
    expect(slotContext('global', '', dir)).toBeNull();
    expect(slotContext('tenant', 't1', dir)).toEqual({ tenantId: 't1' });
    expect(slotContext('department', 't1/d1', dir)).toEqual({ tenantId: 't1', department: 'd1' });
    expect(slotContext('group', 'g1', dir)).toEqual({
      tenantId: 't1',
      department: 'd1',
      groups: ['g1'],
    });
    expect(slotContext('group', 'g2', dir)).toBeNull();
    expect(slotContext('user', 'u1', dir)).toEqual({ userId: 'u1' });
    expect(() => slotContext('department', 'nodash', dir)).toThrow(/tenant\/department/);
  });
});
