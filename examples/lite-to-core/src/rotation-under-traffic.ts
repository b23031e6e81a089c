/**
 * Rotation under traffic, JWKS mode: several Lite workers call Core without pause while the gateway
 * publishes the next KMS key version, switches signing to it (workers pick the switch up one by one,
 * the last ones well after the others), keeps the previous key until its last token is dead, and
 * retires it. Core is never restarted or reconfigured: it only re-reads S2S_JWKS_URL.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeySetDocumentKey } from '@hyper/s2s-signer';
import { type CoreServer, ROUTES } from './core.js';
import type { JwksGateway } from './jwks-gateway.js';

export interface RotationUnderTrafficOptions {
  core: CoreServer;
  gateway: JwksGateway;
  /** The key version that becomes the next kid. */
  next: KeySetDocumentKey;
  /** Worker i picks up the switch this long after it happens; the longest must fit switchPropagationSeconds. */
  switchDelaysMs?: readonly number[];
  /** Keep calling until at least this many calls were made (and the timeline is done). */
  minCalls?: number;
  /** Gives up (and reports what it has) after this long. */
  deadlineMs?: number;
}

export interface RotationUnderTrafficReport {
  calls: number;
  rejected: number;
  /** `<status> <reason>` -> count, for the rejected calls. */
  rejections: Record<string, number>;
  /** Calls made with each kid. */
  callsByKid: Record<string, number>;
  /** What happened when, in ms from the start. */
  timeline: string[];
  /** Core's fetches of the gateway JWKS during the run. */
  jwksFetches: number;
  /** KMS calls the JWKS endpoint made during the run (GetCryptoKeyVersion + GetPublicKey). */
  kmsCallsForJwks: number;
  /** A token of the retired kid, once Core's cache has refreshed: must be 401 unknown_kid. */
  retiredKid: { kid: string; status: number; reason: string };
}

const DEFAULT_SWITCH_DELAYS_MS = [0, 250, 700, 1500];
const SPACES = '/integrations/spaces' satisfies keyof typeof ROUTES;
/** Timer slack: sleeping until an instant wakes at or a little after it, never well before. */
const MARGIN_MS = 100;

export async function runRotationUnderTraffic(
  options: RotationUnderTrafficOptions,
): Promise<RotationUnderTrafficReport> {
  const { core, gateway, next } = options;
  const { keySet } = gateway;
  const delays = options.switchDelaysMs ?? DEFAULT_SWITCH_DELAYS_MS;
  const minCalls = options.minCalls ?? 500;
  const { switchPropagationSeconds, verifierCacheSeconds } = keySet.timings;
  if (Math.max(...delays) > switchPropagationSeconds * 1000) {
    throw new RangeError(
      'a worker would switch later than the key set allows for (switchPropagationSeconds)',
    );
  }
  const started = performance.now();
  const deadline = started + (options.deadlineMs ?? 120_000);
  const timeline: string[] = [];
  const log = (line: string) =>
    timeline.push(`+${String(Math.round(performance.now() - started)).padStart(5)} ms  ${line}`);
  const untilWallClock = (epochMs: number) => sleep(Math.max(0, epochMs - Date.now()) + MARGIN_MS);

  const oldKid = keySet.current.kid;
  const workerKid = delays.map(() => oldKid);
  const rejections: Record<string, number> = {};
  const callsByKid: Record<string, number> = {};
  let calls = 0;
  let rejected = 0;
  let stop = false;
  const jwksBefore = gateway.jwksRequests;
  const kmsBefore = gateway.kmsCallsForJwks;

  const worker = async (i: number) => {
    while (!stop && performance.now() < deadline) {
      const kid = workerKid[i]!;
      const response = await gateway
        .signerFor(kid)
        .fetch(`${core.url}${SPACES}`, { method: 'POST' }, { scope: ROUTES[SPACES] });
      const body = (await response.json().catch(() => ({}))) as { reason?: string };
      calls++;
      callsByKid[kid] = (callsByKid[kid] ?? 0) + 1;
      if (response.status !== 201) {
        rejected++;
        const key = `${response.status} ${body.reason ?? 'unknown'}`;
        rejections[key] = (rejections[key] ?? 0) + 1;
      }
    }
  };
  log(`traffic starts: ${delays.length} workers sign with ${oldKid}`);
  const workers = delays.map((_, i) => worker(i));

  await sleep(500);
  // 1. Publish next: the JWKS now carries both kids; nobody signs with the new one yet.
  // Lite loads (and checks) the new version's public key before it is published.
  await gateway.signerFor(next.kid).jwks();
  const { switchNotBefore } = keySet.publishNext(gateway.publishable(next));
  log(
    `publish next: ${next.kid} = ${next.kmsKeyVersion.split('/').slice(-2).join(' ')}; switch not before +${verifierCacheSeconds} s (verifier cache age)`,
  );

  // 2. Wait out the verifier cache age: every Core replica has refetched and knows the new kid.
  await untilWallClock(switchNotBefore);
  const { retireAt } = keySet.switchToNext();
  log(
    `switch: gateway signs with ${next.kid}; ${oldKid} retires at +${Math.round((retireAt - Date.now()) / 1000)} s`,
  );

  // 3. Workers pick the switch up one by one; the last ones keep signing with the old kid for a while.
  await Promise.all(
    delays.map(async (delay, i) => {
      await sleep(delay);
      workerKid[i] = next.kid;
      log(`worker ${i} now signs with ${next.kid}`);
    }),
  );

  // 4. Retire the previous key once its last token is dead; then give Core one cache age to notice.
  await untilWallClock(retireAt);
  const published = (await keySet.jwks()).keys.map((k) => k.kid);
  log(`retire: ${oldKid} leaves the JWKS (published: ${published.join(', ')})`);
  await sleep(verifierCacheSeconds * 1000 + MARGIN_MS);
  while (calls < minCalls && performance.now() < deadline) await sleep(50);
  stop = true;
  await Promise.all(workers);
  log(`traffic stops: ${calls} calls, ${rejected} rejected`);

  const jwksFetches = gateway.jwksRequests - jwksBefore;
  const kmsCallsForJwks = gateway.kmsCallsForJwks - kmsBefore;

  const late = await gateway
    .signerFor(oldKid)
    .fetch(`${core.url}${SPACES}`, { method: 'POST' }, { scope: ROUTES[SPACES] });
  const lateBody = (await late.json().catch(() => ({}))) as { reason?: string };
  return {
    calls,
    rejected,
    rejections,
    callsByKid,
    timeline,
    jwksFetches,
    kmsCallsForJwks,
    retiredKid: { kid: oldKid, status: late.status, reason: lateBody.reason ?? 'ok' },
  };
}
