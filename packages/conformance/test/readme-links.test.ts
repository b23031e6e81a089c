import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** Relative link targets of a markdown file: `[text](target)`, minus URLs, mail and in-page anchors. */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1]!);
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'));
}

describe('packages/conformance/README.md', () => {
  it('every relative link resolves to a file or directory in the repository', () => {
    const links = relativeLinks(readFileSync(README, 'utf8'));
    expect(links.length).toBeGreaterThan(0);
    const missing = links.filter((link) => !existsSync(resolve(dirname(README), link.split('#')[0]!)));
    expect(missing).toEqual([]);
  });
});
