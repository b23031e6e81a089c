/**
 * `npx tsx src/verify-only.ts [--rounds N] [--ops N] [--in-flight 1,64] [--json]`: only the verification
 * suite of `npx -y pnpm@10 bench` (same candidates, interleaved, medians of rounds), printing each
 * candidate's ratio to bare jose jwtVerify, or with `--json` the suite's results (what
 * `verifySuiteInChild` reads). For iterating on the verifier's own cost; quote `npx -y pnpm@10 bench`
 * in RESULTS.md.
 */
import { parseArgs } from 'node:util';
import { verifySuite } from './verify-suite.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    rounds: { type: 'string', default: '21' },
    ops: { type: 'string', default: '4000' },
    'in-flight': { type: 'string', default: '1,64' },
    json: { type: 'boolean', default: false },
  },
});
const suites = await verifySuite(
  values['in-flight'].split(',').map(Number),
  Number(values.ops),
  Number(values.rounds),
);
if (values.json) {
  process.stdout.write(JSON.stringify(suites));
} else {
  for (const { concurrency, results } of suites) {
    const jose = results.find((result) => result.name === 'jose jwtVerify');
    console.log(`${concurrency} in flight`);
    for (const result of results) {
      const ratio = jose ? (result.opsPerSec / jose.opsPerSec).toFixed(2) : '?';
      const cpu =
        result.cpu === undefined
          ? ''
          : `  event loop ${result.mainCpuUsPerOp?.toFixed(1)} µs, process ${result.cpu.processUs.toFixed(1)} µs, ${result.cpu.contextSwitches.toFixed(2)} context switches per op, machine ${(result.cpu.machineBusy * 100).toFixed(0)} % busy`;
      console.log(
        `  ${result.name.padEnd(40)} ${Math.round(result.opsPerSec).toString().padStart(7)} ops/s  ${ratio}x${cpu}`,
      );
    }
  }
}
