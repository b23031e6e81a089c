import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 's2s-release-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A workspace skeleton with the real manifests and changesets config, and one contracts changeset. */
function statusForContractChange(): { releases: { name: string; type: string }[] } {
  for (const file of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) {
    mkdirSync(dirname(join(work, file)), { recursive: true });
    cpSync(join(root, file), join(work, file));
  }
  for (const dir of ['contracts', 'packages/signer', 'packages/verifier']) {
    mkdirSync(join(work, dir), { recursive: true });
    cpSync(join(root, dir, 'package.json'), join(work, dir, 'package.json'));
  }
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=ci@example.invalid', '-c', 'user.name=ci', ...args], {
      cwd: work,
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'base');
  writeFileSync(
    join(work, '.changeset/contract.md'),
    '---\n"@hyper/s2s-contracts": patch\n---\n\nA contract change.\n',
  );
  const bin = join(root, 'node_modules/.bin/changeset');
  execFileSync(bin, ['status', '--output=status.json'], { cwd: work, stdio: 'ignore' });
  return JSON.parse(readFileSync(join(work, 'status.json'), 'utf8'));
}

describe('releasing a contract change', () => {
  it('bumps @hyper/s2s-contracts and, through it, both SDKs', () => {
    const names = statusForContractChange()
      .releases.map((r) => r.name)
      .sort();
    expect(names).toEqual(['@hyper/s2s-contracts', '@hyper/s2s-signer', '@hyper/s2s-verifier']);
  }, 60_000);
});

describe('pnpm release', () => {
  /** Runs scripts/release-guard.mjs in `cwd` with npm reading only `npmrc` as user config. */
  function guard(npmrc: string, args: string[] = [], cwd = root): { status: number; output: string } {
    const userconfig = join(work, `guard-${Math.random().toString(36).slice(2)}.npmrc`);
    writeFileSync(userconfig, npmrc);
    const env = {
      ...process.env,
      npm_config_userconfig: userconfig,
      npm_config_registry: 'https://registry.npmjs.org/',
    };
    try {
      const output = execFileSync(process.execPath, [join(root, 'scripts/release-guard.mjs'), ...args], {
        cwd,
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { status: 0, output };
    } catch (error) {
      const failed = error as { status: number; stderr: string };
      return { status: failed.status, output: failed.stderr };
    }
  }

  /** A package folder outside the workspace, as the guard's --here sees one. */
  function packageDir(manifest: Record<string, unknown>, npmrc?: string): string {
    const dir = mkdtempSync(join(work, 'pkg-'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: '@hyper/s2s-x', version: '1.0.0', ...manifest }),
    );
    if (npmrc !== undefined) writeFileSync(join(dir, '.npmrc'), npmrc);
    return dir;
  }

  const ORG = '@hyper:registry=https://npm.example.invalid/\n';

  it('is refused while the @hyper scope would go to the public npm registry, for every publishable package', () => {
    const { status, output } = guard('');
    expect(status).toBe(1);
    for (const name of ['contracts', 'signer', 'verifier', 'conformance']) {
      expect(output).toContain(
        `@hyper/s2s-${name}: would be published to the public registry registry.npmjs.org`,
      );
    }
    expect(output).toContain('@hyper:registry=');
  }, 60_000);

  it("goes ahead once the scope names the organisation's registry", () => {
    expect(guard(ORG).status).toBe(0);
  }, 60_000);

  it("reads the registry as the package's own publish would: its .npmrc, then publishConfig's scope registry", () => {
    expect(guard(ORG, ['--here'], packageDir({})).status).toBe(0);
    const ownNpmrc = packageDir({}, '@hyper:registry=https://registry.npmjs.org/\n');
    expect(guard(ORG, ['--here'], ownNpmrc)).toMatchObject({
      status: 1,
      output: expect.stringContaining('@hyper/s2s-x'),
    });
    const scoped = packageDir({ publishConfig: { '@hyper:registry': 'https://registry.npmjs.org/' } });
    expect(guard(ORG, ['--here'], scoped).status).toBe(1);
    const plain = packageDir({ publishConfig: { registry: 'https://registry.yarnpkg.com/' } });
    expect(guard(ORG, ['--here'], plain).status).toBe(1);
  }, 60_000);

  it("guards every publish path: the release script and each package's prepublishOnly", () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.release).toMatch(/^node scripts\/release-guard\.mjs && .*changeset publish$/);
    for (const dir of ['contracts', 'packages/signer', 'packages/verifier', 'packages/conformance']) {
      const own = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      expect(own.scripts.prepublishOnly).toMatch(/release-guard\.mjs --here$/);
    }
  });
});
