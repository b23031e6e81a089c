import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { VERIFY_CHANNEL, type VerifyEvent } from '../src/diagnostics.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };

let key: TestKey;
let events: VerifyEvent[] = [];
const listener = (message: unknown) => events.push(message as VerifyEvent);

beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});
afterEach(() => {
  unsubscribe(VERIFY_CHANNEL, listener);
  events = [];
  vi.restoreAllMocks();
});

describe(`diagnostics_channel ${VERIFY_CHANNEL}`, () => {
  it('publishes one event per verification: status, reason, path, scope, kid, duration', async () => {
    subscribe(VERIFY_CHANNEL, listener);
    const verifier = liveVerifier();
    const token = await sign(key, nowSeconds());
    await verifier.verify(token, endpoint);
    await verifier.verify(token, endpoint);
    await verifier.verify(await sign(key, nowSeconds(), { scope: 'join_tokens:issue' }), endpoint);
    await liveVerifier({ replayStore: downStore }).verify(await sign(key, nowSeconds()), endpoint);
    expect(events.map(({ durationMs, ...rest }) => rest)).toEqual([
      { status: 200, reason: 'ok', ...endpoint, kid: 'lite-2026-03' },
      { status: 401, reason: 'replayed_token', ...endpoint, kid: 'lite-2026-03' },
      { status: 403, reason: 'insufficient_scope', ...endpoint, kid: 'lite-2026-03' },
      { status: 503, reason: 'replay_store_unavailable', ...endpoint, kid: 'lite-2026-03' },
    ]);
    for (const event of events) {
      expect(Number.isFinite(event.durationMs)).toBe(true);
      expect(event.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('never carries the token or any part of it', async () => {
    subscribe(VERIFY_CHANNEL, listener);
    const verifier = liveVerifier();
    const tokens = [
      await sign(key, nowSeconds(), { aud: 'someone-else' }),
      await sign({ ...key, kid: 'k'.repeat(65) }, nowSeconds()),
      `${(await sign(key, nowSeconds())).slice(0, -4)}AAAA`,
    ];
    for (const token of tokens) await verifier.verify(token, endpoint);
    const text = JSON.stringify(events);
    for (const token of tokens) for (const part of token.split('.')) expect(text).not.toContain(part);
    for (const event of events) {
      const kidMember = Object.keys(event).filter((name) => name === 'kid' || name === 'unverifiedKid');
      expect(Object.keys(event).sort()).toEqual(
        ['durationMs', 'path', 'reason', 'scope', 'status', ...kidMember].sort(),
      );
    }
    // A kid longer than the contract allows is not echoed, in either member.
    expect(events[1]).not.toHaveProperty('kid');
    expect(events[1]).not.toHaveProperty('unverifiedKid');
  });

  it('names a kid as kid only once its signature verified; a forged one is unverifiedKid, cleaned', async () => {
    subscribe(VERIFY_CHANNEL, listener);
    const verifier = liveVerifier();
    const forgedKid = 'x\n2026-01-01 INFO admin login ok\u001b[2K\u202e';
    await verifier.verify(await sign({ ...key, kid: forgedKid }, nowSeconds()), endpoint);
    const badSignature = `${(await sign(key, nowSeconds())).slice(0, -4)}AAAA`;
    await verifier.verify(badSignature, endpoint);
    await verifier.verify(await sign(key, nowSeconds(), { aud: 'someone-else' }), endpoint);
    expect(events.map(({ durationMs, ...rest }) => rest)).toEqual([
      {
        status: 401,
        reason: 'unknown_kid',
        ...endpoint,
        unverifiedKid: 'x2026-01-01 INFO admin login ok[2K',
      },
      { status: 401, reason: 'invalid_signature', ...endpoint, unverifiedKid: 'lite-2026-03' },
      { status: 401, reason: 'invalid_audience', ...endpoint, kid: 'lite-2026-03' },
    ]);
  });

  it('leaves kid out when the token never decoded', async () => {
    subscribe(VERIFY_CHANNEL, listener);
    await liveVerifier().verify('garbage', endpoint);
    await liveVerifier().verify(undefined, endpoint);
    expect(events).toEqual([
      { status: 401, reason: 'malformed_token', ...endpoint, durationMs: expect.any(Number) },
      { status: 401, reason: 'missing_token', ...endpoint, durationMs: expect.any(Number) },
    ]);
  });

  it('costs nothing without subscribers: no event built, no clock read beyond the replay deadline', async () => {
    const verifier = liveVerifier();
    const now = vi.spyOn(performance, 'now');
    // The replay deadline reads the monotonic clock on every verify; the channel must add nothing to it.
    await verifier.verify(await sign(key, nowSeconds()), endpoint);
    const baseline = now.mock.calls.length;
    now.mockClear();
    subscribe(VERIFY_CHANNEL, listener);
    await verifier.verify(await sign(key, nowSeconds()), endpoint);
    const subscribed = now.mock.calls.length;
    unsubscribe(VERIFY_CHANNEL, listener);
    events.length = 0;
    now.mockClear();
    await verifier.verify(await sign(key, nowSeconds()), endpoint);
    expect(now.mock.calls.length).toBe(baseline);
    expect(subscribed).toBeGreaterThan(baseline);
    expect(events).toEqual([]);
  });
});
