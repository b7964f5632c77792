/**
 * `strata diff <a> <b>`: compares two targets (databases, drafts, or a draft's base) key by key
 * at every level, and their directories.
 */
import { diffTargets } from '../../services/diff-service.js';
import { positionals, printJson, str, strs } from '../command.js';
import type { CommandImpl } from '../command.js';
import { shown } from '../context-flags.js';

export const command: CommandImpl = {
  usage: `Usage: strata diff <a> <b> [--tenant <id>]... [--prefix <key prefix>] [--json]

Compares two targets key by key at every level, and their directories. A target is a
PostgreSQL URL (e.g. staging and production), a draft file (its base plus staged changes), or
base:<draft file> (the draft's base alone: what it was pulled from). Each difference is
"added" (only in b), "removed" (only in a) or "changed". Secret values are compared by
fingerprint and masked.

  --tenant <id>          only this tenant's values and directory rows (repeatable)
  --prefix <prefix>      only keys starting with this prefix
  --json                 {"a":{"spec","kind","environment"},"b":{...},"items":[{"level","scope",
                         "key","status","a","b","secret"}],"directory":[{"kind","ref","status",
                         "a","b"}],"summary":{"added","removed","changed","directory"}}

Examples:
  strata diff postgres://admin@staging/strata postgres://admin@prod/strata --tenant mercy_hospital
  strata diff base:./tuesday.sqlite ./tuesday.sqlite`,
  options: { tenant: { type: 'string', multiple: true }, prefix: { type: 'string' } },
  async run(args, globals, io) {
    const [a, b] = positionals(args, ['a', 'b'], 'diff');
    const r = await diffTargets(a!, b!, {
      tenants: strs(args, 'tenant'),
      prefix: str(args, 'prefix') ?? null,
    });
    if (globals.json) {
      printJson(io, r);
      return;
    }
    const label = (s: typeof r.a): string =>
      `${s.spec}${s.environment ? ` (${s.environment})` : ''}`;
    io.stdout(`Diff: a = ${label(r.a)}\n      b = ${label(r.b)}\n`);
    for (const d of r.directory) io.stdout(`  ${d.status.padEnd(8)} ${d.kind} ${d.ref}\n`);
    for (const i of r.items) {
      const at = i.level === 'global' ? 'global' : `${i.level} ${i.scope}`;
      io.stdout(`  ${i.status.padEnd(8)} ${i.key} (${at}): ${shown(i.a)} -> ${shown(i.b)}\n`);
    }
    const s = r.summary;
    io.stdout(
      `Summary: ${s.added} added, ${s.removed} removed, ${s.changed} changed values; ${s.directory} directory row(s) differ.\n`,
    );
  },
};
