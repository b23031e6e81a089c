import type { Reason } from '@hyper/s2s-contracts';
import type { Jwks, Signer } from '@hyper/s2s-signer';
import { type CoreServer, ROUTES } from './core.js';
import { type LiteGateway, liteSigner } from './gateway.js';
import { generateLiteKey, kidForMonth } from './keys.js';

export interface StepResult {
  step: string;
  expected: { status: number; reason: Reason | 'ok' };
  status: number;
  reason: string;
  pass: boolean;
}

/** One table for every part of the demo: PASS or FAIL first, then what happened and what the contract expects. */
export function printSteps(results: readonly StepResult[]): void {
  const width = Math.max(...results.map((r) => r.step.length));
  const line = (...cells: string[]) => console.log(cells.join('  ').trimEnd());
  line('pass', 'step'.padEnd(width), 'status', 'reason'.padEnd(21), 'expected');
  for (const r of results) {
    line(
      r.pass ? 'PASS' : 'FAIL',
      r.step.padEnd(width),
      String(r.status).padEnd(6),
      r.reason.padEnd(21),
      `${r.expected.status} ${r.expected.reason}`,
    );
  }
}

type Path = keyof typeof ROUTES;
const SPACES: Path = '/integrations/spaces';
const JOIN_TOKENS: Path = '/integrations/join-tokens';

async function reasonOf(response: Response): Promise<string> {
  const body = (await response.json().catch(() => ({}))) as { reason?: string };
  return response.ok ? 'ok' : (body.reason ?? 'unknown');
}

/** Walks the contract from Lite to Core: every call and every rotation step, with what it must answer. */
export async function runScenario(
  core: CoreServer,
  lite: LiteGateway,
  currentKey: { kid: string; privateKeyPem: string },
) {
  const results: StepResult[] = [];
  const expect = async (
    step: string,
    status: number,
    reason: Reason | 'ok',
    call: () => Promise<Response>,
  ) => {
    const response = await call();
    const got = await reasonOf(response);
    results.push({
      step,
      expected: { status, reason },
      status: response.status,
      reason: got,
      pass: response.status === status && got === reason,
    });
  };
  // The signer's fetch helper: a fresh token per request, Authorization: Bearer, rejections logged.
  const callWith = (signer: Signer, path: Path, scope: string) => () =>
    signer.fetch(`${core.url}${path}`, { method: 'POST' }, { scope });
  const present = (token: string, path: Path) => () =>
    fetch(`${core.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });

  await expect('create a space (spaces:create)', 201, 'ok', callWith(lite.signer, SPACES, ROUTES[SPACES]));
  await expect(
    'issue a join token (join_tokens:issue)',
    201,
    'ok',
    callWith(lite.signer, JOIN_TOKENS, ROUTES[JOIN_TOKENS]),
  );
  await expect(
    'wrong scope for the endpoint',
    403,
    'insufficient_scope',
    callWith(lite.signer, SPACES, ROUTES[JOIN_TOKENS]),
  );

  const once = await lite.signer.sign({ scope: ROUTES[SPACES] });
  await expect('first presentation of a token', 201, 'ok', present(once, SPACES));
  await expect('same token again (replay)', 401, 'replayed_token', present(once, SPACES));

  const stale = liteSigner(currentKey, { now: () => Date.now() - 10 * 60_000 });
  await expect(
    'token expired ten minutes ago',
    401,
    'expired_signature',
    callWith(stale, SPACES, ROUTES[SPACES]),
  );

  const stranger = liteSigner(generateLiteKey(kidForMonth(-24)));
  await expect('kid not in Core keyset', 401, 'unknown_kid', callWith(stranger, SPACES, ROUTES[SPACES]));

  const impostor = liteSigner(currentKey, { issuer: 'hyper-impostor' });
  await expect('issuer not allowed', 401, 'invalid_issuer', callWith(impostor, SPACES, ROUTES[SPACES]));

  // Rotation runbook (contract "Key rotation procedure").
  const nextKey = generateLiteKey(kidForMonth(1));
  const nextSigner = liteSigner(nextKey);
  const oldSigner = lite.signer;
  const bothKeys: Jwks = { keys: [...core.keyset.keys, ...(await nextSigner.jwks()).keys] };
  core.deploy(bothKeys);
  await expect(
    `rotation 1: Core has both kids, old kid ${currentKey.kid} still accepted`,
    201,
    'ok',
    callWith(oldSigner, SPACES, ROUTES[SPACES]),
  );
  lite.switchKey(nextKey);
  await expect(
    `rotation 2: Lite signs with ${nextKey.kid}`,
    201,
    'ok',
    callWith(lite.signer, SPACES, ROUTES[SPACES]),
  );
  await expect(
    'rotation 2: a straggler worker with the old kid still accepted',
    201,
    'ok',
    callWith(oldSigner, JOIN_TOKENS, ROUTES[JOIN_TOKENS]),
  );
  core.deploy({ keys: bothKeys.keys.filter((k) => k.kid !== currentKey.kid) });
  await expect(
    `rotation 3: old kid removed, ${currentKey.kid} refused`,
    401,
    'unknown_kid',
    callWith(oldSigner, SPACES, ROUTES[SPACES]),
  );
  await expect(
    'rotation 3: the new kid keeps working',
    201,
    'ok',
    callWith(lite.signer, JOIN_TOKENS, ROUTES[JOIN_TOKENS]),
  );
  return results;
}
