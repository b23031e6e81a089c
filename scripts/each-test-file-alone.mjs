// Runs every vitest file of the workspace by itself, one vitest process per file, and fails if any
// file fails alone (a test that leans on state another file or an earlier test left behind).
// Too slow for every `pnpm test`; run it with `npx -y pnpm@10 test:alone` after moving tests around.
//   --slow       also run the *.slow.test.ts files
//   --filter=S   only files whose path contains S
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const withSlow = args.includes('--slow');
const filter = args.find((arg) => arg.startsWith('--filter='))?.slice('--filter='.length);

// The workspace's vitest projects (vitest.config.ts): each file runs from its own package directory.
const packages = ['contracts', 'ops', 'bench', ...dirs('packages'), ...dirs('examples'), ...dirs('tools')];

function dirs(parent) {
  return readdirSync(join(root, parent), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(parent, entry.name));
}

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const runs = packages.flatMap((pkg) => {
  const dir = join(root, pkg);
  let files;
  try {
    files = testFiles(join(dir, 'test'));
  } catch {
    return [];
  }
  return files
    .filter((file) => withSlow || !file.endsWith('.slow.test.ts'))
    .filter((file) => !filter || relative(root, file).includes(filter))
    .map((file) => ({ dir, file: relative(dir, file) }));
});

const failed = [];
const started = performance.now();
for (const [i, { dir, file }] of runs.entries()) {
  const t0 = performance.now();
  // The slow suites belong to their package's vitest.slow.config.ts project.
  const config = file.endsWith('.slow.test.ts') ? ['--config', 'vitest.slow.config.ts'] : [];
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  const result = spawnSync(process.execPath, [vitest, 'run', ...config, file], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const name = relative(root, join(dir, file));
  const ok = result.status === 0;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${String(i + 1).padStart(3)}/${runs.length} ${name} (${seconds} s)`);
  if (!ok) {
    failed.push(name);
    console.log(`${result.stdout}\n${result.stderr}`.split('\n').slice(-40).join('\n'));
  }
}
const total = ((performance.now() - started) / 1000).toFixed(0);
console.log(`\n${runs.length - failed.length}/${runs.length} files pass alone in ${total} s`);
if (failed.length > 0) {
  console.log(`failing alone:\n  ${failed.join('\n  ')}`);
  process.exit(1);
}
if (runs.length === 0) {
  console.log('no test files found');
  process.exit(1);
}
