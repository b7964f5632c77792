/**
 * Reading a .env file named on the command line. The checks that need the file system live
 * here (regular file, size before reading); everything about the content is parseEnv's job.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { DEFAULT_MAX_ENV_BYTES } from '../core/env/index.js';
import { StrataError } from '../core/types.js';
import type { EnvFile } from './env-types.js';

function refused(name: string, message: string): StrataError {
  return new StrataError('invalid', `${name} was refused: ${message}`, {
    errors: [{ line: 0, message }],
  });
}

/**
 * Reads a .env file: refuses (StrataError 'invalid', details.errors with line 0) anything that
 * is not a regular file or is larger than `maxBytes` (1 MiB by default) before reading it.
 * FIFOs and devices are opened non-blocking, so naming one cannot hang the command.
 */
export async function readEnvFile(
  path: string,
  maxBytes = DEFAULT_MAX_ENV_BYTES,
): Promise<EnvFile> {
  const name = basename(path) || path;
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'The file does not exist.'
        : code === 'EACCES' || code === 'EPERM'
          ? 'The file cannot be read (permission denied).'
          : code === 'EISDIR'
            ? 'The path is a folder, not a regular file.'
            : 'The file cannot be opened.';
    throw refused(name, why);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refused(name, 'The path is not a regular file.');
    if (info.size > maxBytes) {
      throw refused(
        name,
        `The file is ${info.size} bytes; the limit for a .env file is ${maxBytes} bytes.`,
      );
    }
    // Read one byte past the limit: a file that grew since stat() is still caught.
    const buf = new Uint8Array(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) {
        throw refused(name, `The file is larger than the limit of ${maxBytes} bytes.`);
      }
    }
    return { fileName: name, bytes: buf.slice(0, length) };
  } finally {
    await handle.close();
  }
}
