/**
 * Pure helpers behind the console's template wizards: inline variable validation agrees with the
 * service's rendering, scope pickers list every scope of a level, and tenant-wizard ids follow the
 * service's rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../src-main/core/templates/index.js';
import type { Directory } from '../../src-main/core/types.js';
import { loadBuiltinTemplatesSync } from '../../src-main/services/template-files.js';
import { scopeOptions } from '../../src-renderer/features/templates/scopes.js';
import { idProblem } from '../../src-renderer/features/templates/tenant-wizard.js';
import {
  filledVars,
  variableProblem,
  variableProblems,
} from '../../src-renderer/features/templates/variable-fields.js';

const builtins = loadBuiltinTemplatesSync();
const gmail = builtins.find((d) => d.name === 'gmail-smtp')!;

describe('variable validation in the wizard', () => {
  it('flags missing, too short and pattern-breaking values', () => {
    const [user, pass] = gmail.variables;
    expect(variableProblem(user!, '')).toBe('EMAIL_USER is required.');
    expect(variableProblem(user!, 'a@yahoo.com')).toMatch(/^EMAIL_USER must match the pattern/);
    expect(variableProblem(pass!, 'short')).toBe('EMAIL_PASS must be exactly 16 characters long.');
    expect(variableProblem(user!, 'desk@gmail.com')).toBeNull();
    expect(filledVars({ A: '', B: 'x' })).toEqual({ B: 'x' });
  });

  it('accepts exactly the values the service renders (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom('desk@gmail.com', 'x@gmail.com', 'x@yahoo.com', ''), fc.string()),
        fc.oneof(fc.constantFrom('abcdefghijklmnop', 'abcdefgh ijklmno'), fc.string()),
        (u, p) => {
          const values = { EMAIL_USER: u, EMAIL_PASS: p };
          const form = Object.keys(variableProblems(gmail.variables, values)).length === 0;
          const server = renderTemplate(gmail, filledVars(values), {
            level: 'tenant',
            scope: 't',
          }).ok;
          expect(form).toBe(server);
        },
      ),
    );
  });
});

describe('scope pickers', () => {
  const dir: Directory = {
    tenants: [
      { id: 'b', name: 'Beta', tenantType: null },
      { id: 'a', name: 'Alpha', tenantType: null },
    ],
    departments: [{ tenantId: 'a', id: 'it', name: 'IT' }],
    groups: [{ id: 'g1', tenantId: 'a', department: null, name: 'Group one' }],
    users: [
      {
        id: 'u1',
        tenantId: 'b',
        department: null,
        groups: [],
        traits: [],
        displayName: 'Una',
        email: null,
        dbRole: null,
      },
    ],
  };

  it('lists every scope of a level with its tenant, sorted by label', () => {
    expect(scopeOptions(dir, 'tenant').map((o) => o.value)).toEqual(['a', 'b']);
    expect(scopeOptions(dir, 'department')).toEqual([
      { value: 'a/it', label: 'Alpha / IT (a/it)', tenantId: 'a' },
    ]);
    expect(scopeOptions(dir, 'group')[0]).toMatchObject({ value: 'g1', tenantId: 'a' });
    expect(scopeOptions(dir, 'user')[0]).toMatchObject({ value: 'u1', label: 'Una (u1)' });
    expect(scopeOptions(dir, 'global')).toEqual([{ value: '', label: 'Global', tenantId: null }]);
  });

  it('checks new ids like the service does', () => {
    expect(idProblem('Tenant', '')).toBe('Tenant id is required.');
    expect(idProblem('Tenant', 'bad/id')).toMatch(/letters, digits/);
    expect(idProblem('Group', 'er_doctors')).toBeNull();
  });
});
