import { createVerifier, memoryReplayStore } from '@hyper/s2s-verifier';
import { importSPKI, jwtVerify } from 'jose';
import { AUDIENCE, createFixture, ISSUER, mintTokens, SCOPE } from './src/fixtures.js';

const fixture = createFixture();
const jwks = await fixture.signer.jwks();
const joseKey = await importSPKI(fixture.publicKeyPem, 'RS256');
const tokens = await mintTokens(fixture, 3000);
console.log(tokens[0]);
const mode = process.env.MODE ?? 'verifier';
async function round() {
  let i = 0;
  const verifier = createVerifier({
    keys: { jwks },
    audience: AUDIENCE,
    issuers: [ISSUER],
    replayStore: memoryReplayStore(),
  });
  const op =
    mode === 'verifier'
      ? async () => {
          const r = await verifier.verify(tokens[i++]!, { scope: SCOPE, path: '/bench' });
          if (!r.ok) throw new Error(r.reason);
        }
      : async () =>
          jwtVerify(tokens[i++]!, joseKey, {
            algorithms: ['RS256'],
            issuer: ISSUER,
            audience: AUDIENCE,
            clockTolerance: 60,
          });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (i < tokens.length) await op();
    }),
  );
  return 3000 / ((performance.now() - start) / 1000);
}
const rs: number[] = [];
for (let r = 0; r < 8; r++) rs.push(await round());
console.log(mode, rs.map(Math.round).join(' '));
