import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { typecheck } from './harness/typecheck.js';

const pkg = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'hyper-s2s-express-types-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A project that compiles only the typed Express fixture, with `express` mapped to the given types. */
function project(name: string, expressTypes: string): string {
  const file = join(work, `tsconfig.${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      extends: join(pkg, '../../tsconfig.base.json'),
      compilerOptions: {
        noEmit: true,
        typeRoots: [join(pkg, '../../node_modules/@types')],
        paths: { express: [join(pkg, 'node_modules/@types', expressTypes)] },
      },
      files: [join(pkg, 'test/fixtures/express-typed.ts')],
    }),
  );
  return file;
}

describe('req.s2s is typed by module augmentation', () => {
  it.each([
    ['Express 4 types', 'express-4'],
    ['Express 5 types', 'express'],
  ])(
    '%s: the README snippet compiles and the claims are typed',
    async (name, types) => {
      const { code, output } = await typecheck(project(types, types));
      expect(output, name).toBe('');
      expect(code).toBe(0);
    },
    60_000,
  );
});
