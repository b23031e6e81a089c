import { ENV } from '@hyper/s2s-contracts';
import { describe, expect, it } from 'vitest';
import { TUNING_ENV, verifierFromEnv } from '../../src/env.js';
import { DEFAULTS } from '../../src/options.js';
import { DEFAULT_REPLAY_TIMEOUT_MS } from '../../src/replay/options.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import { createVerifier } from '../../src/verifier.js';
import { nowSeconds, sign, vectorKey } from '../harness/tokens.js';
import { file, staticKeys } from '../harness/vectors.js';
import { slowReplayInserts } from '../support/faults.js';
import { useReplayDatabase } from '../support/replay-database.js';

/**
 * Issue 9.5: `replayTimeoutMs` / S2S_REPLAY_TIMEOUT_MS is the bound end to end. The store used to cut
 * every call at its own hidden 500 ms, so a 700 ms statement gave 503 under a 1500 ms setting.
 */
const SETTING_MS = 1500;
const STATEMENT_MS = 700;
const call = { scope: 'spaces:create', path: '/integrations/spaces' };

const database = useReplayDatabase();

describe('one owner for the replay timeout', () => {
  it(`a ${STATEMENT_MS} ms statement under replayTimeoutMs ${SETTING_MS} answers 200, then 401 for the replay`, async () => {
    const key = await vectorKey('lite-2026-03');
    const verifier = createVerifier({
      keys: staticKeys(),
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: pgReplayStore({ db: database.pool() }), // no timeout of its own given
      replayTimeoutMs: SETTING_MS,
    });
    const undo = await slowReplayInserts(database.url, STATEMENT_MS);
    try {
      const token = await sign(key, nowSeconds(), { jti: 'slow-but-in-time' });
      expect(await verifier.verify(token, call)).toMatchObject({ status: 200 });
      expect(await verifier.verify(token, call)).toMatchObject({ status: 401, reason: 'replayed_token' });
      expect(await verifier.health()).toMatchObject({ replayStore: true });
    } finally {
      await undo();
    }
  });

  it(`S2S_REPLAY_TIMEOUT_MS=${SETTING_MS} governs the same way through verifierFromEnv`, async () => {
    const key = await vectorKey('lite-2026-03');
    const verifier = verifierFromEnv({
      env: {
        [ENV.publicKeysJson]: JSON.stringify(file.jwks),
        [ENV.audience]: file.audience,
        [ENV.allowedIssuers]: file.issuer,
        [TUNING_ENV.replayTimeoutMs]: String(SETTING_MS),
      },
      replayStore: pgReplayStore({ db: database.pool() }),
    });
    const undo = await slowReplayInserts(database.url, STATEMENT_MS);
    try {
      const token = await sign(key, nowSeconds(), { jti: 'slow-env' });
      expect(await verifier.verify(token, call)).toMatchObject({ status: 200 });
    } finally {
      await undo();
    }
  });

  it('a statement slower than the setting still fails closed with 503', async () => {
    const key = await vectorKey('lite-2026-03');
    const verifier = createVerifier({
      keys: staticKeys(),
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: pgReplayStore({ db: database.pool() }),
      replayTimeoutMs: 300,
    });
    const undo = await slowReplayInserts(database.url, STATEMENT_MS);
    try {
      const token = await sign(key, nowSeconds(), { jti: 'too-slow' });
      expect(await verifier.verify(token, call)).toMatchObject({
        status: 503,
        reason: 'replay_store_unavailable',
      });
    } finally {
      await undo();
    }
  });

  it('has one default, shared by the verifier and the store', () => {
    expect(DEFAULTS.replayTimeoutMs).toBe(DEFAULT_REPLAY_TIMEOUT_MS);
    expect(DEFAULT_REPLAY_TIMEOUT_MS).toBe(1000);
  });
});
