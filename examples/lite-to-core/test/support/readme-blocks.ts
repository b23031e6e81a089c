import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

/** The repository root and every README the docs tests read (root and published packages). */
export const REPO = resolve(import.meta.dirname, '../../../..');
export const READMES = [
  'README.md',
  'contracts/README.md',
  'packages/signer/README.md',
  'packages/verifier/README.md',
  'packages/conformance/README.md',
].map((path) => resolve(REPO, path));

export interface CodeBlock {
  /** README path relative to the repository root. */
  readme: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string: `ts`, `sh`, `text`, ... */
  lang: string;
  /** Every heading above the block, outermost first (`## Key rotation runbook`, `### Step 1`). */
  headings: string[];
  code: string;
}

/** Fenced code blocks of a Markdown file, with the headings they sit under. */
export function codeBlocks(path: string): CodeBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  const stack: { level: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = heading[1]?.length ?? 1;
      while (stack.length > 0 && (stack.at(-1)?.level ?? 0) >= level) stack.pop();
      stack.push({ level, text: heading[2] ?? '' });
      continue;
    }
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    blocks.push({
      readme: relative(REPO, path),
      line: start + 1,
      lang: fence[1] ?? '',
      headings: stack.map((h) => h.text),
      code: `${body.join('\n')}\n`,
    });
  }
  return blocks;
}
