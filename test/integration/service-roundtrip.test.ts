/**
 * Property: random sequences of set/unset through the service, on a real PostgreSQL database
 * and a real SQLite draft, leave the store in exactly the state the in-memory index claims: a
 * fresh load resolves every user identically, and every stored value comes back byte for byte
 * (unicode, quotes, whitespace, "", "0", "false").
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Level } from '../../src-main/core/types.js';
import { openService } from '../../src-main/services/config-service.js';
import type { StrataConfigService } from '../../src-main/services/config-service.js';
import { dropTestDatabases } from '../helpers/pg.js';
import { demoTargets, testCodec } from './service-fixtures.js';

afterAll(dropTestDatabases);

let targets: { postgres: string; draft: string };
beforeAll(async () => {
  targets = await demoTargets();
});

const SLOTS: Array<[Level, string]> = [
  ['global', ''],
  ['tenant', 'mercy_hospital'],
  ['department', 'mercy_hospital/medical'],
  ['group', 'doctors'],
  ['group', 'emergency_doctors_group'],
  ['user', 'dr_house'],
];
const KEYS = ['prop.alpha', 'prop.beta', 'fax_backend', 'ui.theme_note'];
const USERS = ['dr_house', 'user123', 'dr_grey', 'nurse_joy', 'mkt_anna'];

const value = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    'false',
    ' ',
    'sip',
    "it's",
    '"quoted"',
    'multi\nline',
    'ünïcødé ✓',
    '😀',
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);
const op: fc.Arbitrary<Op> = fc.record({
  slot: fc.constantFrom(...SLOTS),
  key: fc.constantFrom(...KEYS),
  unset: fc.boolean(),
  value,
});

interface Op {
  slot: [Level, string];
  key: string;
  unset: boolean;
  value: string;
}

async function applyOps(s: StrataConfigService, ops: Op[]): Promise<void> {
  for (const o of ops) {
    const [level, scope] = o.slot;
    // fax_backend has metadata options; other keys take any text.
    const v = o.key === 'fax_backend' ? (o.value.length % 2 === 0 ? 'sip' : 'phaxio') : o.value;
    if (o.unset) {
      if (s.index.get({ level, scope, key: o.key }))
        await s.unset({ level, scope, key: o.key, reason: 'prop' });
    } else {
      await s.set({ level, scope, key: o.key, value: v, reason: 'prop' });
    }
  }
}

describe.each(['postgres', 'draft'] as const)('round trip on %s', (kind) => {
  it('a fresh load equals the incrementally updated index', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        const s = await openService({
          db: targets[kind],
          operator: 'superadmin',
          codec: testCodec(),
        });
        try {
          await applyOps(s, ops);
          const fresh = await openService({ db: targets[kind], codec: testCodec() });
          try {
            for (const [level, scope] of SLOTS) {
              const a = (await s.entries(level, scope)).filter((e) => KEYS.includes(e.key));
              const b = (await fresh.entries(level, scope)).filter((e) => KEYS.includes(e.key));
              expect(b.map((e) => [e.key, e.value, e.valueType, e.version, e.staged])).toEqual(
                a.map((e) => [e.key, e.value, e.valueType, e.version, e.staged]),
              );
            }
            for (const u of USERS) {
              for (const key of KEYS) {
                expect(await fresh.resolve(key, { userId: u })).toEqual(
                  await s.resolve(key, { userId: u }),
                );
              }
            }
          } finally {
            await fresh.close();
          }
        } finally {
          await s.close();
        }
      }),
      { numRuns: 15 },
    );
  }, 240_000);
});
