import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CLOCK_SKEW_SECONDS, KNOWN_SCOPES, REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { createSigner } from '@hyper/s2s-signer';
import { type MemoryReplayStore, memoryReplayStore } from '@hyper/s2s-verifier';

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

/** A memory replay store, and how to empty it between rounds. */
export interface RoundStore {
  readonly store: MemoryReplayStore;
  /** Forgets every jti, so the round's tokens are first presentations again. */
  empty(): Promise<void>;
}

/**
 * A memory replay store emptied between rounds, so one verifier serves a whole run, as a service keeps
 * one, and as the bench keeps one CryptoKey for jose. A new verifier per round would import a new
 * CryptoKey, and Node 20 gives every CryptoKey its own hidden class: the optimised code of everything
 * that touches the key (WebCrypto's getters, jose's key checks, the verifier's call into jose)
 * deoptimises and is compiled again, every round — a cost a service pays once, at start-up (perf:
 * 7.2 µs of compiler CPU per token at 64 in flight, 2026-12-03).
 */
export function roundStore(): RoundStore {
  let nowMs = Date.now();
  const store = memoryReplayStore({ now: () => nowMs });
  return {
    store,
    async empty() {
      // Every entry is kept until exp + retention, and the bench's tokens expire within MAX_TTL (+ skew)
      // of now: a full retention and a day more past now, every entry is past retention.
      nowMs = Date.now() + 2 * REPLAY_RETENTION_SECONDS * 1000;
      await store.runPurge();
      nowMs = Date.now();
      if (store.size !== 0) throw new Error(`the replay store kept ${store.size} entries after its purge`);
    },
  };
}
