/**
 * `strata demo [--scale N]`: loads the seed's hospital network (or a generated network) into an
 * empty target. A .sqlite path is created as a fresh draft (data in its base, no source).
 */
import { loadDemo } from '../../demo/load-demo.js';
import { positionals, printJson, requireDb, str, usage } from '../command.js';
import type { CommandImpl } from '../command.js';

export const command: CommandImpl = {
  usage: `Usage: strata demo --db <target> [--scale N] [--json]

Loads the demo network into an EMPTY target (exit 3 if it already holds data):
  - without --scale: the seed's hospital network: Mercy Hospital (HIPAA, phaxio), General
    Hospital (HIPAA, SIP), Mercy's Marketing (non-HIPAA, email gateway on) and IT (admins)
    departments, groups with ordered membership, 20 users with traits, the seed's example
    values and metadata for every key it uses;
  - with --scale N: a deterministic generated network: N x (5 tenants, 20 departments,
    200 groups, 10,000 users) with 400 global keys and overrides at every level.
A PostgreSQL target must be migrated first (strata db migrate). A .sqlite path that does not
exist becomes a new draft workspace holding the data as its base. Secret values are encrypted
with CONFIG_ENCRYPTION_KEY; without it they are skipped (and counted).

  --json   {"target","kind","dataset","tenants","departments","groups","users","entries",
            "metadata","skipped_secrets"}

Example:
  strata demo --db ./demo.sqlite`,
  options: { scale: { type: 'string' } },
  async run(args, globals, io) {
    positionals(args, [], 'demo');
    const db = requireDb(globals);
    const scaleText = str(args, 'scale');
    let scale: number | null = null;
    if (scaleText !== undefined) {
      if (!/^\d+$/.test(scaleText) || Number(scaleText) < 1 || Number(scaleText) > 100) {
        throw usage(
          `--scale must be a whole number from 1 to 100, not '${scaleText.slice(0, 20)}'.`,
        );
      }
      scale = Number(scaleText);
    }
    const s = await loadDemo(db, { scale, operator: globals.as, env: io.env });
    if (s.skippedSecrets > 0)
      io.stderr(`Note: ${s.skippedSecrets} secret values were skipped: ${s.skippedWhy}.\n`);
    if (globals.json) {
      printJson(io, {
        target: s.target,
        kind: s.kind,
        dataset: s.dataset,
        tenants: s.tenants,
        departments: s.departments,
        groups: s.groups,
        users: s.users,
        entries: s.entries,
        metadata: s.metadata,
        skipped_secrets: s.skippedSecrets,
      });
      return;
    }
    const where = s.kind === 'draft' ? `draft ${s.target} (base, no source)` : s.target;
    io.stdout(
      `Loaded the ${s.dataset === 'hospital-network' ? 'hospital network' : `generated network (${s.dataset})`} into ${where}: ` +
        `${s.tenants} tenants, ${s.departments} departments, ${s.groups} groups, ${s.users} users, ` +
        `${s.entries} values, ${s.metadata} metadata keys.\n`,
    );
  },
};
