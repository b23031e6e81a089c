/**
 * Hyper Lite -> Hyper Core, end to end, in one process: `pnpm demo` (add `--serve` to keep it running).
 * Exits 0 only when every step got exactly what the contract says.
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { METRIC_NAMES } from '@hyper/s2s-contracts';
import type { Jwks } from '@hyper/s2s-signer';
import { runAdrPath } from './adr-path.js';
import { printAdrPath } from './adr-report.js';
import { startCore } from './core.js';
import { demoRoutes, exitCleanlyOnSignal } from './demo-routes.js';
import { liteAuthLog, startLiteGateway } from './gateway.js';
import { generateLiteKey, kidForMonth } from './keys.js';
import { printSteps, runScenario } from './scenario.js';

// `pnpm demo -- --serve` forwards a literal `--`; accept both spellings.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { serve: { type: 'boolean', default: false } },
});
const started = performance.now();
const SERVE_PORTS = { core: 8080, lite: 8081 } as const;

/** Whether 127.0.0.1:`port` can be listened on now (checked before part 1, not after its 30 s). */
async function portFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

if (values.serve) {
  for (const [who, port] of Object.entries(SERVE_PORTS)) {
    if (!(await portFree(port))) {
      console.error(
        `demo --serve: port ${port} (${who}) on 127.0.0.1 is in use; stop what holds it and run again`,
      );
      process.exit(2);
    }
  }
}

// Part 1, the ADR path (KMS + gateway JWKS + S2S_JWKS_URL, rotation under traffic); part 2 below is the
// static-keyset runbook (HYPER_S2S_JWT_PUBLIC_KEYS_JSON).
const adrPath = await runAdrPath();
const adrFailed = printAdrPath(adrPath);
await adrPath.close();
console.log('Part 2: static keyset (HYPER_S2S_JWT_PUBLIC_KEYS_JSON) and its rotation runbook\n');

const currentKey = generateLiteKey(kidForMonth(0));
const lite = await startLiteGateway(currentKey, values.serve ? SERVE_PORTS.lite : 0);
// Core's keyset starts as Lite's published JWKS (what an operator pastes into HYPER_S2S_JWT_PUBLIC_KEYS_JSON).
const published = (await (await fetch(`${lite.url}/.well-known/jwks.json`)).json()) as Jwks;
// Serving, Core's log lines also go to stderr as JSON (s2s_auth_rejected with its cause, purge runs, …).
const jsonLines = {
  info: (obj: object, msg?: string) => console.error(JSON.stringify({ level: 'info', msg, ...obj })),
  warn: (obj: object, msg?: string) => console.error(JSON.stringify({ level: 'warn', msg, ...obj })),
};
const core = await startCore(
  published,
  values.serve ? SERVE_PORTS.core : 0,
  values.serve ? { logger: jsonLines } : {},
);

console.log(`Lite gateway  ${lite.url}  (JWKS at /.well-known/jwks.json, kid ${currentKey.kid})`);
console.log(
  `Core          ${core.url}  (replay store: ${core.database}, purger every 5 min, health at /health)\n`,
);

const results = await runScenario(core, lite, currentKey);
printSteps(results);

const scrape = await core.metrics();
// The four counters only: the latency histogram's bucket lines would bury them.
const counters = new Set<string>(Object.values(METRIC_NAMES));
console.log('\nCore /metrics (the s2s_auth_* counters):');
for (const line of scrape.split('\n')) if (counters.has(line.split('{')[0] ?? '')) console.log(`  ${line}`);

const hasToken = (entry: object) => /eyJ[\w-]+\.[\w-]+\./.test(JSON.stringify(entry));
const liteLeaked = liteAuthLog.entries.some(hasToken);
const coreLeaked = core.log.some(hasToken);
const leaked = liteLeaked || coreLeaked;
console.log(
  `\nLite auth log: ${liteAuthLog.entries.length} rejection warnings, raw tokens in them: ${liteLeaked ? 'YES' : 'none'}`,
);
const coreRejections = core.log.filter((entry) => entry.event === 's2s_auth_rejected').length;
console.log(
  `Core log: ${coreRejections} s2s_auth_rejected warnings, raw tokens in them: ${coreLeaked ? 'YES' : 'none'}`,
);

const failed = results.filter((r) => !r.pass).length + (leaked ? 1 : 0) + adrFailed;
const total = results.length + adrPath.steps.length + 1;
console.log(
  `\n${total - failed} of ${total} checks as the contract says (${Math.round(performance.now() - started)} ms)`,
);

if (values.serve) {
  lite.mount(demoRoutes(lite, core.url));
  exitCleanlyOnSignal(async () => {
    await core.close();
    await lite.close();
  });
  console.log(`\nServing. Lite now signs with kid ${lite.signer.kid} (after the rotation above).`);
  console.log(
    `  curl -i -X POST ${lite.url}/call/spaces                       # Lite signs, Core answers 201`,
  );
  console.log(`  curl -i -X POST ${lite.url}/call/join-tokens`);
  console.log(`  curl -s -X POST '${lite.url}/demo/mint-token?scope=spaces:create&age=400'   # DEMO ONLY`);
  console.log(`  curl -i -X POST ${core.url}/integrations/spaces -H "authorization: Bearer <token>"`);
  console.log(`  curl -i ${core.url}/health                                   # verifier.health()`);
  console.log('Ctrl-C to stop.');
} else {
  await core.close();
  await lite.close();
  process.exitCode = failed === 0 ? 0 : 1;
}
