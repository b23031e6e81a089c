// Type-checks every TSDoc `@example` block (```ts fenced) in the published packages' src/, so an
// example cannot drift from the API it shows. Each block becomes its own module under the package's
// node_modules/.examples/ and imports the package by name, as a user would (resolved through
// `exports` to dist/, so run it after `pnpm build`). No network.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const packages = ['contracts', 'packages/signer', 'packages/verifier'];
const EXAMPLE = /@example\s*\n(?:\s*\*.*\n)*?\s*\* ```ts\n((?:\s*\*.*\n)*?)\s*\* ```/g;
const tsc = join(root, 'node_modules/.bin/tsc');

let total = 0;
let failed = false;
for (const pkg of packages) {
  const src = join(root, pkg, 'src');
  const out = join(root, pkg, 'node_modules/.examples');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const files = [];
  for (const file of readdirSync(src, { recursive: true }).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(src, file), 'utf8');
    for (const match of text.matchAll(EXAMPLE)) {
      const code = match[1].replace(/^\s*\* ?/gm, '');
      const line = text.slice(0, match.index).split('\n').length;
      const name = `${file.replace(/\.ts$/, '').replaceAll('/', '_')}_L${line}.ts`;
      // `export {}` keeps each example a module (top-level await, no clashes between examples).
      writeFileSync(join(out, name), `// ${pkg}/src/${file}:${line}\n${code}export {};\n`);
      files.push(name);
    }
  }
  total += files.length;
  if (files.length === 0) continue;
  const base = relative(out, join(root, 'tsconfig.base.json'));
  const tsconfig = { extends: base, compilerOptions: { noEmit: true, rootDir: '.' }, files };
  writeFileSync(join(out, 'tsconfig.json'), JSON.stringify(tsconfig));
  try {
    execFileSync(tsc, ['-p', join(out, 'tsconfig.json')], { cwd: out, stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    failed = true;
    console.error(
      `check-examples: an @example in ${pkg}/src does not compile:\n${error.stdout}${error.stderr}`,
    );
  }
}
if (failed) process.exit(1);
console.log(`check-examples: ${total} @example blocks compile`);
