// Docs that cannot drift: every ```ts block of every README is compiled with the real tsc against
// the BUILT packages (their package.json exports and dist/*.d.ts, as a consumer sees them). Each block
// is its own module; a few names the snippets use without defining them (verifier, signer, requestId,
// body, userId) are declared in one ambient file below, and nothing else is added.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocks, READMES, REPO } from './support/readme-blocks.js';

const work = mkdtempSync(join(tmpdir(), 'hyper-s2s-readme-ts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const WORKSPACE_PACKAGES: Record<string, string> = {
  '@hyper/s2s-contracts': 'contracts',
  '@hyper/s2s-signer': 'packages/signer',
  '@hyper/s2s-verifier': 'packages/verifier',
};
// Third-party packages the snippets import, linked from where the workspace installed them.
const THIRD_PARTY: Record<string, string> = {
  express: 'packages/verifier/node_modules/express',
  '@types/express': 'packages/verifier/node_modules/@types/express',
  fastify: 'packages/verifier/node_modules/fastify',
  'fastify-plugin': 'packages/verifier/node_modules/fastify-plugin',
  hono: 'packages/verifier/node_modules/hono',
  '@nestjs/common': 'packages/verifier/node_modules/@nestjs/common',
  '@nestjs/core': 'packages/verifier/node_modules/@nestjs/core',
  'reflect-metadata': 'packages/verifier/node_modules/reflect-metadata',
  rxjs: 'packages/verifier/node_modules/rxjs',
  pg: 'packages/verifier/node_modules/pg',
  '@types/pg': 'packages/verifier/node_modules/@types/pg',
  'prom-client': 'packages/verifier/node_modules/prom-client',
  '@types/node': 'node_modules/@types/node',
};

const AMBIENT = `import type { Signer } from '@hyper/s2s-signer';
import type { Verifier } from '@hyper/s2s-verifier';
declare global {
  var verifier: Verifier;
  var signer: Signer;
  var requestId: string;
  var body: string;
  var userId: string;
}
export {};
`;

const fileName = (block: CodeBlock) => `${block.readme.replace(/[^A-Za-z0-9]+/g, '_')}_L${block.line}.ts`;

function project(blocks: CodeBlock[]): string {
  const modules = join(work, 'node_modules');
  for (const [name, dir] of Object.entries({ ...WORKSPACE_PACKAGES, ...THIRD_PARTY })) {
    const target = resolve(REPO, dir);
    if (!existsSync(target)) throw new Error(`${name}: ${target} is missing (pnpm install)`);
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(target, join(modules, name), 'dir');
  }
  for (const dir of Object.values(WORKSPACE_PACKAGES)) {
    if (!existsSync(resolve(REPO, dir, 'dist'))) throw new Error(`${dir}/dist is missing: build first`);
  }
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'readme-snippets', type: 'module' }));
  writeFileSync(join(work, 'ambient.d.ts'), AMBIENT);
  for (const block of blocks) writeFileSync(join(work, fileName(block)), block.code);
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      extends: resolve(REPO, 'tsconfig.base.json'),
      compilerOptions: { noEmit: true, experimentalDecorators: true, rootDir: '.' },
      include: ['*.ts'],
    }),
  );
  return join(work, 'tsconfig.json');
}

function tsc(tsconfig: string): Promise<string> {
  const bin = createRequire(resolve(REPO, 'package.json')).resolve('typescript/bin/tsc');
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, '-p', tsconfig, '--pretty', 'false'],
      { encoding: 'utf8' },
      (_e, out, err) => done(`${out}${err}`),
    );
  });
}

const blocks = READMES.flatMap(codeBlocks).filter(
  (block) => block.lang === 'ts' || block.lang === 'typescript',
);

describe('README TypeScript blocks', () => {
  it('finds the blocks (root and every package README)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    expect(new Set(blocks.map((b) => b.readme)).size).toBeGreaterThanOrEqual(3);
  });

  it('type-check against the built packages, each as written', async () => {
    const output = await tsc(project(blocks));
    // Point each diagnostic back to its README line.
    const located = output
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const hit = /^(\S+?)\((\d+),\d+\): (.*)$/.exec(line);
        const block = hit ? blocks.find((b) => hit[1]?.endsWith(fileName(b))) : undefined;
        return block && hit ? `${block.readme}:${block.line + Number(hit[2])}: ${hit[3]}` : line;
      });
    expect(located).toEqual([]);
  }, 300_000);
});
