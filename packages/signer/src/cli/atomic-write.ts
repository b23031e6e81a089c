import { randomBytes } from 'node:crypto';
import { linkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError } from './io.js';

export interface AtomicWriteOptions {
  /** File mode of the new file, from its creation (the temp file never has wider permissions). */
  mode?: number;
  /** Refuse to replace an existing file (checked atomically: the final step is link(2), not rename). */
  noClobber?: boolean;
}

/**
 * Writes a file all at once: the text goes to a temp file beside it, which then replaces (rename) or
 * creates (link) the target. A failure at any point leaves the target as it was: never an empty or
 * half-written file, which `cmd > file` would leave behind.
 */
export function writeFileAtomic(path: string, text: string, options: AtomicWriteOptions = {}): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, text, { mode: options.mode ?? 0o644, flag: 'wx' });
    if (options.noClobber) {
      linkSync(temp, path);
      rmSync(temp, { force: true });
    } else {
      renameSync(temp, path);
    }
  } catch (error) {
    rmSync(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && options.noClobber)
      throw new CliError(`${path} exists; pass --force to replace it`);
    throw new CliError(`cannot write ${path}: ${code ?? (error as Error).message}`);
  }
}
