import { type ChildProcess, spawn } from 'node:child_process';
import type { PostgresAccount } from './postgres-account.js';
import type { PostgresBinaries } from './postgres-binaries.js';

/** What PostgreSQL logs once it accepts connections (LC_MESSAGES=C). */
const READY = 'database system is ready to accept connections';
/** Generous: the machine is shared; a server that is not up by then is not coming up. */
const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 30_000;
/** Enough of the log to name why a start failed. */
const LOG_TAIL_LINES = 8;

export interface PostgresCommand {
  readonly binaries: PostgresBinaries;
  /** Set when running as root: the processes run as this user. */
  readonly account: PostgresAccount | undefined;
}

/** Runs initdb; rejects with its output when it fails. */
export async function initialiseCluster(
  command: PostgresCommand,
  dataDir: string,
  passwordFile: string,
): Promise<void> {
  const args = [
    `--pgdata=${dataDir}`,
    '--auth=scram-sha-256',
    '--username=postgres',
    `--pwfile=${passwordFile}`,
    // Independent of the caller's locale; UTF8 as on the shared server.
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync', // test data, never kept
  ];
  const child = spawnAs(command, command.binaries.initdb, args);
  const output = collect(child);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).catch((error: unknown) => {
    throw new Error(`initdb could not be started: ${describe(error)}`, { cause: error });
  });
  if (code !== 0) throw new Error(`initdb failed (exit ${code}): ${output.tail()}`);
}

/** A running postmaster. */
export interface PostgresProcess {
  /** Fast shutdown (SIGINT); resolves once the postmaster has exited. */
  stop(): Promise<void>;
}

/** Starts the postmaster; resolves once it accepts connections, rejects with the log tail otherwise. */
export async function startServer(
  command: PostgresCommand,
  dataDir: string,
  port: number,
  flags: readonly string[],
): Promise<PostgresProcess> {
  const child = spawnAs(command, command.binaries.postgres, ['-D', dataDir, '-p', String(port), ...flags]);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  running.add(child);
  void exited.then(() => running.delete(child));
  const output = collect(child);
  try {
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(deadline); // settled either way: the timer must not keep this process alive
        if (error) reject(error);
        else resolve();
      };
      const deadline = setTimeout(
        () => finish(new Error(`not ready within ${START_DEADLINE_MS} ms`)),
        START_DEADLINE_MS,
      );
      output.onText((text) => {
        if (text.includes(READY)) finish();
      });
      child.once('error', finish);
      child.once('close', (code, signal) => finish(new Error(`exited (${signal ?? `code ${code}`})`)));
    });
  } catch (error) {
    await stop(child, exited);
    throw new Error(`PostgreSQL did not start on port ${port}: ${describe(error)}; log: ${output.tail()}`, {
      cause: error,
    });
  }
  return { stop: () => stop(child, exited) };
}

/** Postmasters still running; stopped when this process exits so that none is left behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGINT');
});

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.pid === undefined) return; // never spawned
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), STOP_DEADLINE_MS);
  });
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    child.kill('SIGKILL'); // immediate: test data only
    await exited;
  }
}

function spawnAs(command: PostgresCommand, file: string, args: string[]): ChildProcess {
  return spawn(file, args, {
    env: command.binaries.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(command.account ? { uid: command.account.uid, gid: command.account.gid } : {}),
  });
}

/** Keeps the last lines of stdout and stderr and hands the accumulated text to listeners. */
function collect(child: ChildProcess): { tail(): string; onText(listener: (text: string) => void): void } {
  let text = '';
  const listeners: ((text: string) => void)[] = [];
  const append = (chunk: Buffer) => {
    // Bounded: only the tail is ever reported; a split READY line still matches across two chunks.
    text = (text + chunk.toString('utf8')).slice(-8_192);
    for (const listener of listeners) listener(text);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return {
    tail: () => text.trim().split('\n').slice(-LOG_TAIL_LINES).join(' | ') || '(no output)',
    onText: (listener) => listeners.push(listener),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
