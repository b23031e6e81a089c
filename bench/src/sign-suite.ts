import { sign as cryptoSign } from 'node:crypto';
import { createSigner } from '@hyper/s2s-signer';
import { startKmsTestServer } from '@hyper/s2s-signer/testing';
import { AUDIENCE, createFixture, ISSUER, KID, SCOPE } from './fixtures.js';
import { type Measurement, measure, percentile } from './harness.js';

export async function pemSignSuite(opsPerRound: number, rounds: number): Promise<Measurement[]> {
  const fixture = createFixture();
  // The same signing input size a real token has, so raw crypto.sign does the same RSA work.
  const sample = await fixture.signer.sign({ scope: SCOPE });
  const input = Buffer.from(sample.slice(0, sample.lastIndexOf('.')));
  return measure(
    [
      { name: '@hyper/s2s-signer sign() (PEM)', op: () => fixture.signer.sign({ scope: SCOPE }) },
      {
        name: 'raw node:crypto sign',
        op: () => cryptoSign('sha256', input, fixture.privateKey).toString('base64url'),
      },
    ],
    { concurrency: 1, opsPerRound, rounds },
  );
}

export interface KmsSuiteResult {
  latencyMs: number;
  results: Measurement[];
  kmsCalls: Record<string, number>;
  tokens: number;
}

export async function kmsSignSuite(latencyMs: number, tokens: number): Promise<KmsSuiteResult> {
  const server = await startKmsTestServer();
  const keyVersionName = 'projects/p/locations/global/keyRings/r/cryptoKeys/lite/cryptoKeyVersions/1';
  server.addKey(keyVersionName, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
  const client = server.client();
  const base = { issuer: ISSUER, subject: 'hyper-lite-gateway', audience: AUDIENCE };
  const direct = createSigner({ ...base, key: { kms: { keyVersionName, client }, kid: KID } });
  const pooled = createSigner({
    ...base,
    key: { kms: { keyVersionName, client }, kid: KID },
    prefetch: { size: 64, maxAgeSeconds: 30 },
  });
  try {
    // Key checks (getPublicKey) and the pool's first fill happen before measuring.
    await direct.sign({ scope: SCOPE });
    await pooled.sign({ scope: SCOPE });
    await new Promise((r) => setTimeout(r, 500));
    server.setFaults({ latencyMs });
    const callsBefore = server.calls.asymmetricSign;
    // Calls arrive paced like request traffic (one every 5 ms), so the pool's background refill can
    // keep up; only the sign() call itself is timed.
    const paced = async (name: string, signer: typeof direct): Promise<Measurement> => {
      const samples: number[] = [];
      const started = performance.now();
      for (let i = 0; i < tokens; i++) {
        const t0 = performance.now();
        await signer.sign({ scope: SCOPE });
        samples.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 5));
      }
      samples.sort((a, b) => a - b);
      return {
        name,
        opsPerSec: (tokens / (performance.now() - started)) * 1000,
        p50Ms: percentile(samples, 50),
        p99Ms: percentile(samples, 99),
        rounds: [],
      };
    };
    const unpooled = await paced(`KMS sign(), no pool (${latencyMs} ms KMS)`, direct);
    const directCalls = server.calls.asymmetricSign - callsBefore;
    const pooledResult = await paced(`KMS sign(), pool of 64 (${latencyMs} ms KMS)`, pooled);
    return {
      latencyMs,
      results: [unpooled, pooledResult],
      kmsCalls: { direct: directCalls, pooled: server.calls.asymmetricSign - callsBefore - directCalls },
      tokens,
    };
  } finally {
    await pooled.close?.();
    await direct.close?.();
    await server.close();
  }
}
