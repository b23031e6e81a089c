// Refuses `pnpm release` when a package would go to the public npm registry. These packages live in the
// organisation's registry only: published publicly, anyone could read them, and a public `@hyper` scope
// held by someone else would make `npm install @hyper/...` a dependency-confusion risk.
//   node scripts/release-guard.mjs   (run by `pnpm release` before `changeset publish`)
// The registry each package would be published to: its publishConfig.registry, else npm's `@hyper:registry`
// setting, else npm's `registry` (what `npm publish`, and so `changeset publish`, uses).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const PUBLIC = new Set(['registry.npmjs.org', 'registry.yarnpkg.com', 'registry.npmjs.com']);
const PACKAGES = ['contracts', 'packages/signer', 'packages/verifier', 'packages/conformance'];

function npmConfig(key) {
  const value = execFileSync('npm', ['config', 'get', key], { cwd: root, encoding: 'utf8' }).trim();
  return value === '' || value === 'undefined' || value === 'null' ? undefined : value;
}

const problems = [];
for (const dir of PACKAGES) {
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  if (manifest.private) continue;
  const scope = manifest.name.startsWith('@') ? manifest.name.split('/')[0] : undefined;
  const registry =
    manifest.publishConfig?.registry ?? (scope && npmConfig(`${scope}:registry`)) ?? npmConfig('registry');
  let host;
  try {
    host = new URL(registry).hostname;
  } catch {
    problems.push(`${manifest.name}: no valid registry URL (${JSON.stringify(registry)})`);
    continue;
  }
  if (PUBLIC.has(host)) problems.push(`${manifest.name}: would be published to the public registry ${host}`);
}
if (problems.length > 0) {
  console.error(
    `release refused:\n  ${problems.join('\n  ')}\n` +
      "Set your organisation's registry for the scope first, e.g. in .npmrc:\n" +
      '  @hyper:registry=https://npm.your-org.example/\n',
  );
  process.exit(1);
}
console.log('release guard: every package goes to a non-public registry');
