/**
 * `npx tsx src/verify-only.ts [--rounds N] [--ops N]`: only the verification suite of `npx -y pnpm@10 bench`
 * (same candidates, interleaved, medians of rounds), printing each candidate's ratio to bare jose
 * jwtVerify. For iterating on the verifier's own cost; quote `npx -y pnpm@10 bench` in RESULTS.md.
 */
import { parseArgs } from 'node:util';
import { verifySuite } from './verify-suite.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { rounds: { type: 'string', default: '5' }, ops: { type: 'string', default: '4000' } },
});
for (const { concurrency, results } of await verifySuite(
  [1, 64],
  Number(values.ops),
  Number(values.rounds),
)) {
  const jose = results.find((result) => result.name === 'jose jwtVerify');
  console.log(`${concurrency} in flight`);
  for (const result of results) {
    const ratio = jose ? (result.opsPerSec / jose.opsPerSec).toFixed(2) : '?';
    const cpu =
      result.cpu === undefined
        ? ''
        : `  event loop ${result.mainCpuUsPerOp?.toFixed(1)} µs, process ${result.cpu.processUs.toFixed(1)} µs per op, machine ${(result.cpu.machineBusy * 100).toFixed(0)} % busy`;
    console.log(
      `  ${result.name.padEnd(40)} ${Math.round(result.opsPerSec).toString().padStart(7)} ops/s  ${ratio}x${cpu}`,
    );
  }
}
