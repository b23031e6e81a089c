import { isReason, MAX_KID_LENGTH, METRIC_NAMES } from '@hyper/s2s-contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { unhandledRejectionsDuring } from '../../../test-support/unhandled-rejections.js';
import { UNAVAILABLE_METRIC_NAME } from '../src/observe.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { recorder, requestLogs } from './harness/recorder.js';
import { freshKey, nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file, staticKeys } from './harness/vectors.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

let key: TestKey;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});

const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };

describe('metrics', () => {
  it('counts each outcome under its contract counter with reason, path and scope labels', async () => {
    const observed = recorder();
    const verifier = liveVerifier({ metrics: observed.metrics });
    const token = await sign(key, nowSeconds());
    await verifier.verify(token, endpoint);
    await verifier.verify(token, endpoint);
    await verifier.verify(await sign(key, nowSeconds(), { scope: 'join_tokens:issue' }), endpoint);
    expect(observed.calls).toEqual([
      { name: METRIC_NAMES.success, labels: { reason: 'ok', ...endpoint } },
      { name: METRIC_NAMES.unauthorized, labels: { reason: 'replayed_token', ...endpoint } },
      { name: METRIC_NAMES.forbidden, labels: { reason: 'insufficient_scope', ...endpoint } },
    ]);
  });

  it('counts 503s under s2s_auth_503, not as 401s', async () => {
    const observed = recorder();
    const verifier = liveVerifier({ metrics: observed.metrics, replayStore: downStore });
    await verifier.verify(await sign(key, nowSeconds()), endpoint);
    expect(observed.calls).toEqual([
      { name: UNAVAILABLE_METRIC_NAME, labels: { reason: 'replay_store_unavailable', ...endpoint } },
    ]);
  });

  it('labels scope with what the endpoint requires, whatever the token claims', async () => {
    const observed = recorder();
    const verifier = liveVerifier({ metrics: observed.metrics });
    const claimsMuch = await sign(key, nowSeconds(), { scope: `spaces:create ${'x'.repeat(900)}` });
    await verifier.verify(claimsMuch, { scope: ['spaces:create'], path: '/a' });
    await verifier.verify(await sign(key, nowSeconds()), {
      scope: 'spaces:create join_tokens:issue',
      path: '/b',
    });
    expect(observed.calls.map((call) => call.labels.scope)).toEqual([
      'spaces:create',
      'spaces:create join_tokens:issue',
    ]);
  });

  it('keeps label values in a bounded set however many distinct hostile tokens arrive', async () => {
    const observed = recorder();
    const verifier = liveVerifier({ metrics: observed.metrics });
    for (let i = 0; i < 300; i++) {
      await verifier.verify(`${'x'.repeat(i)}.${i}.y`, endpoint);
      await verifier.verify(
        await sign({ ...key, kid: `kid-${i}` }, nowSeconds(), { iss: `iss-${i}` }),
        endpoint,
      );
    }
    const values = new Set(observed.calls.map((call) => JSON.stringify(call.labels)));
    expect(values.size).toBeLessThanOrEqual(3);
    for (const call of observed.calls) expect(isReason(call.labels.reason)).toBe(true);
  });

  it('survives a sink and a logger that throw', async () => {
    const boom = () => {
      throw new Error('sink down');
    };
    const verifier = liveVerifier({ metrics: { increment: boom }, logger: { info: boom, warn: boom } });
    expect(await verifier.verify(await sign(key, nowSeconds()), endpoint)).toMatchObject({ status: 200 });
    expect(await verifier.verify('a.b.c', endpoint)).toMatchObject({ status: 401 });
  });

  // A sink method typed `void` may still be async; its rejection, unhandled, would end the process.
  it('survives an async sink and logger that reject: same answers, no unhandled rejection', async () => {
    const calls: string[] = [];
    const rejecting = (name: string) => async () => {
      calls.push(name);
      throw new Error(`${name} down`);
    };
    const verifier = liveVerifier({
      metrics: { increment: rejecting('increment'), observe: rejecting('observe') },
      logger: { info: rejecting('info'), warn: rejecting('warn') },
    });
    const answers: number[] = [];
    const unhandled = await unhandledRejectionsDuring(async () => {
      answers.push((await verifier.verify(await sign(key, nowSeconds()), endpoint)).status);
      answers.push((await verifier.verify('a.b.c', endpoint)).status);
    });
    expect(answers).toEqual([200, 401]);
    expect(new Set(calls)).toEqual(new Set(['increment', 'observe', 'warn']));
    expect(unhandled).toEqual([]);
  });
});

describe('rejection logs', () => {
  it('carry reason, path, scope, kid, iss, sub, jti and aud, never the token; a wrong audience shows both sides', async () => {
    const observed = requestLogs();
    const verifier = liveVerifier({ logger: observed.logger });
    const token = await sign(key, nowSeconds(), { jti: 'jti-1', aud: 'someone-else' });
    await verifier.verify(token, endpoint);
    expect(observed.logs).toHaveLength(1);
    const [line] = observed.logs;
    expect(line?.level).toBe('warn');
    expect(line?.obj).toEqual({
      event: 's2s_auth_rejected',
      status: 401,
      reason: 'invalid_audience',
      path: '/integrations/spaces',
      scope: 'spaces:create',
      kid: 'lite-2026-03',
      iss: file.issuer,
      sub: 'hyper-lite-gateway',
      jti: 'jti-1',
      aud: 'someone-else',
      expectedAudience: file.audience,
    });
    const text = JSON.stringify(observed.logs);
    for (const part of token.split('.')) expect(text).not.toContain(part);
  });

  it("a clock rejection shows the token's iat, nbf and exp beside the verifier's clock; other rejections do not", async () => {
    const observed = requestLogs();
    const verifier = liveVerifier({ logger: observed.logger });
    const issued = nowSeconds() - 1000;
    const before = nowSeconds();
    await verifier.verify(await sign(key, issued), endpoint);
    const after = nowSeconds();
    const line = observed.logs[0]?.obj as Record<string, unknown>;
    expect(line).toMatchObject({ reason: 'expired_signature', iat: issued, nbf: issued, exp: issued + 60 });
    expect(line.now).toBeGreaterThanOrEqual(before);
    expect(line.now).toBeLessThanOrEqual(after);
    const now = nowSeconds();
    await verifier.verify(await sign(key, now, { iatOffset: 600 }), endpoint);
    expect(observed.logs[1]?.obj).toMatchObject({ reason: 'immature_signature', nbf: now + 600 });
    await verifier.verify(await sign(key, now, { iatOffset: 600, nbf: now }), endpoint);
    expect(observed.logs[2]?.obj).toMatchObject({ reason: 'invalid_iat', iat: now + 600, nbf: now });
    await verifier.verify(await sign(key, now, { ttl: 400 }), endpoint);
    expect(observed.logs[3]?.obj).toMatchObject({ reason: 'ttl_exceeded', iat: now, exp: now + 400 });
    for (const log of observed.logs.slice(1, 4)) expect(log.obj).toHaveProperty('now', expect.any(Number));
    await verifier.verify(await sign(key, nowSeconds(), { aud: 'someone-else' }), endpoint);
    expect(observed.logs[4]?.obj).not.toHaveProperty('now');
    expect(observed.logs[4]?.obj).not.toHaveProperty('exp');
  });

  it('put the values of a token whose signature did not verify under `unverified`, controls stripped', async () => {
    const observed = requestLogs();
    const verifier = liveVerifier({ logger: observed.logger });
    // A forger's token: a published kid, claims of its choosing, signed by a key nobody published.
    const forger = { ...(await freshKey('forger')), kid: 'lite-2026-03' };
    const forged = await sign(forger, nowSeconds(), {
      iss: `${file.issuer}\n{"event":"s2s_auth_ok"}\u001b[2K\u202e`,
      sub: 'admin\r\u0000\u0085\u200b\u2028\u2029x',
      jti: 'j'.repeat(5000),
    });
    expect((await verifier.verify(forged, endpoint)).reason).toBe('invalid_signature');
    const logged = observed.logs[0]?.obj as Record<string, unknown>;
    expect(logged).not.toHaveProperty('iss');
    expect(logged).not.toHaveProperty('sub');
    expect(logged).not.toHaveProperty('jti');
    expect(logged).not.toHaveProperty('kid');
    expect(logged.unverified).toEqual({
      kid: 'lite-2026-03',
      iss: `${file.issuer}{"event":"s2s_auth_ok"}[2K`,
      sub: 'adminx',
      jti: `${'j'.repeat(127)}…`,
      aud: file.audience,
    });
    for (const part of forged.split('.')) expect(JSON.stringify(observed.logs)).not.toContain(part);
  });

  it('a wrong issuer shows the issuers accepted; an aud array is logged as its strings', async () => {
    const observed = requestLogs();
    const verifier = liveVerifier({ logger: observed.logger });
    await verifier.verify(await sign(key, nowSeconds(), { iss: 'hyper-lite-staging' }), endpoint);
    expect(observed.logs[0]?.obj).toMatchObject({
      reason: 'invalid_issuer',
      iss: 'hyper-lite-staging',
      allowedIssuers: [file.issuer],
    });
    await verifier.verify(await sign(key, nowSeconds(), { aud: ['a', file.audience, 7] as never }), endpoint);
    expect(observed.logs[1]?.obj).toMatchObject({ reason: 'invalid_claim(aud)', aud: `a ${file.audience}` });
    expect(observed.logs[1]?.obj).not.toHaveProperty('expectedAudience');
    // An aud with no text to show (empty, or no string in the array) is left out, not logged as ''.
    await verifier.verify(await sign(key, nowSeconds(), { aud: '' }), endpoint);
    await verifier.verify(await sign(key, nowSeconds(), { aud: [7] as never }), endpoint);
    for (const line of observed.logs.slice(2, 4)) {
      expect(line.obj).toMatchObject({ reason: 'invalid_claim(aud)' });
      expect(line.obj).not.toHaveProperty('aud');
    }
    expect(observed.logs).toHaveLength(4);
  });

  it('describe, never copy, a claim holding a token (anyone can put a stolen token in a forged sub)', async () => {
    const observed = requestLogs();
    const verifier = liveVerifier({ logger: observed.logger });
    const stolen = await sign(key, nowSeconds());
    const forger = { ...(await freshKey('forger')), kid: 'lite-2026-03' };
    const forged = await sign(forger, nowSeconds(), { sub: stolen });
    expect((await verifier.verify(forged, endpoint)).reason).toBe('invalid_signature');
    const logged = observed.logs[0]?.obj as { unverified: { sub: string } };
    expect(logged.unverified.sub).toBe(
      `a value that may hold a token (${stolen.length} characters, not shown)`,
    );
    const text = JSON.stringify(observed.logs);
    for (const part of [...stolen.split('.'), ...forged.split('.')]) expect(text).not.toContain(part);
  });

  it('cap claim values copied from a token, marking the cut', async () => {
    const observed = requestLogs();
    const verifier = liveVerifier({ logger: observed.logger });
    await verifier.verify(await sign(key, nowSeconds(), { sub: 's'.repeat(5000), iss: 'wrong' }), endpoint);
    const logged = observed.logs[0]?.obj as { sub: string };
    expect(logged.sub).toBe(`${'s'.repeat(127)}…`);
  });

  it('are not written for successes', async () => {
    const observed = requestLogs();
    const verifier = liveVerifier({ logger: observed.logger });
    await verifier.verify(await sign(key, nowSeconds()), endpoint);
    expect(observed.logs).toEqual([]);
  });

  it('hold nothing from a token that could not be decoded', async () => {
    const observed = requestLogs();
    const verifier = createVerifier({
      keys: staticKeys(),
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: memoryReplayStore(),
      logger: observed.logger,
    });
    await verifier.verify('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0', endpoint);
    expect(observed.logs[0]?.obj).toEqual({
      event: 's2s_auth_rejected',
      status: 401,
      reason: 'malformed_token',
      ...endpoint,
    });
  });
});

describe('rejection logs: kid and empty facts', () => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = (header: object, payload: object) => `${b64(header)}.${b64(payload)}.c2ln`;
  const loggedAfter = async (token: string) => {
    const observed = requestLogs();
    await liveVerifier({ logger: observed.logger }).verify(token, endpoint);
    return observed.logs[0]?.obj as Record<string, unknown>;
  };

  it(`log a kid of up to ${MAX_KID_LENGTH} characters whole, and a longer one not at all`, async () => {
    const atLimit = 'k'.repeat(MAX_KID_LENGTH);
    const fits = await loggedAfter(unsigned({ alg: 'RS256', typ: 'JWT', kid: atLimit }, { iss: 'x' }));
    expect(fits).toMatchObject({ reason: 'unknown_kid', unverified: { kid: atLimit, iss: 'x' } });
    // Over the limit the header is invalid, and the kid is not worth a truncated copy.
    const over = await loggedAfter(unsigned({ alg: 'RS256', typ: 'JWT', kid: `${atLimit}k` }, { iss: 'x' }));
    expect(over).toMatchObject({ reason: 'invalid_header', unverified: { iss: 'x' } });
    expect(over.unverified).not.toHaveProperty('kid');
  });

  it('carry no `unverified` member when the token had nothing loggable', async () => {
    const logged = await loggedAfter(unsigned({ alg: 'RS256', typ: 'JWT', kid: 7 }, { iss: 1, jti: ['a'] }));
    expect(logged).toEqual({
      event: 's2s_auth_rejected',
      status: 401,
      reason: 'invalid_header',
      ...endpoint,
    });
  });
});
