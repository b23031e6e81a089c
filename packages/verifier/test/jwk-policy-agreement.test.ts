import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { checkKeyset } from '@hyper/s2s-signer';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { file } from './harness/vectors.js';

// One key policy for every tool: `hyper-s2s-keys keyset check` (checkKeyset) reports no problem exactly
// when createVerifier accepts the keyset AND a token signed by each of its keys verifies.

interface PoolKey {
  readonly name: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, unknown>;
}

function poolKey(
  name: string,
  alg: 'RS256' | 'ES256',
  pair: { publicKey: KeyObject; privateKey: KeyObject },
) {
  return { name, alg, privateKey: pair.privateKey, jwk: pair.publicKey.export({ format: 'jwk' }) } as PoolKey;
}

const POOL: readonly PoolKey[] = [
  poolKey('rsa-2048-a', 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })),
  poolKey('rsa-2048-b', 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })),
  poolKey('rsa-1024', 'RS256', generateKeyPairSync('rsa', { modulusLength: 1024 })),
  poolKey('rsa-2048-e3', 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 })),
  poolKey('ec-p256-a', 'ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })),
  poolKey('ec-p256-b', 'ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })),
  poolKey('ec-p384', 'ES256', generateKeyPairSync('ec', { namedCurve: 'P-384' })),
];

const absent = Symbol('absent');
const member = <T>(...values: T[]) => fc.constantFrom<T | typeof absent>(absent, ...values);

/** A JWK built from a pool key with members a careless operator (or an attacker) might set. */
const jwkArbitrary = fc.record({
  key: fc.constantFrom(...POOL),
  // Conforming kids (the CLI's naming rule is the only check beyond the shared policy), missing or empty.
  kid: fc.constantFrom<string | typeof absent>('lite-2026-01', 'lite-2026-02', 'lite-2026-03', '', absent),
  alg: member('RS256', 'ES256', 'none', 'HS256'),
  use: member('sig', 'enc'),
  key_ops: member<unknown>(['verify'], ['sign'], ['verify', 'verify'], ['verify', 'sign'], [], 'verify', [1]),
  ext: member<unknown>(true, false, 'yes'),
  d: member('c2VjcmV0'),
});

type Generated = fc.Arbitrary<typeof jwkArbitrary extends fc.Arbitrary<infer T> ? T : never>;

function toJwk(generated: Generated extends fc.Arbitrary<infer T> ? T : never): Record<string, unknown> {
  const jwk: Record<string, unknown> = { ...generated.key.jwk };
  for (const name of ['kid', 'alg', 'use', 'key_ops', 'ext', 'd'] as const) {
    const value = generated[name];
    if (value !== absent) jwk[name] = value;
  }
  return jwk;
}

const call = { scope: 'spaces:create', path: '/integrations/spaces' };

/** createVerifier accepts the keyset and a token from each key verifies. */
async function verifierUsesEveryKey(keys: readonly { jwk: Record<string, unknown>; key: PoolKey }[]) {
  let verifier: ReturnType<typeof createVerifier>;
  try {
    verifier = createVerifier({
      keys: { jwks: { keys: keys.map((k) => k.jwk) } as never },
      audience: file.audience,
      issuers: [file.issuer],
      algorithms: ['RS256', 'ES256'],
      replayStore: memoryReplayStore(),
    });
  } catch {
    return false;
  }
  for (const { jwk, key } of keys) {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      iss: file.issuer,
      sub: 'hyper-lite-gateway',
      aud: file.audience,
      iat: now,
      nbf: now,
      exp: now + 60,
      scope: 'spaces:create',
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: jwk.kid as string })
      .sign(key.privateKey);
    if ((await verifier.verify(token, call)).status !== 200) return false;
  }
  return true;
}

describe('the keyset CLI and the verifier judge keys the same way', () => {
  it('keyset check reports no problem exactly when the verifier accepts the keyset and uses every key', async () => {
    const seen = { clean: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(jwkArbitrary, { minLength: 1, maxLength: 3 }), async (generated) => {
        const keys = generated.map((g) => ({ jwk: toJwk(g), key: g.key }));
        const clean = checkKeyset({ keys: keys.map((k) => k.jwk) }).length === 0;
        seen[clean ? 'clean' : 'refused']++;
        expect(await verifierUsesEveryKey(keys)).toBe(clean);
      }),
      {
        numRuns: 300,
        // Clean keysets are rare under uniform members: seed them so both sides of "exactly when" run.
        examples: [
          [
            [
              {
                key: POOL[0]!,
                kid: 'lite-2026-01',
                alg: absent,
                use: absent,
                key_ops: absent,
                ext: absent,
                d: absent,
              },
            ],
          ],
          [
            [
              {
                key: POOL[3]!,
                kid: 'lite-2026-02',
                alg: 'ES256',
                use: 'sig',
                key_ops: ['verify'],
                ext: true,
                d: absent,
              },
            ],
          ],
          [
            [
              {
                key: POOL[0]!,
                kid: 'lite-2026-01',
                alg: 'RS256',
                use: absent,
                key_ops: ['verify', 'verify'],
                ext: absent,
                d: absent,
              },
            ],
          ],
          [
            [
              {
                key: POOL[0]!,
                kid: 'lite-2026-01',
                alg: absent,
                use: absent,
                key_ops: absent,
                ext: 'yes',
                d: absent,
              },
            ],
          ],
          [
            [
              {
                key: POOL[0]!,
                kid: 'lite-2026-01',
                alg: absent,
                use: absent,
                key_ops: ['sign'],
                ext: absent,
                d: absent,
              },
            ],
          ],
        ],
      },
    );
    expect(seen.clean).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  }, 120_000);
});
