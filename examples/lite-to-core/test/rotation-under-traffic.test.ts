import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdrPath, runAdrPath } from '../src/adr-path.js';
import { MIN_ROTATION_CALLS, rotationPassed } from '../src/adr-report.js';
import { liteAuthLog } from '../src/gateway.js';

// The same run as `pnpm demo` part 1: KMS-signed tokens, the gateway's JWKS from KMS, Core on
// S2S_JWKS_URL, and the whole JWKS-mode rotation under traffic without restarting Core.
describe('the ADR path and rotation under traffic (JWKS mode)', { timeout: 240_000 }, () => {
  let path: AdrPath;

  beforeAll(async () => {
    path = await runAdrPath({ minCalls: MIN_ROTATION_CALLS });
  }, 240_000);
  afterAll(async () => {
    await path?.close();
  });

  it('walks the contract steps with KMS-signed tokens verified through S2S_JWKS_URL', () => {
    expect(path.steps.filter((r) => !r.pass)).toEqual([]);
    expect(path.steps.length).toBeGreaterThanOrEqual(7);
  });

  it(`rotates with at least ${MIN_ROTATION_CALLS} calls and none rejected`, () => {
    const { rotation } = path;
    expect(rotation.rejections).toEqual({});
    expect(rotation.rejected).toBe(0);
    expect(rotation.calls).toBeGreaterThanOrEqual(MIN_ROTATION_CALLS);
    expect(rotationPassed(path)).toBe(true);
  });

  it('used both kids under traffic, and the retired kid is refused once Core has refetched', () => {
    const [current, next] = path.kms.versions;
    const { callsByKid, retiredKid } = path.rotation;
    expect(callsByKid[current.kid]).toBeGreaterThan(0);
    expect(callsByKid[next.kid]).toBeGreaterThan(0);
    expect(retiredKid).toEqual({ kid: current.kid, status: 401, reason: 'unknown_kid' });
  });

  it('Core re-read the JWKS on its own; the JWKS took a bounded number of KMS calls', () => {
    const { jwksFetches, kmsCallsForJwks } = path.rotation;
    expect(jwksFetches).toBeGreaterThanOrEqual(2);
    // One GetCryptoKeyVersion and one GetPublicKey for the version published next, within the recheck
    // interval: the JWKS requests themselves cost no KMS call.
    expect(kmsCallsForJwks).toBeLessThanOrEqual(2);
  });

  it('logs no raw token on the Lite side', () => {
    expect(JSON.stringify(liteAuthLog.entries)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });
});
