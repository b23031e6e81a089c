/**
 * The stall probe's thread (see stall-probe.ts), in JavaScript because a worker thread does not inherit
 * tsx's loader: one durable single-row commit at a time on its own connection, `everyMs` apart, off the
 * measured event loop so the candidates' CPU backlog does not read as a stall. Answers each 'window' message with the slowest commit since the previous one, counting a
 * commit still unanswered for as long as it has waited so far.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';

/** @type {{ url: string, everyMs: number, table: string, queryTimeoutMs: number }} */
const { url, everyMs, table, queryTimeoutMs } = workerData;
const port = parentPort;
const client = new pg.Client({ connectionString: url, query_timeout: queryTimeoutMs });
// A lost connection fails the next commit, which ends the probe with that error.
client.on('error', () => {});
let slowest = 0;
/** @type {number | undefined} */
let startedAt;
let stopped = false;

port.on('message', (/** @type {'window' | 'stop'} */ message) => {
  if (message === 'stop') {
    stopped = true;
    return;
  }
  const pending = startedAt === undefined ? 0 : performance.now() - startedAt;
  port.postMessage({ slowestMs: Math.max(slowest, pending) });
  slowest = 0;
});

try {
  await client.connect();
  await client.query(`CREATE TABLE IF NOT EXISTS ${table} (id bigserial PRIMARY KEY)`);
  port.postMessage({ ready: true });
  while (!stopped) {
    startedAt = performance.now();
    await client.query(`INSERT INTO ${table} DEFAULT VALUES`);
    slowest = Math.max(slowest, performance.now() - startedAt);
    startedAt = undefined;
    await sleep(everyMs);
  }
  await client.query(`DROP TABLE ${table}`);
  await client.end();
  port.postMessage({ stopped: true });
} catch (error) {
  port.postMessage({ failed: error instanceof Error ? error.message : String(error) });
  await client.end().catch(() => {});
}
