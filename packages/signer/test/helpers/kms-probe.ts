import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs an ES module in a fresh Node process (so nothing this test process loaded counts) and reports
 * whether google-gax / @google-cloud/kms got loaded by the time it exits. `source: true` runs through tsx so the script can
 * import `src/*.ts` and see uncommitted source edits, not the last build.
 */
export function kmsLoadedAfter(script: string, options: { source?: boolean } = {}): boolean {
  const probe = `
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(join(packageDir, 'package.json'))});
    // Read at exit, once the event loop has drained: a lazy import the script started has settled.
    process.on('exit', () => {
      const loaded = Object.keys(require.cache).some((p) => p.includes('google-gax') || p.includes('@google-cloud+kms') || p.includes('@google-cloud/kms'));
      process.stdout.write(String(loaded));
    });
    ${script}
  `;
  const loader = options.source ? ['--import', 'tsx'] : [];
  return (
    execFileSync(process.execPath, [...loader, '--input-type=module', '-e', probe], {
      cwd: packageDir,
      encoding: 'utf8',
      timeout: 60_000,
    }) === 'true'
  );
}
