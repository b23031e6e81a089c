import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@hyper/s2s-own-postgres';
import pg from 'pg';

export interface PgBouncer {
  /** `url` with host and port replaced by PgBouncer's. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A PgBouncer (the Debian binary) in front of the server of `url`, in transaction mode with
 * `poolSize` server connections per database: what a Core deployment behind a transaction pooler
 * looks like. Trust auth, like the test server. As root it runs as `postgres` (PgBouncer refuses root).
 */
export async function startPgBouncer(
  command: string,
  url: string,
  options: { poolSize: number },
): Promise<PgBouncer> {
  const target = new URL(url);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 's2s-pgbouncer-'));
  chmodSync(dir, 0o755); // readable by the postgres user it drops to
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(join(dir, 'users.txt'), `"${decodeURIComponent(target.username)}" ""\n`);
  writeFileSync(
    ini,
    [
      '[databases]',
      // The server's own credentials (the embedded one has a password); clients log in with trust.
      `* = host=${target.hostname} port=${target.port || 5432} user=${decodeURIComponent(target.username)}${
        target.password === '' ? '' : ` password=${decodeURIComponent(target.password)}`
      }`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize}`,
      'ignore_startup_parameters = extra_float_digits,options',
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(command, [...(asRoot ? ['-u', 'postgres'] : []), ini], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  const bouncerUrl = new URL(url);
  bouncerUrl.hostname = '127.0.0.1';
  bouncerUrl.port = String(port);
  bouncerUrl.password = '';
  // Ready once a query goes through it; bounded on the monotonic clock.
  const deadline = performance.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`pgbouncer exited (${child.exitCode}): ${log}`);
    }
    const client = new pg.Client({ connectionString: bouncerUrl.href, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return { url: bouncerUrl.href, stop };
    } catch {
      await client.end().catch(() => undefined);
      if (performance.now() > deadline) {
        await stop();
        throw new Error(`pgbouncer did not answer within 15 s: ${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
