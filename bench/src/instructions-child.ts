/**
 * Run under callgrind by `instructions.ts`: `tsx src/instructions-child.ts <candidate> <count> <in-flight> <tokens.json>`
 * verifies the first `count` tokens of the file with one candidate, `in-flight` at a time, and exits.
 * Everything else the process does (start-up, imports, key import) is the same for any `count`, so the
 * difference between two counts is the candidate's work per token.
 */
import { readFileSync } from 'node:fs';
import { joseOperation, verifierOperation, verifyAll } from './candidate-operations.js';
import { INSTRUCTION_CANDIDATES, type InstructionCandidate, type InstructionTokens } from './instructions.js';

const [candidate = '', count = '', inFlight = '', path = ''] = process.argv.slice(2);
const total = Number(count);
const parallel = Number(inFlight);
if (
  !Object.hasOwn(INSTRUCTION_CANDIDATES, candidate) ||
  !Number.isInteger(total) ||
  total < 1 ||
  !Number.isInteger(parallel) ||
  parallel < 1 ||
  path === ''
) {
  throw new Error('usage: instructions-child.ts <candidate> <count> <in-flight> <tokens.json>');
}
const file = JSON.parse(readFileSync(path, 'utf8')) as InstructionTokens;
if (file.tokens.length < total) throw new Error(`${path} holds ${file.tokens.length} tokens, not ${total}`);
const op = candidate === 'jose' ? await joseOperation(file) : verifierOperation(file);
await verifyAll(candidate as InstructionCandidate, op, file.tokens, total, parallel);
