// API reports (*.api.md) for every `exports` entry point of the published packages, with
// @microsoft/api-extractor. API Extractor analyses one entry point per config, so this script derives
// one config per entry from the shared ./api-extractor.json and the package's own `exports` map: a new
// subpath gets its report without touching any config.
//
//   node scripts/api-report.mjs            check: exit 1 when a report is stale, missing or orphaned
//   node scripts/api-report.mjs --update   rewrite the reports (what `pnpm api:update` runs)
//
// It reads the built declarations (dist/), so run it after `pnpm build`. No network; the analysis uses
// the workspace's own TypeScript rather than the copy bundled with API Extractor.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { CompilerState, Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = resolve(import.meta.dirname, '..');
const update = process.argv.includes('--update');
const UPDATE_COMMAND = 'npx -y pnpm@10 api:update';
const REPORT_FOLDER = 'etc';
const REPORT_SUFFIX = '.api.md';

const typescriptFolder = dirname(
  createRequire(join(root, 'package.json')).resolve('typescript/package.json'),
);
const sharedConfigPath = join(root, 'api-extractor.json');
const sharedConfig = ExtractorConfig.loadFile(sharedConfigPath);
const compilerOptions = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')).compilerOptions;

/** The published workspace packages: contracts and every non-private package under packages/. */
function publishedPackages() {
  const dirs = [
    'contracts',
    ...readdirSync(join(root, 'packages'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `packages/${entry.name}`),
  ];
  return dirs
    .map((dir) => ({ dir: join(root, dir), manifest: readJson(join(root, dir, 'package.json')) }))
    .filter(({ manifest }) => manifest !== undefined && manifest.private !== true);
}

function readJson(path) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

/** The first `types` condition in an `exports` value, however deeply nested; undefined for JSON etc. */
function typesOf(target) {
  if (target === null || typeof target !== 'object') return undefined;
  if (typeof target.types === 'string') return target.types;
  for (const value of Object.values(target)) {
    const found = typesOf(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `@hyper/s2s-verifier` + `./replay/pg` -> `s2s-verifier-replay-pg` (the report's base name). */
function reportName(packageName, subpath) {
  const base = packageName.replace(/^@[^/]+\//, '');
  const tail = subpath === '.' ? '' : `-${subpath.slice(2).replaceAll('/', '-')}`;
  return `${base}${tail}`;
}

function entryPoints({ dir, manifest }) {
  const exportsMap =
    typeof manifest.exports === 'string' ? { '.': manifest.exports } : (manifest.exports ?? {});
  const entries = [];
  for (const [subpath, target] of Object.entries(exportsMap)) {
    const types = typesOf(target);
    if (types === undefined) continue; // package.json, JSON data files: no declarations to report
    if (subpath.includes('*'))
      throw new Error(`${manifest.name}: wildcard export ${subpath} is not supported`);
    entries.push({ subpath, dts: join(dir, types), name: reportName(manifest.name, subpath) });
  }
  return entries;
}

function prepare(pkg, entry) {
  const configObject = {
    ...sharedConfig,
    projectFolder: pkg.dir,
    mainEntryPointFilePath: entry.dts,
    apiReport: { ...sharedConfig.apiReport, reportFileName: entry.name },
    compiler: { overrideTsconfig: { compilerOptions, files: [entry.dts] } },
  };
  return ExtractorConfig.prepare({
    configObject,
    configObjectFullPath: sharedConfigPath,
    packageJsonFullPath: join(pkg.dir, 'package.json'),
  });
}

const problems = [];
let written = 0;
for (const pkg of publishedPackages()) {
  const entries = entryPoints(pkg);
  const missing = entries.filter((entry) => !existsSync(entry.dts));
  if (missing.length > 0) {
    const list = missing.map((entry) => relative(root, entry.dts)).join(', ');
    console.error(`api-report: ${list} not found; run \`npx -y pnpm@10 build\` first.`);
    process.exit(1);
  }
  const reportDir = join(pkg.dir, REPORT_FOLDER);
  mkdirSync(reportDir, { recursive: true });
  const configs = entries.map((entry) => prepare(pkg, entry));
  // One TypeScript program per package, shared by its entry points (the slow part is building it).
  const compilerState = CompilerState.create(configs[0], {
    typescriptCompilerFolder: typescriptFolder,
    additionalEntryPoints: entries.map((entry) => entry.dts),
  });
  for (const [index, config] of configs.entries()) {
    const messages = [];
    const result = Extractor.invoke(config, {
      localBuild: update,
      compilerState,
      typescriptCompilerFolder: typescriptFolder,
      messageCallback(message) {
        message.handled = true;
        // API Extractor's own notes on report files (created, changed, copied) are summed up below.
        if (message.category === 'console' && message.logLevel !== 'error') return;
        if (message.logLevel === 'error' || message.logLevel === 'warning')
          messages.push(message.formatMessageWithLocation(root));
      },
    });
    const report = relative(root, config.reportFilePath);
    for (const text of messages)
      console.error(`api-report: ${pkg.manifest.name}${entries[index].subpath.slice(1)}: ${text}`);
    if (result.errorCount > 0) problems.push(`${report}: analysis failed (see above)`);
    else if (result.apiReportChanged) {
      if (update) written += 1;
      else problems.push(`${report} is stale or missing`);
    }
  }
  // A report whose entry point is gone would otherwise linger and mislead a reviewer.
  const expected = new Set(entries.map((entry) => `${entry.name}${REPORT_SUFFIX}`));
  for (const file of readdirSync(reportDir).filter((f) => f.endsWith(REPORT_SUFFIX) && !expected.has(f))) {
    if (update) {
      rmSync(join(reportDir, file));
      written += 1;
    } else
      problems.push(`${relative(root, join(reportDir, file))} has no entry point in package.json exports`);
  }
}

if (problems.length > 0) {
  console.error(`api-report: the committed API reports do not match the build:\n  ${problems.join('\n  ')}`);
  if (!update) console.error(`Run \`${UPDATE_COMMAND}\` and commit the etc/*.api.md changes for review.`);
  process.exit(1);
}
console.log(update ? `api-report: ${written} report(s) updated` : 'api-report: every API report is current');
