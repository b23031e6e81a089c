import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CLOCK_SKEW_SECONDS, KNOWN_SCOPES } from '@hyper/s2s-contracts';
import { createSigner } from '@hyper/s2s-signer';

export const ISSUER = 'hyper-lite';
export const AUDIENCE = 'hyper-core';
export const KID = 'lite-2026-11';
export const SCOPE = KNOWN_SCOPES[0];

/** Bare jose jwtVerify's options wherever the bench compares against it: the contract's algorithm, issuer, audience and skew. */
export const JOSE_VERIFY_OPTIONS = {
  algorithms: ['RS256'],
  issuer: ISSUER,
  audience: AUDIENCE,
  clockTolerance: CLOCK_SKEW_SECONDS,
};

export interface Fixture {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privateKeyPem: string;
  publicKeyPem: string;
  signer: ReturnType<typeof createSigner>;
}

export function createFixture(): Fixture {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const signer = createSigner({
    key: { privateKeyPem, kid: KID },
    issuer: ISSUER,
    subject: 'hyper-lite-gateway',
    audience: AUDIENCE,
    ttlSeconds: 300,
  });
  return { privateKey, publicKey, privateKeyPem, publicKeyPem, signer };
}

/** Tokens valid now for the next ~6 minutes, each with its own jti. */
export async function mintTokens(fixture: Fixture, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) tokens.push(await fixture.signer.sign({ scope: SCOPE }));
  return tokens;
}
