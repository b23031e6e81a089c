/**
 * `npx tsx src/profile-verify.ts [N] [OUT.cpuprofile] [IN_FLIGHT]`: N verifications of fresh tokens by
 * the verifier (static JWKS, memory replay store, no logger or metrics), IN_FLIGHT at a time (default 1,
 * sequential; 64 is the bench's throughput case, where the event-loop thread and the RSA work share the
 * cores), with a CPU profile of the verification loop only (minting and start-up excluded). Summarise the
 * .cpuprofile with `src/profile-summary.ts`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createVerifier, memoryReplayStore } from '@hyper/s2s-verifier';
import { AUDIENCE, createFixture, ISSUER, mintTokens, SCOPE } from './fixtures.js';

const count = Number(process.argv[2] ?? 5000);
const inFlight = Number(process.argv[4] ?? 1);
if (!Number.isSafeInteger(inFlight) || inFlight < 1) throw new Error('IN_FLIGHT must be a positive integer');
const fixture = createFixture();
const tokens = await mintTokens(fixture, count);
const verifier = createVerifier({
  keys: { jwks: await fixture.signer.jwks() },
  audience: AUDIENCE,
  issuers: [ISSUER],
  replayStore: memoryReplayStore(),
});
// Warm the verifier (key import, JIT) outside the profile.
for (const token of tokens.slice(0, 200)) await verifier.verify(token, { scope: SCOPE, path: '/bench' });
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const started = performance.now();
const queue = tokens.slice(200);
let next = 0;
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (next < queue.length) {
      const token = queue[next++]!;
      if (!(await verifier.verify(token, { scope: SCOPE, path: '/bench' })).ok) throw new Error('rejected');
    }
  }),
);
const ms = performance.now() - started;
const { profile } = await session.post('Profiler.stop');
writeFileSync(process.argv[3] ?? 'verify.cpuprofile', JSON.stringify(profile));
const measured = count - 200;
console.log(
  `${measured} verifications, ${inFlight} in flight, in ${ms.toFixed(0)} ms: ${((ms * 1000) / measured).toFixed(1)} µs each`,
);
