/**
 * Part 1 of `pnpm demo`, ADR 0031's own path: Lite signs through Cloud KMS (the real @google-cloud/kms
 * client against the local KMS test server, two RSA key versions), the gateway publishes the JWKS read
 * from the KMS key versions, Core verifies with S2S_JWKS_URL pointing at the gateway, replay in
 * Postgres. Then the JWKS-mode rotation runs under traffic.
 */
import type { Reason } from '@hyper/s2s-contracts';
import type { KeySetDocument, Signer } from '@hyper/s2s-signer';
import { TUNING_ENV } from '@hyper/s2s-verifier';
import { type CoreServer, ROUTES, startCore } from './core.js';
import { liteSigner } from './gateway.js';
import { type JwksGateway, startJwksGateway } from './jwks-gateway.js';
import { generateLiteKey, kidForMonth } from './keys.js';
import { type LiteKms, startLiteKms } from './kms-setup.js';
import { type RotationUnderTrafficReport, runRotationUnderTraffic } from './rotation-under-traffic.js';
import type { StepResult } from './scenario.js';

/**
 * The production timeline (README "Key rotation runbook in JWKS mode") compressed to seconds so the demo runs
 * it whole: JWKS max-age and Core's cache age 2 s (production: 300 s), token TTL 2 s (up to 300 s), a
 * switch that reaches every worker within 2 s, and 1 s of skew allowance (the contract's is 60 s;
 * these tokens are presented the moment they are signed). The arithmetic is the same.
 */
export const DEMO_TIMINGS = {
  maxAgeSeconds: 2,
  verifierCacheSeconds: 2,
  switchPropagationSeconds: 2,
  maxTtlSeconds: 2,
  clockSkewSeconds: 1,
} as const;

export interface AdrPath {
  readonly core: CoreServer;
  readonly gateway: JwksGateway;
  readonly kms: LiteKms;
  readonly steps: StepResult[];
  readonly rotation: RotationUnderTrafficReport;
  close(): Promise<void>;
}

type Path = keyof typeof ROUTES;
const SPACES: Path = '/integrations/spaces';
const JOIN_TOKENS: Path = '/integrations/join-tokens';

export async function runAdrPath(options: { minCalls?: number } = {}): Promise<AdrPath> {
  const kms = await startLiteKms();
  const [current, next] = kms.versions;
  // What the operator keeps (hyper-s2s-keys rotation init): version 1 is this month's kid, signing now.
  const document: KeySetDocument = {
    maxAgeSeconds: DEMO_TIMINGS.maxAgeSeconds,
    verifierCacheSeconds: DEMO_TIMINGS.verifierCacheSeconds,
    switchPropagationSeconds: DEMO_TIMINGS.switchPropagationSeconds,
    current,
  };
  const gateway = await startJwksGateway(kms, document, {
    maxTtlSeconds: DEMO_TIMINGS.maxTtlSeconds,
    clockSkewSeconds: DEMO_TIMINGS.clockSkewSeconds,
    ttlSeconds: DEMO_TIMINGS.maxTtlSeconds,
  });
  const core = await startCore({
    jwksUrl: gateway.jwksUrl,
    tuning: { [TUNING_ENV.jwksCacheMaxAgeMs]: String(DEMO_TIMINGS.verifierCacheSeconds * 1000) },
  });
  const close = async () => {
    await core.close();
    await gateway.close();
    await kms.close();
  };
  try {
    await core.verifier.warmup();
    const steps = await contractSteps(core, gateway);
    const rotation = await runRotationUnderTraffic({
      core,
      gateway,
      next,
      ...(options.minCalls === undefined ? {} : { minCalls: options.minCalls }),
    });
    return { core, gateway, kms, steps, rotation, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function contractSteps(core: CoreServer, gateway: JwksGateway): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const expect = async (
    step: string,
    status: number,
    reason: Reason | 'ok',
    call: () => Promise<Response>,
  ) => {
    const response = await call();
    const body = (await response.json().catch(() => ({}))) as { reason?: string };
    const got = response.ok ? 'ok' : (body.reason ?? 'unknown');
    results.push({
      step,
      expected: { status, reason },
      status: response.status,
      reason: got,
      pass: response.status === status && got === reason,
    });
  };
  const callWith = (signer: Signer, path: Path, scope: string) => () =>
    signer.fetch(`${core.url}${path}`, { method: 'POST' }, { scope });
  const present = (token: string, path: Path) => () =>
    fetch(`${core.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const kid = gateway.keySet.current.kid;
  const kmsSigner = gateway.signer;

  await expect(`KMS-signed (${kid}), create a space`, 201, 'ok', callWith(kmsSigner, SPACES, ROUTES[SPACES]));
  await expect(
    'KMS-signed, issue a join token',
    201,
    'ok',
    callWith(kmsSigner, JOIN_TOKENS, ROUTES[JOIN_TOKENS]),
  );
  await expect(
    'KMS-signed, wrong scope for the endpoint',
    403,
    'insufficient_scope',
    callWith(kmsSigner, SPACES, ROUTES[JOIN_TOKENS]),
  );
  const once = await kmsSigner.sign({ scope: ROUTES[SPACES] });
  await expect('KMS-signed token, first presentation', 201, 'ok', present(once, SPACES));
  await expect('KMS-signed token again (replay)', 401, 'replayed_token', present(once, SPACES));
  const stale = gateway.signerFor(kid, { now: () => Date.now() - 10 * 60_000 });
  await expect(
    'KMS-signed, expired ten minutes ago',
    401,
    'expired_signature',
    callWith(stale, SPACES, ROUTES[SPACES]),
  );
  const stranger = liteSigner(generateLiteKey(kidForMonth(-24)));
  await expect('kid not in the gateway JWKS', 401, 'unknown_kid', callWith(stranger, SPACES, ROUTES[SPACES]));
  return results;
}
