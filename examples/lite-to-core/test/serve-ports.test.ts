import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../src/main.ts');
// tsx is a root devDependency (what `pnpm demo` runs the example with).
const TSX = resolve(import.meta.dirname, '../../../node_modules/.bin/tsx');

describe('demo --serve with a port already taken', () => {
  let holder: Server;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((done) => holder.listen(8081, '127.0.0.1', done));
  });
  afterAll(() => new Promise<void>((done) => holder.close(() => done())));

  it('says which port is in use and exits 2 before running part 1 (no stack trace)', async () => {
    const child = spawn(TSX, [MAIN, '--serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^demo --serve: port 80(80|81) \((core|lite)\) on 127\.0\.0\.1 is in use/);
    expect(stderr).not.toMatch(/EADDRINUSE|\n\s+at /);
    // Part 1 never started.
    expect(stdout).toBe('');
  }, 60_000);
});
