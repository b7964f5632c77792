/**
 * Reads the built-in templates (templates/*.json at the package root) and template files named by
 * a user, and parses them with the core's template schema.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_TEMPLATE_FILES, parseTemplate } from '../core/templates/index.js';
import type { TemplateDefinition } from '../core/templates/index.js';
import { StrataError } from '../core/types.js';

// Walks up from this module to the folder holding package.json, so the same code finds
// templates/ whether it runs from src-main (tsx, tests) or from dist/src-main (a build).
function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return dir;
    const up = dirname(dir);
    if (up === dir) {
      throw new StrataError('internal', 'Cannot find the templates folder of the Strata package.');
    }
    dir = up;
  }
}

/** The folder holding the built-in template files. */
export function builtinTemplatesDir(): string {
  return join(findPackageRoot(dirname(fileURLToPath(import.meta.url))), 'templates');
}

// One parse path for every file, so a bad file is reported with its name whichever loader read it.
function parseTemplateText(text: string, file: string): TemplateDefinition {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new StrataError(
      'invalid',
      `Template file ${basename(file)} is not valid JSON: ${(e as Error).message}.`,
    );
  }
  try {
    return parseTemplate(json);
  } catch (e) {
    if (e instanceof StrataError) {
      throw new StrataError('invalid', `${basename(file)}: ${e.message}`, e.details);
    }
    throw e;
  }
}

/** Reads and parses one template file. Throws StrataError('invalid') naming the file. */
export async function loadTemplateFile(file: string): Promise<TemplateDefinition> {
  let text: string;
  try {
    text = await readFile(resolve(file), 'utf8');
  } catch {
    throw new StrataError('not_found', `Cannot read template file ${file}.`);
  }
  return parseTemplateText(text, file);
}

// A built-in is found by name, so its file must be named after it.
function checkStem(def: TemplateDefinition, file: string): TemplateDefinition {
  if (`${def.name}.json` !== basename(file)) {
    throw new StrataError('invalid', `Template file ${basename(file)} names "${def.name}".`);
  }
  return def;
}

/** Reads and parses every built-in template, in BUILTIN_TEMPLATE_FILES order. */
export async function loadBuiltinTemplates(
  dir: string = builtinTemplatesDir(),
): Promise<TemplateDefinition[]> {
  return Promise.all(
    BUILTIN_TEMPLATE_FILES.map(async (f) =>
      checkStem(await loadTemplateFile(join(dir, f)), join(dir, f)),
    ),
  );
}

/** Synchronous loadBuiltinTemplates, for start-up code that cannot await. */
export function loadBuiltinTemplatesSync(
  dir: string = builtinTemplatesDir(),
): TemplateDefinition[] {
  return BUILTIN_TEMPLATE_FILES.map((f) => {
    const file = join(dir, f);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new StrataError('not_found', `Cannot read template file ${file}.`);
    }
    return checkStem(parseTemplateText(text, file), file);
  });
}
