/**
 * Audited reveal: every read that releases a secret's plaintext writes a reveal record first
 * (who, which slot, when, why, through which front door; never the value), on PostgreSQL through
 * the SECURITY DEFINER function of 0130 into the append-only config_reveals, in a draft into
 * draft_reveals. Reads without reveal stay masked and record nothing; a reveal that cannot be
 * recorded returns nothing.
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../../src-main/core/masking.js';
import { StrataError } from '../../src-main/core/types.js';
import { createHandlers } from '../../src-main/contract/handlers.js';
import { main } from '../../src-main/cli/main.js';
import { openService, type StrataConfigService } from '../../src-main/services/config-service.js';
import { envelopeFingerprint } from '../../src-main/services/reveal-audit.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { openPostgresDemo, openSqliteDemo, tempDir } from '../e2e/workspace-fixtures.js';
import {
  createLoginRole,
  dropCreatedRoles,
  failure,
  urlAs,
  withClient,
} from './security-support.js';

const MERCY_KEY = 'demo-mercy-phaxio-key-0002';
const GLOBAL_KEY = 'demo-global-phaxio-key-0001';
const GENERAL_SIP = 'demo-general-sip-password';

interface RevealRow {
  seq: string;
  level: string;
  scope: string;
  key: string;
  fingerprint: string | null;
  revealed_by: string;
  db_role: string;
  reason: string | null;
  via: string;
}

function cli(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return main(argv, {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    env: { ...env, STRATA_DB: undefined, STRATA_OPERATOR: undefined, STRATA_DEBUG: undefined },
  }).then((code) => ({ code, out, err }));
}

describe('reveal audit on PostgreSQL', () => {
  let db: string;
  let env: Record<string, string | undefined>;
  let service: StrataConfigService;
  let mercy: { role: string; password: string };
  let mercyService: StrataConfigService;

  const reveals = (where = 'true'): Promise<RevealRow[]> =>
    withClient(db, async (c) => {
      const r = await c.query<RevealRow>(
        `SELECT seq::text, level::text, scope, key::text, fingerprint::text, revealed_by, db_role, reason, via::text
         FROM config_reveals WHERE ${where} ORDER BY config_reveals.seq`,
      );
      return r.rows;
    });

  beforeAll(async () => {
    const opened = await openPostgresDemo('superadmin');
    db = opened.db;
    env = opened.env;
    service = opened.service as StrataConfigService;
    mercy = await createLoginRole('mercy');
    await withClient(db, (c) =>
      c.query(`UPDATE users SET db_role = $1 WHERE id = 'mercy_admin'`, [mercy.role]),
    );
    mercyService = await openService({ db: urlAs(db, mercy.role, mercy.password), env });
  });

  afterAll(async () => {
    await mercyService?.close();
    await service?.close();
    await dropTestDatabases();
    await dropCreatedRoles();
  });

  it('records nothing for reads without reveal, which stay masked', async () => {
    const before = (await reveals()).length;
    const r = await service.resolve('providers.phaxio.api_key', { userId: 'user123' });
    expect(r.value).toBe(MASK);
    expect(r.chain.filter((l) => l.value !== null).every((l) => l.value === MASK)).toBe(true);
    const items = await service.effective({ userId: 'user123' });
    expect(items.find((i) => i.key === 'providers.phaxio.api_key')?.value).toBe(MASK);
    const entries = await service.entries('global', '');
    expect(entries.find((e) => e.key === 'providers.phaxio.api_secret')?.value).toBe(MASK);
    expect((await reveals()).length).toBe(before);
  });

  it('records one slot before releasing its plaintext', async () => {
    const [entry] = (await service.entries('tenant', 'mercy_hospital')).filter(
      (e) => e.key === 'providers.phaxio.api_key',
    );
    expect(entry?.value).toBe(MASK);
    const stored = service.index.get({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'providers.phaxio.api_key',
    })!;
    const revealed = await service.reveal({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'providers.phaxio.api_key',
      reason: '  ticket INC-4211: re-pair the fax gateway  ',
    });
    expect(revealed).toEqual({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'providers.phaxio.api_key',
      value: MERCY_KEY,
    });
    const rows = await reveals(`key = 'providers.phaxio.api_key' AND scope = 'mercy_hospital'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      level: 'tenant',
      scope: 'mercy_hospital',
      fingerprint: envelopeFingerprint(stored.value),
      revealed_by: 'superadmin',
      db_role: 'postgres',
      reason: 'ticket INC-4211: re-pair the fax gateway',
      via: 'api',
    });
    // Never the value or the ciphertext, in any column.
    const text = await withClient(
      db,
      async (c) =>
        (
          await c.query<{ t: string }>(
            "SELECT string_agg(r::text, E'\\n') AS t FROM config_reveals r",
          )
        ).rows[0]!.t,
    );
    expect(text).not.toContain(MERCY_KEY);
    expect(text).not.toContain(stored.value);
    const listed = await service.reveals({ key: 'providers.phaxio.api_key' });
    expect(listed[0]).toMatchObject({
      revealedBy: 'superadmin',
      via: 'api',
      scope: 'mercy_hospital',
    });
  });

  it('records every slot a revealing resolve or effective read releases, once each', async () => {
    const before = Number((await reveals()).at(-1)?.seq ?? 0);
    const r = await service.resolve(
      'providers.phaxio.api_key',
      { userId: 'user123' },
      { reveal: true, reason: 'compare keys', via: 'cli' },
    );
    expect(r.value).toBe(MERCY_KEY);
    expect(r.chain.find((l) => l.level === 'global')?.value).toBe(GLOBAL_KEY);
    const fromResolve = await reveals(`seq > ${before}`);
    expect(fromResolve.map((x) => `${x.level}:${x.scope}:${x.key}`).sort()).toEqual([
      'global::providers.phaxio.api_key',
      'tenant:mercy_hospital:providers.phaxio.api_key',
    ]);
    expect(fromResolve.every((x) => x.via === 'cli' && x.reason === 'compare keys')).toBe(true);

    const mid = Number(fromResolve.at(-1)!.seq);
    const items = await service.effective({ userId: 'user123' }, { reveal: true });
    const secretItems = items.filter((i) => i.encrypted);
    expect(secretItems.length).toBeGreaterThan(1);
    const fromEffective = await reveals(`seq > ${mid}`);
    expect(fromEffective.map((x) => x.key).sort()).toEqual(secretItems.map((i) => i.key).sort());
    // Non-secret values are not reveals.
    expect(fromEffective.some((x) => x.key === 'fax_backend')).toBe(false);
  });

  it('refuses bad reveal input before decrypting or recording anything', async () => {
    const before = (await reveals()).length;
    await expect(
      service.reveal({
        level: 'tenant',
        scope: 'mercy_hospital',
        key: 'providers.phaxio.api_key',
        reason: 'x'.repeat(2001),
      }),
    ).rejects.toThrow('The reason is 2001 characters long; the limit is 2000.');
    await expect(
      service.resolve(
        'providers.phaxio.api_key',
        { userId: 'user123' },
        { reveal: true, via: 'email' as never },
      ),
    ).rejects.toThrow('A reveal comes through console, cli, api.');
    await expect(
      service.reveal({ level: 'tenant', scope: 'mercy_hospital', key: 'nope.key' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect((await reveals()).length).toBe(before);
  });

  it('records the mapped directory user, whatever the client claims', async () => {
    const revealed = await mercyService.reveal({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'providers.phaxio.api_key',
      reason: 'mercy rotation',
    });
    expect(revealed.value).toBe(MERCY_KEY);
    const [row] = await reveals(`reason = 'mercy rotation'`);
    expect(row).toMatchObject({ revealed_by: 'mercy_admin', db_role: mercy.role });

    await withClient(urlAs(db, mercy.role, mercy.password), async (c) => {
      // Claiming another operator changes nothing for a mapped role.
      const r = await c.query<{ out_revealed_by: string }>(
        `SELECT out_revealed_by FROM strata_reveal(ARRAY['global'], ARRAY[''], ARRAY['providers.phaxio.api_key'],
           ARRAY[NULL::text], 'superadmin', 'claiming', 'api')`,
      );
      expect(r.rows[0]!.out_revealed_by).toBe('mercy_admin');
      // The definer function cannot be told it is somebody else.
      const forged = await failure(
        c.query(
          `SELECT * FROM strata_record_reveals('postgres', ARRAY['global'], ARRAY[''], ARRAY['k'],
             ARRAY[NULL::text], 'superadmin', 'forged', 'api')`,
        ),
      );
      expect(forged).toEqual({
        code: '42501',
        message: 'A reveal can be recorded only for the connected database role.',
      });
      // Nor record (or claim) a reveal of a slot the user may not read.
      const other = await failure(
        c.query(
          `SELECT * FROM strata_reveal(ARRAY['tenant'], ARRAY['general_hospital'], ARRAY['providers.sip.password'],
             ARRAY[NULL::text], null, null, 'api')`,
        ),
      );
      expect(other).toEqual({
        code: '42501',
        message: 'Permission denied: mercy_admin may not read tenant general_hospital.',
      });
    });
  });

  it('keeps config_reveals append-only and out of the application role’s hands', async () => {
    await service.reveal({
      level: 'tenant',
      scope: 'general_hospital',
      key: 'providers.sip.password',
    });
    await withClient(urlAs(db, mercy.role, mercy.password), async (c) => {
      for (const sql of [
        `INSERT INTO config_reveals (level, scope, key, revealed_by, db_role, via) VALUES ('global', '', 'k', 'x', 'x', 'api')`,
        `UPDATE config_reveals SET reason = 'edited'`,
        `DELETE FROM config_reveals`,
        `TRUNCATE config_reveals`,
      ]) {
        expect((await failure(c.query(sql)))?.code, sql).toBe('42501');
      }
      // Tenant isolation: a Mercy admin sees Mercy's and global reveals, not General's.
      const seen = await c.query<{ scope: string }>('SELECT DISTINCT scope FROM config_reveals');
      expect(seen.rows.map((r) => r.scope).sort()).toEqual(['', 'mercy_hospital']);
    });
    await withClient(db, async (c) => {
      for (const sql of [
        `UPDATE config_reveals SET reason = 'edited'`,
        'DELETE FROM config_reveals',
        'TRUNCATE config_reveals',
      ]) {
        const f = await failure(c.query(sql));
        expect(f?.code, sql).toBe('42501');
        expect(f?.message).toMatch(
          /^config_reveals is append-only: (UPDATE|DELETE|TRUNCATE) is not allowed\.$/,
        );
      }
    });
    const unmapped = await createLoginRole('unmapped');
    await withClient(urlAs(db, unmapped.role, unmapped.password), async (c) => {
      expect(
        await failure(
          c.query(
            `SELECT * FROM strata_reveal(ARRAY['global'], ARRAY[''], ARRAY['k'], ARRAY[NULL::text], 'superadmin', null, 'api')`,
          ),
        ),
      ).toEqual({
        code: '42501',
        message: `Database role ${unmapped.role} is not mapped to a directory user (users.db_role), so it cannot reveal secrets.`,
      });
    });
  });

  it('returns nothing when the reveal cannot be recorded', async () => {
    const fn = 'strata_reveal(text[], text[], text[], text[], text, text, text)';
    await withClient(db, (c) => c.query(`REVOKE EXECUTE ON FUNCTION ${fn} FROM strata_app`));
    try {
      let caught: unknown = null;
      try {
        await mercyService.reveal({
          level: 'tenant',
          scope: 'mercy_hospital',
          key: 'providers.phaxio.api_key',
        });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(StrataError);
      expect((caught as StrataError).code).toBe('forbidden');
      expect(String((caught as Error).message)).not.toContain(MERCY_KEY);
      await expect(
        mercyService.resolve('providers.phaxio.api_key', { userId: 'user123' }, { reveal: true }),
      ).rejects.toBeInstanceOf(StrataError);
      // Masked reads still work without the reveal log.
      const masked = await mercyService.resolve('providers.phaxio.api_key', { userId: 'user123' });
      expect(masked.value).toBe(MASK);
    } finally {
      await withClient(db, (c) => c.query(`GRANT EXECUTE ON FUNCTION ${fn} TO strata_app`));
    }
  });

  it('records console reveals through the secret:reveal channel, for that slot only', async () => {
    const handlers = createHandlers(service);
    const before = Number((await reveals()).at(-1)?.seq ?? 0);
    const answer = await handlers['secret:reveal']({
      level: 'global',
      scope: '',
      key: 'providers.phaxio.api_key',
      reason: 'console check',
    });
    expect(answer).toEqual({
      ok: true,
      data: { level: 'global', scope: '', key: 'providers.phaxio.api_key', value: GLOBAL_KEY },
    });
    const rows = await reveals(`seq > ${before}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      level: 'global',
      key: 'providers.phaxio.api_key',
      via: 'console',
      reason: 'console check',
      revealed_by: 'superadmin',
    });
    const viaEntries = await handlers['config:entries']({
      level: 'tenant',
      scope: 'general_hospital',
      reveal: true,
    });
    expect(
      viaEntries.ok && viaEntries.data.find((e) => e.key === 'providers.sip.password')?.value,
    ).toBe(GENERAL_SIP);
    expect((await reveals(`seq > ${rows[0]!.seq}`)).every((r) => r.via === 'console')).toBe(true);
  });

  it('records CLI reveals with --reason and refuses --reason without --reveal', async () => {
    const before = Number((await reveals()).at(-1)?.seq ?? 0);
    const ok = await cli(
      [
        'resolve',
        'providers.sip.password',
        '--tenant',
        'general_hospital',
        '--reveal',
        '--reason',
        'trunk re-registration',
        '--json',
        '--db',
        db,
        '--as',
        'superadmin',
      ],
      env,
    );
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).value).toBe(GENERAL_SIP);
    const rows = await reveals(`seq > ${before}`);
    expect(rows.map((r) => [r.key, r.scope, r.via, r.reason, r.revealed_by])).toEqual([
      ['providers.sip.password', 'general_hospital', 'cli', 'trunk re-registration', 'superadmin'],
    ]);
    const bad = await cli(
      [
        'resolve',
        'providers.sip.password',
        '--tenant',
        'general_hospital',
        '--reason',
        'x',
        '--db',
        db,
      ],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(
      '--reason is recorded with a reveal; add --reveal or leave --reason out.\n',
    );
    expect((await reveals(`seq > ${rows[0]!.seq}`)).length).toBe(0);
  });
});

describe('reveal audit in a draft', () => {
  const temp = tempDir('strata-reveal-');
  let service: StrataConfigService;
  let file: string;

  beforeAll(async () => {
    const opened = await openSqliteDemo(temp.dir, 'superadmin');
    service = opened.service as StrataConfigService;
    file = opened.db;
  });

  afterAll(async () => {
    await service?.close();
    temp.cleanup();
  });

  it('writes draft_reveals rows before releasing plaintext, append-only, never the value', async () => {
    expect(await service.reveals()).toEqual([]);
    const masked = await service.resolve('providers.phaxio.api_key', { userId: 'user123' });
    expect(masked.value).toBe(MASK);
    expect(await service.reveals()).toEqual([]);
    const revealed = await service.reveal({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'providers.phaxio.api_key',
      reason: 'offline check',
      via: 'console',
    });
    expect(revealed.value).toBe(MERCY_KEY);
    const [record] = await service.reveals();
    expect(record).toMatchObject({
      level: 'tenant',
      scope: 'mercy_hospital',
      key: 'providers.phaxio.api_key',
      revealedBy: 'superadmin',
      reason: 'offline check',
      via: 'console',
    });
    expect(record!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(record!.dbRole).not.toBe('');
    expect(Number.isNaN(Date.parse(record!.revealedAt))).toBe(false);

    const raw = new Database(file);
    try {
      expect(() => raw.prepare(`UPDATE draft_reveals SET reason = 'edited'`).run()).toThrow(
        'draft_reveals is append-only: UPDATE is not allowed.',
      );
      expect(() => raw.prepare('DELETE FROM draft_reveals').run()).toThrow(
        'draft_reveals is append-only: DELETE is not allowed.',
      );
      const dump = JSON.stringify(raw.prepare('SELECT * FROM draft_reveals').all());
      expect(dump).not.toContain(MERCY_KEY);
    } finally {
      raw.close();
    }
    const bytes = Buffer.concat(
      [file, `${file}-wal`].map((f) => {
        try {
          return readFileSync(f);
        } catch {
          return Buffer.alloc(0);
        }
      }),
    );
    expect(bytes.includes(Buffer.from(MERCY_KEY))).toBe(false);
  });
});
