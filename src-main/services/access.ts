/**
 * The access matrix: who may read and change configuration at which level and scope, as a pure
 * function of the operator's traits and the directory. PostgreSQL enforces the same matrix with
 * row-level security and a guard trigger (migrations/postgres/0100_security_access.sql); the
 * refusal reasons here are word for word the ones the database raises, and a test keeps them so.
 *
 * The seed's check let a user without tenant_admin through whenever their tenant id matched the
 * target tenant, let any tenant_admin change every tenant, and never checked department, group or
 * user targets at all; see docs/SECURITY.md.
 */
import { StrataError } from '../core/types.js';
import type { Directory, DirectoryUser, Group, Level, Slot } from '../core/types.js';

/** The traits the matrix reads. */
export const TRAITS = Object.freeze({
  adminCapable: 'admin_capable',
  configWrite: 'config_write',
  superAdmin: 'super_admin',
  tenantAdmin: 'tenant_admin',
  deptAdmin: 'dept_admin',
} as const);

/** Who is acting: a directory user's id, traits and home tenant/department. */
export interface Operator {
  id: string;
  traits: readonly string[];
  tenantId: string | null;
  department: string | null;
}

/** The outcome of an access check; `reason` is one sentence safe to show the operator. */
export type AccessDecision = { ok: true } | { ok: false; reason: string };

/** Where a check points: a level and a scope (the key does not matter to the matrix). */
export type AccessTarget = Pick<Slot, 'level' | 'scope'>;

/** The parts of the directory the matrix reads. */
export type AccessDirectory = Pick<Directory, 'groups' | 'users'>;

interface Indexed {
  groups: Map<string, Group>;
  users: Map<string, DirectoryUser>;
}

const ALLOW: AccessDecision = Object.freeze({ ok: true });
const LEVEL_SET: ReadonlySet<string> = new Set(['global', 'tenant', 'department', 'group', 'user']);
// A push checks thousands of items against one directory: index it once per directory object.
const indexCache = new WeakMap<AccessDirectory, Indexed>();

function indexOf(dir: AccessDirectory): Indexed {
  let ix = indexCache.get(dir);
  if (!ix) {
    ix = {
      groups: new Map(dir.groups.map((g) => [g.id, g])),
      users: new Map(dir.users.map((u) => [u.id, u])),
    };
    indexCache.set(dir, ix);
  }
  return ix;
}

function deny(reason: string): AccessDecision {
  return { ok: false, reason };
}

function has(op: Operator, trait: string): boolean {
  return op.traits.includes(trait);
}

/** Splits a department scope `tenant/department` (department ids never contain '/'). */
export function parseDepartmentScope(
  scope: string,
): { tenantId: string; department: string } | null {
  const cut = scope.lastIndexOf('/');
  if (cut <= 0 || cut === scope.length - 1) return null;
  return { tenantId: scope.slice(0, cut), department: scope.slice(cut + 1) };
}

function scopeProblem(target: AccessTarget): string | null {
  const { level, scope } = target;
  if (!LEVEL_SET.has(level)) return `Unknown configuration level ${String(level)}.`;
  const valid =
    level === 'global'
      ? scope === ''
      : level === 'department'
        ? parseDepartmentScope(scope) !== null
        : scope !== '';
  return valid ? null : `"${scope}" is not a valid ${level} scope.`;
}

function isTenantAdminOf(op: Operator, tenantId: string | null): boolean {
  return tenantId !== null && has(op, TRAITS.tenantAdmin) && op.tenantId === tenantId;
}

function isDeptAdminOf(op: Operator, tenantId: string | null, department: string | null): boolean {
  return (
    tenantId !== null &&
    department !== null &&
    has(op, TRAITS.deptAdmin) &&
    op.tenantId === tenantId &&
    op.department === department
  );
}

/** "super_admin or tenant_admin of T" / "super_admin, tenant_admin of T or dept_admin of T/D". */
function whoMay(tenantId: string, department: string | null): string {
  return department === null
    ? `super_admin or tenant_admin of ${tenantId}`
    : `super_admin, tenant_admin of ${tenantId} or dept_admin of ${tenantId}/${department}`;
}

/** The tenant and department a target belongs to (null tenant: not in the directory). */
function ownerOf(
  target: AccessTarget,
  ix: Indexed,
): { tenantId: string | null; department: string | null } {
  switch (target.level as Level) {
    case 'global':
      return { tenantId: null, department: null };
    case 'tenant':
      return { tenantId: target.scope, department: null };
    case 'department': {
      const d = parseDepartmentScope(target.scope);
      return { tenantId: d?.tenantId ?? null, department: d?.department ?? null };
    }
    case 'group': {
      const g = ix.groups.get(target.scope);
      return {
        tenantId: g?.tenantId ?? null,
        department: g && g.tenantId !== null ? g.department : null,
      };
    }
    case 'user': {
      const u = ix.users.get(target.scope);
      return {
        tenantId: u?.tenantId ?? null,
        department: u && u.tenantId !== null ? u.department : null,
      };
    }
  }
}

/**
 * May `operator` change configuration at `target`? admin_capable and config_write are needed for
 * any write; global needs super_admin; a tenant needs tenant_admin of it; a department needs
 * tenant_admin of its tenant or dept_admin of it; a group or user needs tenant_admin of its
 * tenant or dept_admin of its department. super_admin may write everywhere. Groups and users
 * missing from the directory (or without a tenant) can be configured by a super_admin only.
 */
export function checkWrite(
  operator: Operator,
  target: AccessTarget,
  dir: AccessDirectory,
): AccessDecision {
  if (!has(operator, TRAITS.adminCapable)) {
    return deny(
      `${operator.id} lacks the admin_capable trait required for any configuration access.`,
    );
  }
  if (!has(operator, TRAITS.configWrite)) {
    return deny(`${operator.id} lacks the config_write trait required to change configuration.`);
  }
  const bad = scopeProblem(target);
  if (bad) return deny(bad);
  if (has(operator, TRAITS.superAdmin)) return ALLOW;

  const { level, scope } = target;
  if (level === 'global') return deny('Changing global configuration requires super_admin.');
  const owner = ownerOf(target, indexOf(dir));
  if (level === 'tenant') {
    return isTenantAdminOf(operator, scope)
      ? ALLOW
      : deny(`Changing tenant ${scope} requires ${whoMay(scope, null)}.`);
  }
  if (owner.tenantId === null) {
    const what = level === 'group' ? 'Group' : 'User';
    return deny(
      `${what} ${scope} is not in the directory or belongs to no tenant; only a super_admin may configure it.`,
    );
  }
  if (
    isTenantAdminOf(operator, owner.tenantId) ||
    isDeptAdminOf(operator, owner.tenantId, owner.department)
  ) {
    return ALLOW;
  }
  return deny(`Changing ${level} ${scope} requires ${whoMay(owner.tenantId, owner.department)}.`);
}

/**
 * The widest place `operator` may change configuration: everywhere (super_admin, shown as the
 * global level), their tenant (tenant_admin), their department (dept_admin), or nowhere (null).
 * Every target it returns passes checkWrite, and an operator it returns null for passes
 * checkWrite nowhere; a test keeps the two in step.
 */
export function writeReach(
  operator: Operator,
): { level: 'global' | 'tenant' | 'department'; scope: string } | null {
  if (!has(operator, TRAITS.adminCapable) || !has(operator, TRAITS.configWrite)) return null;
  if (has(operator, TRAITS.superAdmin)) return { level: 'global', scope: '' };
  const { tenantId, department } = operator;
  if (tenantId === null) return null;
  if (has(operator, TRAITS.tenantAdmin)) return { level: 'tenant', scope: tenantId };
  if (department !== null && has(operator, TRAITS.deptAdmin)) {
    return { level: 'department', scope: `${tenantId}/${department}` };
  }
  return null;
}

/**
 * May `operator` read configuration at `target`? admin_capable is needed for any access; a
 * super_admin reads everything; everyone else reads global configuration and what belongs to
 * their own tenant (its departments, groups and users). Tenants stay isolated from each other.
 */
export function checkRead(
  operator: Operator,
  target: AccessTarget,
  dir: AccessDirectory,
): AccessDecision {
  if (!has(operator, TRAITS.adminCapable)) {
    return deny(
      `${operator.id} lacks the admin_capable trait required for any configuration access.`,
    );
  }
  const bad = scopeProblem(target);
  if (bad) return deny(bad);
  if (has(operator, TRAITS.superAdmin) || target.level === 'global') return ALLOW;
  const owner = ownerOf(target, indexOf(dir));
  if (owner.tenantId !== null && owner.tenantId === operator.tenantId) return ALLOW;
  return deny(
    operator.tenantId === null
      ? `${operator.id} may read only global configuration.`
      : `${operator.id} may read only global configuration and configuration of tenant ${operator.tenantId}.`,
  );
}

/** Throws StrataError('forbidden', reason) unless checkWrite allows the target. */
export function assertCanWrite(
  operator: Operator,
  target: AccessTarget,
  dir: AccessDirectory,
): void {
  const d = checkWrite(operator, target, dir);
  if (!d.ok) throw new StrataError('forbidden', d.reason);
}

/** The operator view of a directory user (DirectoryUser already has every field needed). */
export function operatorOf(
  user: Pick<DirectoryUser, 'id' | 'traits' | 'tenantId' | 'department'>,
): Operator {
  return { id: user.id, traits: user.traits, tenantId: user.tenantId, department: user.department };
}

/**
 * Translates an error raised by the security migrations into a StrataError (null for anything
 * else): refusals by the guard trigger, row-level security or the append-only audit become
 * 'forbidden'; value validation and a missing production push reason become 'invalid'. Their
 * messages are written to be shown as they are and never contain a value.
 */
export function securityErrorFromPg(err: unknown): StrataError | null {
  if (typeof err !== 'object' || err === null) return null;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || typeof message !== 'string') return null;
  if (code === '42501') {
    if (message.startsWith('new row violates row-level security policy')) {
      return new StrataError(
        'forbidden',
        'The database refused the change: row-level security policy.',
      );
    }
    return new StrataError('forbidden', message);
  }
  if (code === '23514' && message.startsWith('Key ')) return new StrataError('invalid', message);
  if (code === '22023' && message.startsWith('A reason is required')) {
    return new StrataError('invalid', message);
  }
  return null;
}
