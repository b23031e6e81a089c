// Docs that cannot drift: the runbooks run as written.
//
// Convention (keep it when editing a README): every ```sh (or ```bash / ```shell) block inside a
// section whose heading, or any heading above it, contains "runbook" (any case) is executed
// verbatim by this test, with bash -euo pipefail. Each (sub)section, i.e. each distinct heading path,
// starts in its own EMPTY temp directory, and its blocks run there in order (a later block sees the
// files of an earlier one); a subsection such as "### JWKS mode" under a runbook heading starts afresh.
// The only command on PATH beyond the system's is `hyper-s2s-keys`, the built signer's CLI; the
// environment carries no HYPER_S2S_* or S2S_* variable. Blocks fenced ```text are never run: use
// that fence for output samples or commands that need live services.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocks, READMES, REPO } from './support/readme-blocks.js';

const SHELL_FENCES = new Set(['sh', 'bash', 'shell']);
const CLI = resolve(REPO, 'packages/signer/bin/hyper-s2s-keys.js');

const work = mkdtempSync(join(tmpdir(), 'hyper-s2s-runbook-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runbook sections: the shell blocks under one "runbook" heading, keyed by README and heading. */
function runbookSections(): Map<string, CodeBlock[]> {
  const sections = new Map<string, CodeBlock[]>();
  for (const block of READMES.flatMap(codeBlocks)) {
    if (!SHELL_FENCES.has(block.lang)) continue;
    const depth = block.headings.findIndex((heading) => /runbook/i.test(heading));
    if (depth < 0) continue;
    const key = `${block.readme} > ${block.headings.join(' > ')}`;
    sections.set(key, [...(sections.get(key) ?? []), block]);
  }
  return sections;
}

/** A bin directory holding only `hyper-s2s-keys`, as installing @hyper/s2s-signer provides it. */
function binDir(): string {
  const bin = join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  const shim = join(bin, 'hyper-s2s-keys');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(shim, 0o755);
  return bin;
}

const sections = runbookSections();
const ROOT_RUNBOOK = 'README.md > hyper-s2s > Key rotation runbook (static keyset)';

describe('README runbooks, executed verbatim', () => {
  it('finds the rotation runbook in the root README', () => {
    expect(sections.has(ROOT_RUNBOOK)).toBe(true);
    execFileSync(process.execPath, [CLI, '--help']); // the signer is built
  });

  it.each([...sections.entries()])(
    '%s',
    (_key, blocks) => {
      const cwd = mkdtempSync(join(work, 'section-'));
      const env = { PATH: `${binDir()}:/usr/local/bin:/usr/bin:/bin`, HOME: cwd, LANG: 'C.UTF-8' };
      for (const block of blocks) {
        const run = spawnSync('bash', ['-euo', 'pipefail', '-c', block.code], { cwd, env, encoding: 'utf8' });
        expect(
          { status: run.status, stderr: run.status === 0 ? '' : run.stderr },
          `${block.readme}:${block.line}`,
        ).toEqual({ status: 0, stderr: '' });
      }
    },
    300_000,
  );

  it('leaves the root runbook with only the new key in the keyset', () => {
    const cwd = mkdtempSync(join(work, 'root-'));
    const env = { PATH: `${binDir()}:/usr/local/bin:/usr/bin:/bin`, HOME: cwd };
    for (const block of sections.get(ROOT_RUNBOOK) ?? []) {
      spawnSync('bash', ['-euo', 'pipefail', '-c', block.code], { cwd, env });
    }
    const keyset = JSON.parse(readFileSync(join(cwd, 'keyset.json'), 'utf8')) as { keys: { kid: string }[] };
    expect(keyset.keys.map((key) => key.kid)).toEqual(['lite-2026-12']);
  }, 300_000);
});
