/**
 * `strata` command line: finds the command in the table, parses its flags with
 * node:util parseArgs (global flags: --db / STRATA_DB, --as / STRATA_OPERATOR, --json, --reveal,
 * --help), runs it and maps failures to exit codes: 0 ok, 2 bad input / usage / validation /
 * permission, 3 conflict, 1 unexpected internal error. Errors are one sentence on stderr, never
 * a stack trace (STRATA_DEBUG=1 adds the stack for developers).
 */
import { parseArgs } from 'node:util';
import { StrataError } from '../core/types.js';
import { COMMANDS } from './commands/index.js';
import { GLOBAL_OPTIONS, exitCodeFor } from './command.js';
import type { CliIO, CommandArgs, CommandEntry, GlobalOptions, OptionsConfig } from './command.js';

const NAME_WIDTH = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;

const GLOBAL_HELP = `Usage: strata <command> [options]

Strata: hierarchical configuration for hospital networks
(global > tenant > department > group > user; the most specific level wins).

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(NAME_WIDTH)}${c.summary}`).join('\n')}

Global options:
  --db <target>    postgres://user@host/db URL or path to a .sqlite draft (env STRATA_DB)
  --as <user id>   act as this directory user (env STRATA_OPERATOR). Without it, on
                   PostgreSQL: the directory user whose db_role is the connection's role,
                   else the role itself with no traits (a superuser role counts as
                   super_admin + config_write); on a draft: writes need --as
  --json           print exactly one JSON document on stdout
  --reveal         show secret values in plaintext (otherwise masked)
  -h, --help       help for a command: strata <command> --help

Exit codes: 0 ok, 2 bad input/usage/validation/permission, 3 conflict, 1 internal error.
`;

const VALUE_FLAGS = new Set(['--db', '--as']);

/** Splits argv into the command entry and the remaining arguments. */
function findCommand(argv: readonly string[]): {
  entry: CommandEntry | null;
  rest: string[];
  word: string | null;
} {
  const before: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') {
    before.push(argv[i]!);
    if (VALUE_FLAGS.has(argv[i]!) && i + 1 < argv.length) before.push(argv[++i]!);
    i++;
  }
  const first = argv[i];
  if (first === undefined) return { entry: null, rest: before, word: null };
  const two = `${first} ${argv[i + 1] ?? ''}`;
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo) return { entry: byTwo, rest: [...before, ...argv.slice(i + 2)], word: two };
  const byOne = COMMANDS.find((c) => c.name === first);
  return { entry: byOne ?? null, rest: [...before, ...argv.slice(i + 1)], word: first };
}

/** One sentence for parseArgs' own errors (its messages carry multi-sentence advice). */
function parseArgsMessage(err: unknown, command: string): string {
  const e = err as { code?: string; message?: string };
  const opt = /'([^']+)'/.exec(e.message ?? '')?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `Unknown option '${opt ?? '?'}' for \`strata ${command}\` (a value starting with '-' goes after '--'); see \`strata ${command} --help\`.`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `Option '${(opt ?? '?').split(' ')[0]}' needs a value; see \`strata ${command} --help\`.`;
    default:
      return `${(e.message ?? 'Invalid arguments').split('\n')[0]!.replace(/\.$/, '')}; see \`strata ${command} --help\`.`;
  }
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const { entry, rest, word } = findCommand(argv);
  if (!entry) {
    if (word === null || word === 'help') {
      io.stdout(GLOBAL_HELP);
      return word === 'help' || rest.includes('--help') || rest.includes('-h') ? 0 : 2;
    }
    io.stderr(
      `Unknown command '${word.split(' ')[0]}'; run \`strata --help\` for the list of commands.\n`,
    );
    return 2;
  }
  try {
    const impl = await entry.load();
    const options: OptionsConfig = { ...GLOBAL_OPTIONS, ...(impl.options ?? {}) };
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: [...rest], options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new StrataError('invalid', parseArgsMessage(err, entry.name));
    }
    const values = parsed.values as CommandArgs['values'];
    if (values.help) {
      io.stdout(impl.usage.endsWith('\n') ? impl.usage : `${impl.usage}\n`);
      return 0;
    }
    const globals: GlobalOptions = {
      db: (values.db as string | undefined) ?? (io.env.STRATA_DB || null),
      as: (values.as as string | undefined) ?? (io.env.STRATA_OPERATOR || null),
      json: values.json === true,
      reveal: values.reveal === true,
    };
    for (const k of Object.keys(GLOBAL_OPTIONS)) delete values[k];
    const code = await impl.run({ positionals: parsed.positionals, values }, globals, io);
    return code ?? 0;
  } catch (err) {
    return reportError(err, io);
  }
}

/** Prints one sentence for an error and returns its exit code. */
export function reportError(err: unknown, io: CliIO): number {
  if (err instanceof StrataError) {
    io.stderr(`${oneLine(err.message)}\n`);
    if (io.env.STRATA_DEBUG && err.stack) io.stderr(`${err.stack}\n`);
    return exitCodeFor(err.code);
  }
  const e = err as Error;
  io.stderr(`Unexpected internal error: ${oneLine(e?.message ?? String(err))}\n`);
  if (io.env.STRATA_DEBUG && e?.stack) io.stderr(`${e.stack}\n`);
  return 1;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Process entry: runs main with process argv/streams and sets the exit code. */
export async function runCli(): Promise<void> {
  const io: CliIO = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
  };
  process.exitCode = await main(process.argv.slice(2), io);
}
