import { afterEach, describe, expect, it, vi } from 'vitest';
import { rejectionReason } from '../src/rejection-reason.js';

/** The bound rejection-reason.ts puts on reading a body (BODY_READ_TIMEOUT_MS). */
const BODY_READ_TIMEOUT_MS = 2000;

const HEADERS = {
  'content-type': 'application/json',
  'www-authenticate': 'Bearer error="invalid_token", error_description="expired_signature"',
};

/** A 401 whose body sends `chunks` and then stalls (never ends); records when its source is cancelled. */
function stallingResponse(chunks: string[] = []) {
  const source = { cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
    },
    cancel() {
      source.cancelled = true;
    },
  });
  return { response: new Response(body, { status: 401, headers: HEADERS }), source };
}

/** Whether `promise` has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return done;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('rejectionReason', () => {
  it("takes the contract reason from Core's JSON body, leaving the body to the caller", async () => {
    const response = new Response('{"reason":"replayed_token"}', { status: 401, headers: HEADERS });
    await expect(rejectionReason(response)).resolves.toBe('replayed_token');
    await expect(response.json()).resolves.toEqual({ reason: 'replayed_token' });
  });

  it('gives up on a stalled body after BODY_READ_TIMEOUT_MS, falls back to the header, and cancels its read', async () => {
    // The deadline helper reads the monotonic clock and runs on timers: both are faked. The module is
    // loaded afresh so its shared body-read timer is armed on the fake timers, not left from a test above.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    vi.resetModules();
    const fresh = await import('../src/rejection-reason.js');
    const { response, source } = stallingResponse(['{"reason":']);
    const reason = fresh.rejectionReason(response);
    await vi.advanceTimersByTimeAsync(BODY_READ_TIMEOUT_MS - 1);
    expect(await settled(reason)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(reason)).toBe(true);
    await expect(reason).resolves.toBe('expired_signature');
    // The clone's branch was cancelled by rejectionReason: once the caller drops its own branch too,
    // nothing holds the source open.
    expect(source.cancelled).toBe(false);
    expect(await settled(response.body!.cancel())).toBe(true);
    expect(source.cancelled).toBe(true);
  });

  it('does not read past 16 KiB: an oversized body falls back to the header without waiting for its end', async () => {
    const { response, source } = stallingResponse([
      `{"reason":"replayed_token","pad":"${'a'.repeat(17_000)}"}`,
    ]);
    await expect(rejectionReason(response)).resolves.toBe('expired_signature');
    expect(await settled(response.body!.cancel())).toBe(true);
    expect(source.cancelled).toBe(true);
  });

  it('answers "unknown" for a broken body with no usable header', async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('connection reset'));
      },
    });
    const response = new Response(body, { status: 503, headers: { 'content-type': 'application/json' } });
    await expect(rejectionReason(response)).resolves.toBe('unknown');
  });
});
