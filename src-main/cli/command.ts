/**
 * The shape of a CLI command and the helpers every command shares. Commands are entries in a
 * table (src-main/cli/commands/index.ts) loaded on demand, so a new command is one new file plus
 * one line in the table, and `strata --help` does not load database drivers.
 */
import type { ParseArgsConfig } from 'node:util';
import { StrataError } from '../core/types.js';
import type { ErrorCode } from '../core/types.js';

/** Option definitions in node:util parseArgs form. */
export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Flags every command accepts. */
export interface GlobalOptions {
  /** --db or STRATA_DB (null when neither is given). */
  db: string | null;
  /** --as or STRATA_OPERATOR. */
  as: string | null;
  json: boolean;
  reveal: boolean;
}

/** Where a command writes, and the environment it reads. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
}

/** Parsed arguments of one command (global flags removed). */
export interface CommandArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
}

/** A command's implementation, loaded when the command runs. */
export interface CommandImpl {
  /** Full help text shown by `strata <command> --help`. */
  usage: string;
  /** Options besides the global ones. */
  options?: OptionsConfig;
  /** Runs the command; returns the exit code (0 when omitted). */
  run(args: CommandArgs, globals: GlobalOptions, io: CliIO): Promise<number | void>;
}

/** One row of the command table. */
export interface CommandEntry {
  /** One or two words, e.g. 'resolve' or 'db migrate'. */
  name: string;
  summary: string;
  load(): Promise<CommandImpl>;
}

/** The flags shared by all commands. */
export const GLOBAL_OPTIONS: OptionsConfig = {
  db: { type: 'string' },
  as: { type: 'string' },
  json: { type: 'boolean' },
  reveal: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Exit codes: 0 ok, 2 bad input / usage / validation / permission, 3 conflict, 1 internal. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'conflict':
      return 3;
    case 'internal':
      return 1;
    default:
      return 2;
  }
}

/** A usage error (exit 2). */
export function usage(message: string): StrataError {
  return new StrataError('invalid', message);
}

/** The --db target, or a usage error naming how to give one. */
export function requireDb(globals: GlobalOptions): string {
  if (!globals.db)
    throw usage('No database given: pass --db <postgres URL or .sqlite path> or set STRATA_DB.');
  return globals.db;
}

/** A string option's value (undefined when absent). */
export function str(args: CommandArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string option's values. */
export function strs(args: CommandArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

/** Exactly `n` positionals named in `names`, or a usage error. */
export function positionals(args: CommandArgs, names: string[], command: string): string[] {
  if (args.positionals.length < names.length) {
    throw usage(
      `Missing ${names
        .slice(args.positionals.length)
        .map((n) => `<${n}>`)
        .join(' ')}; see \`strata ${command} --help\`.`,
    );
  }
  if (args.positionals.length > names.length) {
    const extra = args.positionals[names.length]!;
    const shown = extra.length > 40 ? `${extra.slice(0, 40)}…` : extra;
    throw usage(`Unexpected argument '${shown}'; see \`strata ${command} --help\`.`);
  }
  return args.positionals;
}

/** One JSON document on stdout. */
export function printJson(io: CliIO, doc: unknown): void {
  io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
}

/** Left-aligned columns separated by two spaces (the last column is not padded). */
export function columns(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
