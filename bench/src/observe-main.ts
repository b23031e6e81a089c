/**
 * `npx -y pnpm@10 --filter @hyper/s2s-bench observe`: the observability overhead on verify alone
 * (the same section `npx -y pnpm@10 bench` writes to RESULTS.md), without the Postgres and signing suites.
 */
import { parseArgs } from 'node:util';
import { fmt } from './harness.js';
import { histogramShare, observeSuite } from './observe-suite.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { quick: { type: 'boolean', default: false } },
});
const ops = values.quick ? 800 : 4000;
const { results } = await observeSuite([1, 64], ops, values.quick ? 3 : 7);
for (const { concurrency, results: ms } of results) {
  console.log(`\n${concurrency} in flight`);
  const base = ms.find((m) => m.name === 'verify + counters only')!;
  for (const m of ms) {
    console.log(
      `${m.name.padEnd(44)} ${fmt(m.opsPerSec).padStart(8)} ops/s  p50 ${fmt(m.p50Ms, 3)} ms  p99 ${fmt(m.p99Ms, 3)} ms  ${fmt((m.opsPerSec / base.opsPerSec - 1) * 100, 1)} % vs counters only`,
    );
  }
}
const share = await histogramShare(values.quick ? 500 : 3000, values.quick ? 3 : 7);
console.log(
  `\nsequential verify ${fmt(share.verifyNs / 1000, 1)} µs; its histogram work (2 samples, 3 clock reads) ${fmt(share.histogramNs / 1000, 2)} µs = ${fmt((share.histogramNs / share.verifyNs) * 100, 2)} % of a verify`,
);
