import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOwnPostgres } from '../src/own-postgres.js';

describe('startOwnPostgres when the server cannot start', () => {
  let parent: string;
  beforeEach(async () => {
    parent = await mkdtemp(join(tmpdir(), 's2s-pg-test-'));
    await chmod(parent, 0o755); // as root the server's user must traverse it
  });
  afterEach(() => rm(parent, { recursive: true, force: true }));

  it("rejects with PostgreSQL's own reason and leaves no directory behind", async () => {
    const failure = await startOwnPostgres({ settings: { no_such_setting: 'on' }, parent }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    // The log tail, not a bare "exited": the cause is in the message itself, not retried on other ports.
    expect((failure as Error).message).toMatch(/did not start on port \d+: exited .*"no_such_setting"/);
    expect(await readdir(parent)).toEqual([]);
  }, 60_000);
});
