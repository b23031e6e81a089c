import type { AdrPath } from './adr-path.js';
import { printSteps } from './scenario.js';

/** The line `npx -y pnpm@10 demo` (and its test) fail on: R must be 0 and N at least this. */
export const MIN_ROTATION_CALLS = 500;

export function rotationPassed(path: AdrPath): boolean {
  const { rotation } = path;
  return (
    rotation.rejected === 0 &&
    rotation.calls >= MIN_ROTATION_CALLS &&
    rotation.retiredKid.status === 401 &&
    rotation.retiredKid.reason === 'unknown_kid'
  );
}

/** Prints part 1 (the ADR path); returns how many checks failed. */
export function printAdrPath(path: AdrPath): number {
  const { steps, rotation, gateway, core, kms } = path;
  console.log('Part 1: ADR 0031 path (KMS-signed tokens, the gateway JWKS, Core on S2S_JWKS_URL)\n');
  console.log(
    `Lite KMS      127.0.0.1:${kms.server.port}  (@google-cloud/kms client, RSA_SIGN_PKCS1_2048_SHA256)`,
  );
  for (const v of kms.versions) console.log(`                ${v.kid}  <-  ${v.kmsKeyVersion}`);
  console.log(`Lite gateway  ${gateway.url}  (JWKS read from the KMS key versions)`);
  console.log(
    `Core          ${core.url}  (S2S_JWKS_URL=${gateway.jwksUrl}, replay store: ${core.database})\n`,
  );
  printSteps(steps);
  console.log('\nRotation in JWKS mode, under traffic (Core never restarted):');
  for (const line of rotation.timeline) console.log(`  ${line}`);
  const byKid = Object.entries(rotation.callsByKid).map(([kid, n]) => `${kid}: ${n}`);
  console.log(`  calls by kid: ${byKid.join(', ')}`);
  if (rotation.rejected > 0) console.log(`  rejections: ${JSON.stringify(rotation.rejections)}`);
  console.log(
    `  Core fetched the JWKS ${rotation.jwksFetches} times; serving it took ${rotation.kmsCallsForJwks} KMS calls`,
  );
  const late = rotation.retiredKid;
  console.log(
    `  a token of the retired ${late.kid} afterwards: ${late.status} ${late.reason} (expected 401 unknown_kid)`,
  );
  console.log(`rotation under traffic (JWKS mode): ${rotation.calls} calls, ${rotation.rejected} rejected\n`);
  return steps.filter((r) => !r.pass).length + (rotationPassed(path) ? 0 : 1);
}
