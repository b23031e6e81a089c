import { startOwnPostgres } from '@hyper/s2s-own-postgres';

export interface BenchDatabase {
  url: string;
  label: string;
  stop(): Promise<void>;
}

/** DATABASE_URL when set (the machine's server), else a throwaway PostgreSQL (the tests' own starter). */
export async function benchDatabase(): Promise<BenchDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) return { url, label: 'PostgreSQL at DATABASE_URL', stop: async () => {} };
  const server = await startOwnPostgres();
  return {
    url: server.url,
    label: 'embedded PostgreSQL 18 (DATABASE_URL unset)',
    stop: () => server.destroy(),
  };
}
