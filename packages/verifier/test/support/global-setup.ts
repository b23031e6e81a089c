import { startOwnPostgres } from '@hyper/s2s-own-postgres';
import type { TestProject } from 'vitest/node';

/**
 * With DATABASE_URL set (this machine, CI) tests use that server. Without it, one embedded PostgreSQL
 * is started here for the whole run and stopped afterwards.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const fromEnvironment = process.env.DATABASE_URL;
  if (fromEnvironment) {
    project.provide('databaseUrl', fromEnvironment);
    console.info(`[${project.name}] PostgreSQL: DATABASE_URL (${where(fromEnvironment)})`);
    return undefined;
  }
  const server = await startOwnPostgres();
  project.provide('databaseUrl', server.url);
  console.info(
    `[${project.name}] PostgreSQL: DATABASE_URL unset, started an embedded server (${where(server.url)})`,
  );
  return () => server.destroy();
}

/** host:port/database of a connection URL: never its user or password. */
function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return 'unparseable URL';
  }
}
