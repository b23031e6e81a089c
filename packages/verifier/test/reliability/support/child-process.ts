import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Request/response over IPC with a TypeScript child (run through tsx, as the repo's other fixtures are).
 * The child announces itself with one `{ ready: true }` message once its modules have loaded.
 */
export interface Child<Request, Reply> {
  readonly pid: number;
  /** Sends one request and resolves the child's next reply (one request at a time). */
  request(message: Request): Promise<Reply>;
  /** Asks the child to exit, waits for it, and kills it if it does not go within `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export async function startChild<Request, Reply>(
  entry: URL,
  env: Record<string, string> = {},
): Promise<Child<Request, Reply>> {
  const child: ChildProcess = fork(fileURLToPath(entry), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let pending: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  child.on('message', (message) => {
    const waiting = pending;
    pending = undefined;
    const error = (message as { error?: string }).error;
    if (error !== undefined) waiting?.reject(new Error(`child ${child.pid}: ${error}`));
    else waiting?.resolve(message as Reply);
  });
  child.once('exit', (code, signal) => {
    pending?.reject(new Error(`child ${child.pid} exited (${code ?? signal}) before replying`));
    pending = undefined;
  });
  await new Promise<void>((resolve, reject) => {
    pending = { resolve: () => resolve(), reject };
    child.once('error', reject);
  });
  return {
    pid: child.pid!,
    request(message) {
      if (pending !== undefined) return Promise.reject(new Error('one request at a time'));
      return new Promise<Reply>((resolve, reject) => {
        pending = { resolve, reject };
        child.send(message as object);
      });
    },
    async close(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect(); // the child exits when its parent channel closes
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
