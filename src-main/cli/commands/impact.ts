/**
 * `strata impact <draft.sqlite>`: who a draft's staged changes affect, per changed slot and key,
 * computed from the in-memory index (a global key over 100,000 users resolves each distinct
 * context once), with the guardrails the change set trips.
 */
import type { LintFinding } from '../../core/lint.js';
import { impactOfDraftFile } from '../../services/impact-service.js';
import type { ImpactPreview } from '../../services/impact-service.js';
import { columns, positionals, printJson, str, usage } from '../command.js';
import type { CommandImpl, CliIO } from '../command.js';

/** The JSON document `strata impact --json` prints. */
export function impactJson(p: ImpactPreview, withUsers: boolean): Record<string, unknown> {
  return {
    keys: p.keys.flatMap((k) =>
      k.slots.map((s) => ({
        key: s.key,
        level: s.level,
        scope: s.scope,
        action: s.action,
        locked: s.locked,
        users_affected: s.usersAffected,
        tenants: s.tenants,
        ...(withUsers ? { users: s.userIds ?? [] } : {}),
      })),
    ),
    by_key: p.keys.map((k) => ({
      key: k.key,
      users_affected: k.usersAffected,
      tenants: k.tenants,
      departments: k.departments,
      groups: k.groups,
      ...(withUsers ? { users: k.userIds ?? [] } : {}),
    })),
    users_affected: p.usersAffected,
    total_users: p.totalUsers,
    changes: p.changes,
    ...(p.user !== null ? { user: p.user } : {}),
    guardrails: {
      errors: p.guardrails.counts.error,
      warnings: p.guardrails.counts.warning,
      findings: p.guardrails.findings.map(findingJson),
    },
  };
}

/** A lint finding in the CLI's snake_case JSON. */
export function findingJson(f: LintFinding): Record<string, unknown> {
  return {
    rule: f.rule,
    severity: f.severity,
    key: f.key,
    level: f.level,
    scope: f.scope,
    message: f.message,
    ...(f.policyId !== undefined ? { policy_id: f.policyId } : {}),
    ...(f.usersAffected !== undefined ? { users_affected: f.usersAffected } : {}),
    ...(f.sampleUsers !== undefined ? { sample_users: f.sampleUsers } : {}),
    ...(f.tenants !== undefined ? { tenants: f.tenants } : {}),
    ...(f.sources !== undefined ? { sources: f.sources } : {}),
    ...(f.shadowedBy !== undefined ? { shadowed_by: f.shadowedBy } : {}),
  };
}

/** Human-readable findings, one per line with its severity. */
export function printFindings(io: CliIO, findings: readonly LintFinding[]): void {
  for (const f of findings)
    io.stdout(`${f.severity.padEnd(7)} ${f.rule.padEnd(18)} ${f.message}\n`);
}

function where(level: string, scope: string): string {
  return level === 'global' ? 'global' : `${level} ${scope}`;
}

export const command: CommandImpl = {
  usage: `Usage: strata impact <draft.sqlite> [--users] [--user <id> [--key <key>]] [--json]

Shows whose effective values a draft's staged changes would change: for every changed slot the
users it affects and their tenants, per key the affected tenants, departments and groups, and
the guardrails the change set trips (locks, policy rules, invalid values). Computed from the
draft alone, so it works offline; nothing is changed.

  --users        list the affected user ids per changed slot and key
  --user <id>    drill down: that user's value before -> after with where it comes from
  --key <key>    with --user: only this key
  --json         {"keys":[{"key","level","scope","action","locked","users_affected","tenants":[...]
                  (,"users":[...])}...], "by_key":[...], "users_affected": N, "total_users": N,
                  "changes": N, "guardrails":{"errors","warnings","findings":[...]}}

Example:
  strata impact ./mercy-draft.sqlite --users --json`,
  options: { users: { type: 'boolean' }, user: { type: 'string' }, key: { type: 'string' } },
  async run(args, globals, io) {
    const [path] = positionals(args, ['draft.sqlite'], 'impact');
    const withUsers = args.values.users === true;
    const userId = str(args, 'user');
    const key = str(args, 'key');
    if (key !== undefined && userId === undefined) throw usage('--key needs --user.');
    const p = await impactOfDraftFile(path!, {
      includeUsers: withUsers,
      ...(userId !== undefined ? { userId } : {}),
      ...(key !== undefined ? { key } : {}),
    });
    if (globals.json) {
      printJson(io, impactJson(p, withUsers));
      return;
    }
    if (p.changes === 0) {
      io.stdout('The draft has no staged changes.\n');
      return;
    }
    const rows = [['key', 'where', 'change', 'users', 'tenants']];
    for (const k of p.keys) {
      for (const s of k.slots) {
        rows.push([
          s.key,
          where(s.level, s.scope),
          s.action + (s.locked ? ' (locked)' : ''),
          String(s.usersAffected),
          s.tenants.join(', ') || '-',
        ]);
      }
    }
    io.stdout(`${columns(rows)}\n\n`);
    io.stdout(
      `${p.usersAffected} of ${p.totalUsers} users see a different value (${p.changes} staged change${p.changes === 1 ? '' : 's'}).\n`,
    );
    if (withUsers) {
      for (const k of p.keys) {
        io.stdout(`${k.key}: ${(k.userIds ?? []).join(', ') || '(nobody)'}\n`);
      }
    }
    if (p.user !== null) {
      io.stdout(`\n${p.user.userId}:\n`);
      const u = [['key', 'before', 'from', 'after', 'from']];
      for (const i of p.user.items) {
        u.push([
          i.key + (i.changed ? '' : ' (unchanged)'),
          i.before.value ?? '-',
          where(i.before.level, i.before.scope),
          i.after.value ?? '-',
          where(i.after.level, i.after.scope),
        ]);
      }
      io.stdout(`${columns(u)}\n`);
    }
    if (p.guardrails.findings.length > 0) {
      io.stdout('\nGuardrails:\n');
      printFindings(io, p.guardrails.findings);
    }
  },
};
