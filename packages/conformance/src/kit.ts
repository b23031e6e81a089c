import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ENV, loadVectors, type VectorFile } from '@hyper/s2s-contracts';

/** The canonical vectors: their public keyset and TEST-ONLY private keys are the kit's keys. */
export const vectorFile: VectorFile = loadVectors();

/** Every issuer the target must allow: the vectors' issuer and those the sequences add. */
export function kitIssuers(): string[] {
  const issuers = new Set([vectorFile.issuer]);
  for (const sequence of vectorFile.sequences)
    for (const issuer of sequence.issuers ?? []) issuers.add(issuer);
  return [...issuers];
}

/** The private key of a test kid (the vector file publishes them for exactly this). */
export function testPrivateKey(kid: string): KeyObject {
  const entry = vectorFile.testPrivateKeys.keys.find((key) => key.kid === kid);
  if (!entry) throw new Error(`the vector file has no test key ${kid}`);
  return createPrivateKey(entry.pkcs8Pem);
}

/** SPKI PEM of a test kid's public key (the secret of the HS256 algorithm-confusion forgery). */
export function testPublicKeyPem(kid: string): string {
  return createPublicKey(testPrivateKey(kid)).export({ type: 'spki', format: 'pem' }) as string;
}

/** What the target Core must be configured with, as `NAME=value` pairs (dotenv). */
export function kitEnvironment(jwksUrl?: string): Record<string, string> {
  return {
    ...(jwksUrl === undefined
      ? { [ENV.publicKeysJson]: JSON.stringify(vectorFile.jwks) }
      : { [ENV.jwksUrl]: jwksUrl }),
    [ENV.audience]: vectorFile.audience,
    [ENV.allowedIssuers]: kitIssuers().join(','),
  };
}

/** dotenv text: single-quoted values (the JSON keyset has no single quote). */
export function toDotenv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `${name}='${value}'`)
    .join('\n')
    .concat('\n');
}
