import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of SPEC.md, the normative text of the contract. */
export const SPEC_PATH = fileURLToPath(new URL('../SPEC.md', import.meta.url));

export interface SpecRule {
  /** e.g. "H3". */
  readonly id: string;
  readonly title: string;
  /** Ids of the vectors or sequences the rule lists on its `Vectors:` line, in order. */
  readonly vectors: readonly string[];
}

const RULE_HEADING = /^### ([A-Z]\d+)\. (.+)$/;

/** The rules of SPEC.md in document (= evaluation) order, each with the vector ids that pin it. */
export function parseSpecRules(text: string = readFileSync(SPEC_PATH, 'utf8')): SpecRule[] {
  const rules: { id: string; title: string; vectors: string[] }[] = [];
  for (const line of text.split('\n')) {
    const heading = RULE_HEADING.exec(line);
    if (heading) {
      rules.push({ id: heading[1]!, title: heading[2]!, vectors: [] });
    } else if (line.startsWith('### ') || line.startsWith('## ')) {
      rules.push({ id: '', title: '', vectors: [] }); // a non-rule section ends the previous rule
    } else if (line.startsWith('Vectors:') && rules.length > 0) {
      rules.at(-1)!.vectors.push(...[...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    }
  }
  return rules.filter((rule) => rule.id !== '');
}
