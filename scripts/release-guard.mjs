// Refuses to publish a package to the public npm registry. These packages live in the organisation's
// registry only: published publicly, anyone could read them, and a public `@hyper` scope held by someone
// else would make `npm install @hyper/...` a dependency-confusion risk.
//   node scripts/release-guard.mjs              every publishable workspace package (`pnpm release`)
//   node <repo>/scripts/release-guard.mjs --here  the package in the working directory (its prepublishOnly,
//                                                 so `changeset publish` or `pnpm publish` run directly
//                                                 are guarded too, with the environment they publish with)
// The registry a package goes to, in the order changesets and npm resolve it: publishConfig's
// `@scope:registry`, publishConfig.registry, then npm's `@scope:registry` and `registry` read in the
// package's own folder (its .npmrc, the environment, the user and global config).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const PUBLIC = new Set(['registry.npmjs.org', 'registry.npmjs.com', 'registry.yarnpkg.com']);

function npmConfig(dir, key) {
  const value = execFileSync('npm', ['config', 'get', key], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 30_000, // a hung npm fails the guard (and so the release) rather than hanging it
  }).trim();
  return value === '' || value === 'undefined' || value === 'null' ? undefined : value;
}

/** Every workspace folder whose package.json is not private (what `changeset publish` would publish). */
function publishable() {
  const globs = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
    .split('\n')
    .map((line) => /^\s*-\s*([\w./*-]+)\s*$/.exec(line)?.[1])
    .filter((glob) => glob !== undefined && !glob.startsWith('"'));
  const dirs = globs.flatMap((glob) =>
    glob.endsWith('/*')
      ? readdirSync(join(root, glob.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => join(root, glob.slice(0, -2), entry.name))
      : [join(root, glob)],
  );
  return dirs.filter((dir) => {
    const path = join(dir, 'package.json');
    return existsSync(path) && JSON.parse(readFileSync(path, 'utf8')).private !== true;
  });
}

function problemOf(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const scope = manifest.name.startsWith('@') ? manifest.name.split('/')[0] : undefined;
  const registry =
    (scope && manifest.publishConfig?.[`${scope}:registry`]) ??
    manifest.publishConfig?.registry ??
    (scope && npmConfig(dir, `${scope}:registry`)) ??
    npmConfig(dir, 'registry');
  let host;
  try {
    host = new URL(registry).hostname;
  } catch {
    return `${manifest.name}: no valid registry URL (${JSON.stringify(registry)})`;
  }
  return PUBLIC.has(host) ? `${manifest.name}: would be published to the public registry ${host}` : undefined;
}

const dirs = process.argv.includes('--here') ? [process.cwd()] : publishable();
const problems = dirs.map(problemOf).filter((problem) => problem !== undefined);
if (problems.length > 0) {
  console.error(
    `release refused:\n  ${problems.join('\n  ')}\n` +
      "Set your organisation's registry for the scope first, e.g. in the repository's .npmrc:\n" +
      '  @hyper:registry=https://npm.your-org.example/\n',
  );
  process.exit(1);
}
console.log(`release guard: ${dirs.length} package(s) go to a non-public registry`);
