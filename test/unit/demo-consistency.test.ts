/**
 * The demo network and the built-in templates both describe some keys. A database holds one
 * configuration_metadata row per key, so both must agree, and every demo value must pass the
 * rules of its key (PostgreSQL's validation trigger refuses it otherwise, at the first push).
 */
import { describe, expect, it } from 'vitest';
import { hospitalNetwork } from '../../src-main/demo/hospital-network.js';
import { templateKeyMetadata } from '../../src-main/core/templates/schema.js';
import { loadBuiltinTemplatesSync } from '../../src-main/services/template-files.js';
import { validateValue } from '../../src-main/core/validation.js';

const demo = hospitalNetwork();

describe('demo network', () => {
  it('agrees with the built-in templates on the type and rules of every shared key', () => {
    const demoMeta = new Map(demo.metadata.map((m) => [m.key, m]));
    let shared = 0;
    for (const def of loadBuiltinTemplatesSync()) {
      for (const meta of templateKeyMetadata(def)) {
        const mine = demoMeta.get(meta.key);
        if (!mine) continue;
        shared += 1;
        expect(mine.valueType, meta.key).toBe(meta.valueType);
        expect(mine.inputType, meta.key).toBe(meta.inputType);
        expect(mine.validationRules, meta.key).toEqual(meta.validationRules);
      }
    }
    expect(shared).toBeGreaterThan(3);
  });

  it('sets only values that pass their key rules', () => {
    const meta = new Map(demo.metadata.map((m) => [m.key, m]));
    for (const def of loadBuiltinTemplatesSync()) {
      for (const m of templateKeyMetadata(def)) if (!meta.has(m.key)) meta.set(m.key, m);
    }
    for (const e of demo.entries.filter((x) => !x.secret)) {
      expect(
        validateValue(e.key, e.value, e.valueType, meta.get(e.key)),
        `${e.level} ${e.scope} ${e.key}`,
      ).toBeNull();
    }
  });
});
