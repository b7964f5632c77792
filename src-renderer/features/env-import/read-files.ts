/**
 * Reading dropped or chosen files in the page. The core's reader runs here first, so a binary,
 * UTF-16, oversized or malformed file is refused on the spot with its line numbers and never
 * sent to main. What is sent is the text of a file the reader accepted (valid UTF-8, BOM kept),
 * which main parses again from the same bytes.
 */
import { DEFAULT_MAX_ENV_BYTES, parseEnv } from '../../../src-main/core/env/index.js';
import type { EnvDuplicate, EnvIssue } from '../../../src-main/core/env/index.js';

/** A file the admin dropped or chose, after the page read it. */
export interface DroppedFile {
  id: string;
  name: string;
  size: number;
  /** The text to send to main; null when the file was refused. */
  content: string | null;
  /** Why the file was refused (each names its line; 0 = the whole file). */
  errors: EnvIssue[];
  warnings: EnvIssue[];
  duplicates: EnvDuplicate[];
  /** Number of variables the reader found. */
  count: number;
  /** Set once the file was imported in this session. */
  staged: boolean;
}

let counter = 0;

function refused(file: File, message: string): DroppedFile {
  counter += 1;
  return {
    id: `f${counter}`,
    name: file.name || '(unnamed)',
    size: file.size,
    content: null,
    errors: [{ line: 0, message }],
    warnings: [],
    duplicates: [],
    count: 0,
    staged: false,
  };
}

/** Reads one file with the core's reader; never throws. */
export async function readEnvFile(file: File): Promise<DroppedFile> {
  if (file.size > DEFAULT_MAX_ENV_BYTES) {
    return refused(
      file,
      `The file is ${file.size} bytes; the limit for a .env file is ${DEFAULT_MAX_ENV_BYTES} bytes.`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch {
    // A dropped folder or a file that vanished after the drop cannot be read.
    return refused(file, 'The item cannot be read as a file (is it a folder?).');
  }
  const parsed = parseEnv(bytes);
  counter += 1;
  const base = {
    id: `f${counter}`,
    name: file.name || '(unnamed)',
    size: bytes.length,
    staged: false,
  };
  if (!parsed.ok) {
    return {
      ...base,
      content: null,
      errors: parsed.errors,
      warnings: [],
      duplicates: [],
      count: 0,
    };
  }
  return {
    ...base,
    // ignoreBOM keeps a leading BOM in the text, so main sees exactly these bytes.
    content: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes),
    errors: [],
    warnings: parsed.warnings,
    duplicates: parsed.duplicates,
    count: parsed.entries.length,
  };
}

/** Reads several files in order. */
export async function readEnvFiles(files: readonly File[]): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  for (const f of files) out.push(await readEnvFile(f));
  return out;
}
