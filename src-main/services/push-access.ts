/**
 * Who pushes, and whether they may: the operator is looked up in the TARGET's directory (its
 * traits there are what count), and every item of a plan is checked against the access matrix
 * (access.ts) before anything is written. Directory rows follow the database's own policies
 * (0100_security_access.sql): tenants and users need super_admin; departments and groups need
 * super_admin or tenant_admin of their tenant. The database re-checks all of it for mapped roles.
 */
import type { DirectoryKind, DirectoryPlanItem, PlanItem } from '../core/plan.js';
import { StrataError } from '../core/types.js';
import type { Department, Directory, DirectoryUser, Group, Slot } from '../core/types.js';
import type { PostgresStore } from '../store/postgres-store.js';
import { TRAITS, checkWrite, operatorOf, type Operator } from './access.js';

/** The operator of a push and how they were found. */
export interface PushOperator extends Operator {
  source: 'directory' | 'draft-directory' | 'db-role' | 'superuser';
}

const SUPERUSER_TRAITS = [TRAITS.adminCapable, TRAITS.superAdmin, TRAITS.configWrite];

/**
 * Finds the operator: `--as` in the target's directory; for a push that creates the directory
 * (a fresh draft) over a superuser connection, in the draft's own directory; without `--as`, the
 * directory user mapped to the connection's role, else a superuser counts as super_admin.
 */
export async function pushOperator(
  live: PostgresStore,
  draftUser: (id: string) => DirectoryUser | null,
  requested: string | null,
): Promise<PushOperator> {
  const ident = await live.identity();
  if (requested !== null && requested !== '') {
    const [u] = await live.readUsers({ ids: [requested] });
    if (u) return { ...operatorOf(u), source: 'directory' };
    const d = draftUser(requested);
    if (d && ident.superuser) return { ...operatorOf(d), source: 'draft-directory' };
    throw new StrataError(
      'invalid',
      `Operator '${requested}' is not a user in the directory of ${live.target}; pass --as with a user of that database.`,
    );
  }
  const [mapped] = await live.readUsers({ dbRole: ident.role });
  if (mapped) return { ...operatorOf(mapped), source: 'db-role' };
  if (ident.superuser) {
    return {
      id: ident.role,
      traits: SUPERUSER_TRAITS,
      tenantId: null,
      department: null,
      source: 'superuser',
    };
  }
  throw new StrataError(
    'invalid',
    `Database role ${ident.role} is not mapped to a directory user, so it may not push; pass --as <user id>.`,
  );
}

function has(op: Operator, trait: string): boolean {
  return op.traits.includes(trait);
}

function directoryTenant(kind: DirectoryKind, row: DirectoryPlanItem['mine']): string | null {
  switch (kind) {
    case 'tenant':
      return row.id;
    case 'department':
      return (row as Department).tenantId;
    case 'group':
      return (row as Group).tenantId;
    case 'user':
      return (row as DirectoryUser).tenantId;
  }
}

/** Why the operator may not write one directory row, or null when they may. */
export function directoryRefusal(op: Operator, item: DirectoryPlanItem): string | null {
  if (!has(op, TRAITS.adminCapable) || !has(op, TRAITS.configWrite)) {
    return `${op.id} lacks the admin_capable and config_write traits required to change the directory.`;
  }
  if (has(op, TRAITS.superAdmin)) return null;
  if (item.kind === 'tenant')
    return `Creating or renaming tenant ${item.ref} requires super_admin.`;
  if (item.kind === 'user') return `Changing directory user ${item.ref} requires super_admin.`;
  const tenant = directoryTenant(item.kind, item.mine);
  if (tenant !== null && has(op, TRAITS.tenantAdmin) && op.tenantId === tenant) return null;
  return `Changing ${item.kind} ${item.ref} requires super_admin or tenant_admin of ${tenant ?? 'its tenant'}.`;
}

/** Every refusal of a plan's writes for this operator (empty: all allowed). */
export function pushRefusals(
  op: Operator,
  items: readonly PlanItem[],
  directory: readonly DirectoryPlanItem[],
  directoryAfter: Directory,
  metadataCount: number,
  applications: readonly Pick<Slot, 'level' | 'scope'>[],
): string[] {
  const out: string[] = [];
  const add = (why: string): void => {
    if (!out.includes(why)) out.push(why);
  };
  for (const d of directory) {
    if (d.write === null) continue;
    const why = directoryRefusal(op, d);
    if (why) add(why);
  }
  if (metadataCount > 0 && !has(op, TRAITS.superAdmin)) {
    add(`Creating key metadata (${metadataCount} keys) requires super_admin.`);
  }
  for (const i of items) {
    if (i.write === null) continue;
    const decision = checkWrite(op, i, directoryAfter);
    if (!decision.ok) add(decision.reason);
  }
  // A template application is recorded with the rights of a write at its level and scope.
  for (const a of applications) {
    const decision = checkWrite(op, a, directoryAfter);
    if (!decision.ok) add(decision.reason);
  }
  return out;
}

/** The error for refused items: exit 2 with the list. */
export function refusedError(refusals: readonly string[]): StrataError {
  const shown = refusals.slice(0, 3).map((r) => r.replace(/\.$/, ''));
  const more = refusals.length > 3 ? `; and ${refusals.length - 3} more` : '';
  return new StrataError(
    'forbidden',
    `Nothing was pushed: ${refusals.length} item${refusals.length === 1 ? ' was' : 's were'} refused: ${shown.join('; ')}${more}.`,
    { refused: [...refusals] },
  );
}
