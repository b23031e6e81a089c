import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createSigner, SignedFetchError } from '../src/index.js';
import { captureLogger } from './helpers/capture-logger.js';
import { AUDIENCE, ISSUER, RSA_KEY, SUBJECT } from './helpers/vectors.js';
import { until } from './helpers/wait.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

/** The hostile server in a separate process; resolves its base URL. */
async function startServer(bodyMb: number | 'endless'): Promise<string> {
  const child = spawn(
    process.execPath,
    [new URL('./helpers/hostile-body-server.mjs', import.meta.url).pathname],
    {
      env: { ...process.env, BODY_MB: String(bodyMb) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (data: Buffer) => resolve(data.toString().trim()));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}

function makeSigner() {
  const log = captureLogger();
  const signer = createSigner({
    key: { privateKeyPem: RSA_KEY.pkcs8Pem, kid: RSA_KEY.kid },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    logger: log.logger,
  });
  // The start-up warning for the contract's public test key (the vectors' key signs here) is not what
  // these tests read.
  log.entries.splice(0);
  return { signer, log };
}

const MB = 1024 * 1024;

const held = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/**
 * Runs `request` and reads its body to the end like a streaming caller, sampling peak RSS and held
 * memory from before the request (a sampler on a timer also sees growth while the call itself runs).
 */
async function drain(request: () => Promise<Response>) {
  const rss0 = process.memoryUsage().rss;
  const held0 = held();
  let rss = rss0;
  let heldPeak = held0;
  const sample = () => {
    rss = Math.max(rss, process.memoryUsage().rss);
    heldPeak = Math.max(heldPeak, held());
  };
  const sampler = setInterval(sample, 5);
  let received = 0;
  try {
    const reader = (await request()).body!.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      received += read.value.byteLength;
      sample();
    }
  } finally {
    clearInterval(sampler);
  }
  return { received, rssGrowthMb: (rss - rss0) / MB, heldGrowthMb: (heldPeak - held0) / MB };
}

describe('signer.fetch with hostile or broken responses', () => {
  it('returns a 401 with an endless body at once; the log line comes from the header, time-bounded', async () => {
    const base = await startServer('endless');
    const { signer, log } = makeSigner();
    let returned = false;
    const pending = signer.fetch(`${base}/integrations/spaces`, undefined, { scope: 'spaces:create' });
    void pending.then(() => {
      returned = true;
    });
    await until(() => returned, 'signer.fetch to return the Response');
    const response = await pending;
    expect(response.status).toBe(401);
    await until(() => log.entries.length === 1, 'the rejection log line');
    expect(log.entries[0]!.obj).toMatchObject({ status: 401, reason: 'replayed_token' });
    await response.body?.cancel();
  });

  it('keeps memory growth under 50 MB while the caller streams a 200 MB 401 body', async () => {
    const base = await startServer(200);
    const { signer, log } = makeSigner();
    // Control: plain fetch streaming the same body. Undici's churn alone raises RSS by tens of MB here
    // (freed, not held), so RSS is compared with it; held memory (JS heap + ArrayBuffers) is absolute.
    const control = await drain(() => fetch(`${base}/control`));
    const measured = await drain(() =>
      signer.fetch(`${base}/integrations/spaces`, undefined, { scope: 'spaces:create' }),
    );
    expect(control.received).toBe(200 * MB);
    expect(measured.received).toBe(200 * MB);
    expect(measured.heldGrowthMb).toBeLessThan(50);
    expect(measured.rssGrowthMb - control.rssGrowthMb).toBeLessThan(50);
    await until(() => log.entries.length === 1, 'the rejection log line');
    // Too big to be Core's body: the reason comes from WWW-Authenticate.
    expect(log.entries[0]!.obj).toMatchObject({ status: 401, reason: 'replayed_token' });
  }, 60_000);

  it('a network failure is a typed error naming the endpoint and the cause, never the token', async () => {
    // A port that was free a moment ago: connection refused.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const { signer } = makeSigner();
    const error = await signer
      .fetch(
        `http://127.0.0.1:${port}/integrations/spaces?space=secret-id`,
        { method: 'post' },
        {
          scope: 'spaces:create',
        },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignedFetchError);
    expect(error).toMatchObject({
      code: 'ERR_S2S_FETCH_FAILED',
      endpoint: `http://127.0.0.1:${port}/integrations/spaces`,
    });
    const text = `${(error as Error).message} ${inspect(error, { depth: 10 })}`;
    expect((error as Error).message).toContain(`POST http://127.0.0.1:${port}/integrations/spaces`);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(text).not.toMatch(/Bearer|eyJ|secret-id/);
  });
});
