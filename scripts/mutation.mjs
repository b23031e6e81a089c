// Mutation testing (StrykerJS, vitest runner) on the verification path and the signer's claim
// building: one Stryker run per package (its stryker.config.mjs), then one merged report,
// reports/mutation/mutation.json, and the per-file scores in reports/mutation/SUMMARY.md.
// Not part of `pnpm test`: it takes tens of minutes on a shared 2-core machine.
//   node scripts/mutation.mjs [contracts|signer|verifier ...]   (default: all three)
//   node scripts/mutation.mjs verifier --file src/header.ts ...  (one Stryker run per file; the
//        verifier config is incremental, so its report stays the union of every file's last run)
//   node scripts/mutation.mjs --merge-only                       (rebuild the merged report)
//   node scripts/mutation.mjs --concurrency 2 ...                (Stryker runners; default: each config's 1)
// Each run's wall time and the machine's load average are kept in reports/mutation/runtimes.json
// (not committed) and printed in SUMMARY.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'reports', 'mutation');
const PACKAGES = { contracts: 'contracts', signer: 'packages/signer', verifier: 'packages/verifier' };
const args = process.argv.slice(2);
const mergeOnly = args.includes('--merge-only');
const files = args.flatMap((arg, i) => (args[i - 1] === '--file' ? [arg] : []));
const concurrency = args.flatMap((arg, i) => (args[i - 1] === '--concurrency' ? [arg] : []))[0];
if (concurrency !== undefined && !/^[1-9]\d*$/.test(concurrency))
  throw new Error('--concurrency takes a positive integer');
const chosen = args.filter(
  (arg, i) => !arg.startsWith('--') && args[i - 1] !== '--file' && args[i - 1] !== '--concurrency',
);
const names = chosen.length > 0 ? chosen : Object.keys(PACKAGES);
if (files.length > 0 && names.length !== 1) throw new Error('--file needs exactly one package');

mkdirSync(out, { recursive: true });
const runtimesPath = join(out, 'runtimes.json');
const readRuntimes = () => (existsSync(runtimesPath) ? JSON.parse(readFileSync(runtimesPath, 'utf8')) : {});
let runtimes = readRuntimes();
const load = () => loadavg()[0].toFixed(1);
if (!mergeOnly) {
  for (const name of names) {
    const dir = PACKAGES[name];
    if (!dir) throw new Error(`unknown package ${name}; one of ${Object.keys(PACKAGES).join(', ')}`);
    for (const file of files.length > 0 ? files : [undefined]) {
      const key = file === undefined ? name : `${dir}/${file}`;
      const loadBefore = load();
      const started = performance.now();
      const result = spawnSync(
        join(root, 'node_modules', '.bin', 'stryker'),
        [
          'run',
          ...(file === undefined ? [] : ['--mutate', file]),
          ...(concurrency === undefined ? [] : ['--concurrency', concurrency]),
        ],
        { cwd: join(root, dir), stdio: 'inherit' },
      );
      const seconds = Math.round((performance.now() - started) / 1000);
      // The first run of a file tests every mutant; later (incremental) runs only what changed.
      const run = {
        seconds,
        load: `${loadBefore}-${load()}`,
        at: new Date().toISOString(),
        concurrency: Number(concurrency ?? 1),
      };
      runtimes = readRuntimes(); // another run may have written it meanwhile
      runtimes[key] = { first: runtimes[key]?.first ?? run, last: run };
      writeFileSync(runtimesPath, `${JSON.stringify(runtimes, null, 2)}\n`);
      console.log(`stryker ${key}: ${seconds} s, exit ${result.status}`);
      if (result.status !== 0) process.exitCode = 1;
      if (file === undefined) checkEveryTestFileRan(name, dir);
    }
  }
}

/**
 * A test file that fails to load (an import that does not resolve in Stryker's sandbox) is dropped by
 * Vitest without failing the run, and every mutant only it would kill survives: a whole-package run
 * must show every file of its vitest.mutation.config.ts among the report's test files.
 */
function checkEveryTestFileRan(name, dir) {
  const config = readFileSync(join(root, dir, 'vitest.mutation.config.ts'), 'utf8');
  const include = config.slice(config.indexOf('include:'), config.indexOf(']', config.indexOf('include:')));
  const listed = [...include.matchAll(/'(test\/[^']+\.test\.ts)'/g)].map((m) => m[1]);
  const report = JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8'));
  const ran = new Set(Object.keys(report.testFiles ?? {}).map((path) => path.slice(path.indexOf('test/'))));
  const missing = listed.filter((path) => !ran.has(path));
  if (listed.length === 0 || missing.length > 0) {
    console.error(
      `stryker ${name}: test files that never ran (failed to load?): ${missing.join(', ') || 'none listed'}`,
    );
    process.exitCode = 1;
  }
}

// Merge: file paths are made relative to the repository root.
const merged = { schemaVersion: '2', thresholds: { high: 90, low: 80 }, files: {} };
for (const [name, dir] of Object.entries(PACKAGES)) {
  const path = join(out, `${name}.json`);
  if (!existsSync(path)) continue;
  const report = JSON.parse(readFileSync(path, 'utf8'));
  for (const [file, entry] of Object.entries(report.files)) merged.files[`${dir}/${file}`] = entry;
}
writeFileSync(join(out, 'mutation.json'), `${JSON.stringify(merged)}\n`);

// Stryker's score: detected (killed, timeout) over valid mutants (detected + survived + no coverage).
const rows = [];
const tally = () => ({ detected: 0, survived: 0, noCoverage: 0, invalid: 0 });
const all = tally();
const byPackage = Object.fromEntries(Object.values(PACKAGES).map((dir) => [dir, tally()]));
const percent = ({ detected, survived, noCoverage }) => {
  const valid = detected + survived + noCoverage;
  return valid === 0 ? 100 : (100 * detected) / valid;
};
const row = (label, t) =>
  `| ${label} | ${percent(t).toFixed(1)} % | ${t.detected} | ${t.survived} | ${t.noCoverage} | ${t.invalid} |`;
for (const [file, { mutants }] of Object.entries(merged.files)) {
  const count = (...statuses) => mutants.filter((m) => statuses.includes(m.status)).length;
  const t = {
    detected: count('Killed', 'Timeout'),
    survived: count('Survived'),
    noCoverage: count('NoCoverage'),
    invalid: count('CompileError', 'RuntimeError', 'Ignored'),
  };
  const dir = Object.values(PACKAGES).find((d) => file.startsWith(`${d}/`));
  for (const sum of [all, byPackage[dir]]) for (const key of Object.keys(t)) sum[key] += t[key];
  rows.push(row(file, t));
}
const packageRows = Object.entries(byPackage)
  .filter(([, t]) => t.detected + t.survived + t.noCoverage > 0)
  .map(([dir, t]) => row(`**${dir}**`, t));
const summary = `# Mutation testing summary

Generated by \`npx -y pnpm@10 mutation\` (scripts/mutation.mjs; the verifier file by file with \`--file\`,
incremental, so its report is the union of every file's last run); the full report is
reports/mutation/mutation.json (not committed). Score = (killed + timeout) / (killed + timeout +
survived + no coverage). Surviving mutants are explained in SURVIVORS.md.

| file | score | detected | survived | no coverage | not valid |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
${packageRows.join('\n')}
${row('**all**', all)}
${
  Object.keys(runtimes).length > 0
    ? `
Run time per package or file (wall clock at the Stryker concurrency shown, on the shared 2-core
machine; load = 1-minute load average at start-end, 2.0 = both cores busy). The first run tests every mutant; later runs are
incremental and retest only mutants whose code or covering tests changed.

| run | first run | load | last run | load | concurrency (last) |
| --- | --- | --- | --- | --- | --- |
${Object.entries(runtimes)
  .map(
    ([key, { first, last }]) =>
      `| ${key} | ${first.seconds} s | ${first.load} | ${last.seconds} s | ${last.load} | ${last.concurrency ?? 1} |`,
  )
  .join('\n')}
`
    : ''
}`;
writeFileSync(join(out, 'SUMMARY.md'), summary);
console.log(summary);
