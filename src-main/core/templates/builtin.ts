/**
 * The built-in templates shipped in the repository's templates/ folder. The files are read by
 * the node-side loader (src-main/services/template-files.ts); the core only knows their names.
 */

/** File names of the built-in templates, relative to templates/. Each file's `name` is its stem. */
export const BUILTIN_TEMPLATE_FILES = [
  'healthcare.json',
  'business.json',
  'default.json',
  'gmail-smtp.json',
  'sendgrid-smtp.json',
  'mailtrap-smtp.json',
] as const;

/** Names of the built-in templates (the file names without `.json`). */
export const BUILTIN_TEMPLATE_NAMES = BUILTIN_TEMPLATE_FILES.map((f) =>
  f.slice(0, -'.json'.length),
);
