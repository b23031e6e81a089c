/**
 * Run under `perf record` by `perf-profile.ts`:
 * `tsx src/perf-profile-child.ts <candidate> <in-flight> <rounds> <tokens.json> <ctl-fifo> <ack-fifo> <pid-file>`
 * verifies the file's tokens `rounds` times, `in-flight` at a time (the replay store emptied between
 * rounds, so every presentation is a first use), and tells perf to record only while it does: start-up,
 * imports, key import, a warm-up round and the emptying stay out of the profile.
 */
import { closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { joseOperation, verifierOperation, verifyAll } from './candidate-operations.js';
import { INSTRUCTION_CANDIDATES, type InstructionCandidate, type InstructionTokens } from './instructions.js';

const [candidate = '', inFlight = '', rounds = '', path = '', ctl = '', ack = '', pidFile = ''] =
  process.argv.slice(2);
const parallel = Number(inFlight);
const repeat = Number(rounds);
if (
  !Object.hasOwn(INSTRUCTION_CANDIDATES, candidate) ||
  !Number.isInteger(parallel) ||
  parallel < 1 ||
  !Number.isInteger(repeat) ||
  repeat < 1 ||
  pidFile === ''
) {
  throw new Error(
    'usage: perf-profile-child.ts <candidate> <in-flight> <rounds> <tokens.json> <ctl-fifo> <ack-fifo> <pid-file>',
  );
}
const file = JSON.parse(readFileSync(path, 'utf8')) as InstructionTokens;
// jose keeps one CryptoKey for the whole run, the verifier one verifier whose store each round empties.
const verifier = candidate === 'jose' ? undefined : verifierOperation(file);
const op = verifier ?? (await joseOperation(file));
const round = () =>
  verifyAll(candidate as InstructionCandidate, op, file.tokens, file.tokens.length, parallel);
// Emptying the store is the bench's work, not the verifier's: perf records only the rounds.
const nextRound = async () => verifier?.nextRound();

/** One perf control command, answered on the ack FIFO before this process goes on. */
function command(name: 'enable' | 'disable'): void {
  const out = openSync(ctl, 'w');
  writeSync(out, `${name}\n`);
  closeSync(out);
  const answer = openSync(ack, 'r');
  const reply = Buffer.alloc(8);
  const length = readSync(answer, reply);
  closeSync(answer);
  // perf writes `ack\n` and its terminating NUL.
  if (!reply.toString('utf8', 0, length).startsWith('ack\n'))
    throw new Error(`perf did not acknowledge ${name}`);
}

// perf's JIT symbol map is /tmp/perf-<pid>.map: the parent removes it, whether the run succeeds or not.
writeFileSync(pidFile, String(process.pid));
await round();
for (let i = 0; i < repeat; i++) {
  await nextRound();
  command('enable');
  await round();
  command('disable');
}
