import { execFile } from 'node:child_process';
import { verify as cryptoVerify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CLOCK_SKEW_SECONDS } from '@hyper/s2s-contracts';
import { createVerifier } from '@hyper/s2s-verifier';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { createVerifier as createFastJwtVerifier } from 'fast-jwt';
import { importSPKI, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import {
  AUDIENCE,
  createFixture,
  ISSUER,
  JOSE_VERIFY_OPTIONS,
  mintTokens,
  roundStore,
  SCOPE,
} from './fixtures.js';
import { type Candidate, type Measurement, measure } from './harness.js';

export interface VerifySuiteResult {
  concurrency: number;
  results: Measurement[];
}

export async function verifySuite(concurrencies: number[], opsPerRound: number, rounds: number) {
  const fixture = createFixture();
  const jwks = await fixture.signer.jwks();
  const joseKey = await importSPKI(fixture.publicKeyPem, 'RS256');
  const fastJwt = createFastJwtVerifier({
    key: fixture.publicKeyPem,
    algorithms: ['RS256'],
    cache: false,
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    clockTolerance: CLOCK_SKEW_SECONDS * 1000,
  });
  const aws = JwtRsaVerifier.create({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: 'https://jwks.invalid/.well-known/jwks.json',
  });
  aws.cacheJwks(jwks as never);

  const out: VerifySuiteResult[] = [];
  for (const concurrency of concurrencies) {
    // Fresh tokens per suite: every peer checks exp against the real clock.
    const tokens = await mintTokens(fixture, opsPerRound);
    let i = 0;
    const nextToken = () => tokens[i++ % tokens.length]!;
    // One verifier per suite, as jose has one CryptoKey (see roundStore).
    const replay = roundStore();
    const verifier = createVerifier({
      keys: { jwks },
      audience: AUDIENCE,
      issuers: [ISSUER],
      replayStore: replay.store,
    });
    const check = (ok: boolean, name: string) => {
      if (!ok) throw new Error(`${name} rejected a valid token`);
    };
    const candidates: Candidate[] = [
      {
        name: '@hyper/s2s-verifier (full policy)',
        setup: async () => {
          // The same tokens are first presentations again.
          await replay.empty();
          i = 0;
        },
        op: async () =>
          check((await verifier.verify(nextToken(), { scope: SCOPE, path: '/bench' })).ok, 'verifier'),
      },
      {
        name: 'jose jwtVerify',
        setup: () => {
          i = 0;
        },
        op: async () => jwtVerify(nextToken(), joseKey, JOSE_VERIFY_OPTIONS),
      },
      { name: 'fast-jwt (cache off)', op: () => fastJwt(nextToken()) },
      {
        name: 'jsonwebtoken (KeyObject)',
        op: () =>
          jsonwebtoken.verify(nextToken(), fixture.publicKey, {
            algorithms: ['RS256'],
            issuer: ISSUER,
            audience: AUDIENCE,
            clockTolerance: CLOCK_SKEW_SECONDS,
          }),
      },
      { name: 'aws-jwt-verify (cacheJwks)', op: () => aws.verifySync(nextToken()) },
      {
        name: 'raw node:crypto verify',
        op: () => {
          const t = nextToken();
          const dot = t.lastIndexOf('.');
          check(
            cryptoVerify(
              'sha256',
              Buffer.from(t.slice(0, dot)),
              fixture.publicKey,
              Buffer.from(t.slice(dot + 1), 'base64url'),
            ),
            'crypto',
          );
        },
      },
    ];
    out.push({
      concurrency,
      results: await measure(candidates, {
        concurrency,
        opsPerRound,
        rounds,
        warmupOps: opsPerRound,
        cpuBreakdown: {},
      }),
    });
  }
  return out;
}

const VERIFY_ONLY = fileURLToPath(new URL('./verify-only.ts', import.meta.url));

const CHILD_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * The same suite in a child process whose libuv pool has `poolSize` threads. UV_THREADPOOL_SIZE is read
 * once, when the pool first starts, so it cannot change within one process.
 */
export async function verifySuiteInChild(
  poolSize: number,
  concurrencies: number[],
  opsPerRound: number,
  rounds: number,
): Promise<VerifySuiteResult[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      VERIFY_ONLY,
      '--json',
      '--in-flight',
      concurrencies.join(','),
      '--ops',
      String(opsPerRound),
      '--rounds',
      String(rounds),
    ],
    {
      // tsx resolves from the bench package, wherever the bench was started from.
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, UV_THREADPOOL_SIZE: String(poolSize) },
      maxBuffer: 16 * 1024 * 1024,
      // A child that hangs must not hang the bench: the suite takes about a minute here.
      timeout: CHILD_TIMEOUT_MS,
    },
  );
  return JSON.parse(stdout) as VerifySuiteResult[];
}
