import { describe, expect, it } from 'vitest';
import { parseTemplate, planTenant, renderTemplate } from '../../src-main/core/templates/index.js';
import { loadBuiltinTemplatesSync } from '../../src-main/services/template-files.js';

const builtins = new Map(loadBuiltinTemplatesSync().map((d) => [d.name, d]));
const healthcare = builtins.get('healthcare')!;

describe('planTenant', () => {
  it('plans the full healthcare structure as one change set', () => {
    const plan = planTenant({
      id: 'st-marys',
      name: " St Mary's Hospital ",
      template: healthcare,
      vars: {},
    });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.tenant).toEqual({
      id: 'st-marys',
      name: "St Mary's Hospital",
      tenantType: 'healthcare',
    });
    expect(plan.departments).toEqual([
      { tenantId: 'st-marys', id: 'medical', name: 'Medical' },
      { tenantId: 'st-marys', id: 'it', name: 'IT' },
      { tenantId: 'st-marys', id: 'administration', name: 'Administration' },
    ]);
    expect(plan.groups).toEqual([
      {
        id: 'st-marys.doctors',
        localId: 'doctors',
        tenantId: 'st-marys',
        department: 'medical',
        name: 'Doctors',
        order: 0,
      },
      {
        id: 'st-marys.nurses',
        localId: 'nurses',
        tenantId: 'st-marys',
        department: 'medical',
        name: 'Nurses',
        order: 1,
      },
      {
        id: 'st-marys.admins',
        localId: 'admins',
        tenantId: 'st-marys',
        department: 'administration',
        name: 'Admins',
        order: 2,
      },
    ]);
    const rendered = renderTemplate(healthcare, {}, { level: 'tenant', scope: 'st-marys' });
    expect(rendered.ok && plan.changes).toEqual(rendered.ok && rendered.changes);
    expect(plan.changes).toHaveLength(7);
    expect(plan.changes.every((c) => c.level === 'tenant' && c.scope === 'st-marys')).toBe(true);
  });

  it('plans every built-in tenant template', () => {
    for (const name of ['healthcare', 'business', 'default']) {
      const plan = planTenant({ id: `t-${name}`, name, template: builtins.get(name)! });
      expect(plan.ok, name).toBe(true);
      if (plan.ok) {
        expect(plan.departments.length).toBeGreaterThan(0);
        expect(plan.changes.length).toBe(Object.keys(builtins.get(name)!.configs).length);
      }
    }
  });

  it('lets the caller replace departments and groups', () => {
    const plan = planTenant({
      id: 'north',
      name: 'North Clinic',
      template: healthcare,
      tenantType: null,
      departments: ['emergency_care', { id: 'lab', name: 'Laboratory' }],
      groups: [
        { id: 'er-docs', department: 'emergency_care' },
        { id: 'techs', name: 'Lab techs', department: 'lab' },
        { id: 'all' },
      ],
    });
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.tenant.tenantType).toBeNull();
    expect(plan.departments.map((d) => [d.id, d.name])).toEqual([
      ['emergency_care', 'Emergency Care'],
      ['lab', 'Laboratory'],
    ]);
    expect(plan.groups.map((g) => [g.id, g.name, g.department, g.order])).toEqual([
      ['north.er-docs', 'Er Docs', 'emergency_care', 0],
      ['north.techs', 'Lab techs', 'lab', 1],
      ['north.all', 'All', null, 2],
    ]);
  });

  it('falls back to one general department', () => {
    const bare = parseTemplate({
      ...structuredClone(healthcare),
      departments: undefined,
      groups: undefined,
    });
    const plan = planTenant({ id: 't1', name: 'T1', template: bare });
    expect(plan.ok && plan.departments).toEqual([
      { tenantId: 't1', id: 'general', name: 'General' },
    ]);
    expect(plan.ok && plan.groups).toEqual([]);
  });

  it('reports every problem and plans nothing', () => {
    const plan = planTenant({
      id: 'bad/id',
      name: '  ',
      template: healthcare,
      departments: ['medical', 'medical', 'a b'],
      groups: [{ id: 'doctors', department: 'surgery' }, { id: 'x' }, { id: 'x' }],
      vars: { EXTRA: 'v' },
    });
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.errors.map((e) => e.message)).toEqual([
      'Tenant id "bad/id" must be letters, digits, "_" or "-".',
      'Tenant name must not be empty.',
      'Department medical is listed twice.',
      'Department id "a b" must be letters, digits, "_" or "-".',
      'Group doctors belongs to department surgery, which this tenant will not have.',
      'Group x is listed twice.',
      expect.stringMatching(
        /^Cannot apply template "healthcare": The tenant scope 'bad\/id' is not valid/,
      ),
      'EXTRA is not a variable of template "healthcare".',
    ]);
  });

  it('refuses templates that are not for tenants', () => {
    const gmail = builtins.get('gmail-smtp')!;
    const onlyGroup = parseTemplate({
      ...structuredClone(gmail),
      targetLevel: 'group',
      allowedLevels: undefined,
    });
    const plan = planTenant({ id: 't1', name: 'T1', template: onlyGroup, vars: {} });
    expect(plan.ok).toBe(false);
    expect(!plan.ok && plan.errors[0]!.message).toBe(
      'Template "gmail-smtp" applies at the group level, not tenant.',
    );
  });

  it('refuses group ids that would be too long once prefixed', () => {
    const plan = planTenant({
      id: 'a'.repeat(60),
      name: 'Long',
      template: healthcare,
      groups: [{ id: 'g'.repeat(45) }],
    });
    expect(!plan.ok && plan.errors.map((e) => e.message)).toEqual([
      `Group id ${'a'.repeat(60)}.${'g'.repeat(45)} is longer than 100 characters.`,
    ]);
  });
});
