/**
 * Deterministic synthetic networks for benchmarks and `strata demo --scale N`. At scale 1:
 * 5 tenants, 20 departments, 200 groups, 10,000 users (2 groups each, from their department),
 * 400 keys set globally, 150 per tenant, 60 per department, 20 per group and 3 per user; scale N
 * multiplies tenants, departments, groups and users by N. The same seed always yields the same
 * dataset, so benchmark runs compare like with like.
 */
import type {
  Department,
  DirectoryUser,
  Group,
  KeyMetadata,
  Tenant,
  ValueType,
} from '../core/types.js';
import type { DemoDataset, DemoEntry } from './hospital-network.js';

/** Sizes of one generated network. */
export interface ScaleShape {
  tenants: number;
  departmentsPerTenant: number;
  groupsPerDepartment: number;
  usersPerDepartment: number;
  groupsPerUser: number;
  keys: number;
  keysPerTenant: number;
  keysPerDepartment: number;
  keysPerGroup: number;
  keysPerUser: number;
}

/** The x1 shape; scale N multiplies the number of tenants (and so everything under them). */
export const SCALE_1: ScaleShape = {
  tenants: 5,
  departmentsPerTenant: 4,
  groupsPerDepartment: 10,
  usersPerDepartment: 500,
  groupsPerUser: 2,
  keys: 400,
  keysPerTenant: 150,
  keysPerDepartment: 60,
  keysPerGroup: 20,
  keysPerUser: 3,
};

const CATEGORIES = [
  'alerts',
  'billing',
  'branding',
  'compliance',
  'delivery',
  'display',
  'email',
  'fax',
  'features',
  'integrations',
  'limits',
  'logging',
  'notifications',
  'ocr',
  'printing',
  'retention',
  'routing',
  'security',
  'storage',
  'uploads',
];
const TYPES: ValueType[] = ['string', 'number', 'boolean', 'string'];

/** mulberry32: a small, fast, well-distributed 32-bit PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** Generates the network for scale N (N >= 1) with a fixed seed. */
export function generateNetwork(
  scale: number,
  seed = 20250121,
  shape: ScaleShape = SCALE_1,
): DemoDataset {
  if (!Number.isInteger(scale) || scale < 1)
    throw new RangeError('scale must be a whole number >= 1');
  const rand = prng(seed);
  const int = (n: number): number => Math.floor(rand() * n);

  const keys: Array<{ key: string; type: ValueType }> = [];
  for (let i = 0; i < shape.keys; i++) {
    const cat = CATEGORIES[i % CATEGORIES.length]!;
    keys.push({
      key: `${cat}.setting_${pad(Math.floor(i / CATEGORIES.length) + 1, 3)}`,
      type: TYPES[i % TYPES.length]!,
    });
  }
  const metadata: KeyMetadata[] = keys.map((k, i) => ({
    key: k.key,
    category: k.key.slice(0, k.key.indexOf('.')),
    displayName: `Setting ${k.key}`,
    description: null,
    inputType: k.type === 'boolean' ? 'checkbox' : k.type === 'number' ? 'number' : 'text',
    valueType: k.type,
    validationRules: {},
    defaultValue: null,
    isRequired: false,
    sortOrder: i,
    groupName: null,
    helpText: null,
  }));

  // Partial Fisher-Yates over one reusable index array: k distinct keys without allocation.
  const order = keys.map((_, i) => i);
  const pick = (k: number): number[] => {
    for (let i = 0; i < k; i++) {
      const j = i + int(order.length - i);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order.slice(0, k);
  };
  const valueFor = (type: ValueType): string =>
    type === 'number'
      ? String(int(1000))
      : type === 'boolean'
        ? rand() < 0.5
          ? 'false'
          : 'true'
        : `v${int(1_000_000)}`;

  const entries: DemoEntry[] = [];
  const set = (level: DemoEntry['level'], scope: string, idx: number[]): void => {
    for (const i of idx) {
      const k = keys[i]!;
      entries.push({
        level,
        scope,
        key: k.key,
        value: valueFor(k.type),
        valueType: k.type,
        locked: false,
        secret: false,
      });
    }
  };

  set(
    'global',
    '',
    keys.map((_, i) => i),
  );
  const tenants: Tenant[] = [];
  const departments: Department[] = [];
  const groups: Group[] = [];
  const users: DirectoryUser[] = [];
  let userNo = 0;
  let groupNo = 0;
  for (let t = 1; t <= shape.tenants * scale; t++) {
    const tenantId = `tenant_${pad(t, 3)}`;
    tenants.push({ id: tenantId, name: `Tenant ${t}`, tenantType: 'healthcare' });
    set('tenant', tenantId, pick(shape.keysPerTenant));
    for (let d = 1; d <= shape.departmentsPerTenant; d++) {
      const deptId = `dept_${pad(d, 2)}`;
      departments.push({ tenantId, id: deptId, name: `Department ${d}` });
      set('department', `${tenantId}/${deptId}`, pick(shape.keysPerDepartment));
      const deptGroups: string[] = [];
      for (let g = 0; g < shape.groupsPerDepartment; g++) {
        const id = `grp_${pad(++groupNo, 5)}`;
        deptGroups.push(id);
        groups.push({ id, tenantId, department: deptId, name: `Group ${groupNo}` });
        set('group', id, pick(shape.keysPerGroup));
      }
      for (let u = 0; u < shape.usersPerDepartment; u++) {
        const id = `u${pad(++userNo, 7)}`;
        const first = int(deptGroups.length);
        let second = int(deptGroups.length - 1);
        if (second >= first) second++;
        const memberOf =
          shape.groupsPerUser >= 2
            ? [deptGroups[first]!, deptGroups[second]!]
            : [deptGroups[first]!];
        const traits =
          userNo === 1
            ? ['admin_capable', 'config_write', 'super_admin']
            : u === 0 && d === 1
              ? ['admin_capable', 'config_write', 'tenant_admin']
              : u === 0
                ? ['admin_capable', 'config_write', 'dept_admin']
                : [];
        users.push({
          id,
          tenantId,
          department: deptId,
          groups: memberOf,
          traits,
          displayName: `User ${userNo}`,
          email: null,
          dbRole: null,
        });
        set('user', id, pick(shape.keysPerUser));
      }
    }
  }
  return { directory: { tenants, departments, groups, users }, metadata, entries };
}
