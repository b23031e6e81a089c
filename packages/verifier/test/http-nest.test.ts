// Nest's decorators are the legacy (experimentalDecorators) kind; this package's tsconfig.json turns
// them on for tests and the transform honours it. Nothing relies on emitDecoratorMetadata: the guard
// and the controllers below inject by explicit token.
import 'reflect-metadata';
import type { Claims } from '@hyper/s2s-contracts';
import { Controller, HttpCode, type INestApplication, Module, Param, Post, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequireS2sScope, S2sClaims, S2sGuard, S2sModule } from '../src/http/nest.js';
import type { Verifier } from '../src/verifier.js';
import { adapterConformance } from './harness/adapter-conformance.js';
import { recorder } from './harness/recorder.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

@Controller('integrations')
@UseGuards(S2sGuard)
class IntegrationsController {
  @Post('spaces')
  @HttpCode(200)
  @RequireS2sScope('spaces:create')
  create(@S2sClaims() claims: Claims) {
    return { sub: claims.sub };
  }

  @Post('join-tokens/:id')
  @RequireS2sScope(['join_tokens:issue'])
  issue(@Param('id') id: string) {
    return { id };
  }

  @Post('unscoped')
  unscoped() {
    return { open: true };
  }
}

@Controller()
class UnavailableController {
  @Post('unavailable')
  @UseGuards(S2sGuard)
  @RequireS2sScope('spaces:create')
  call() {
    return { ok: true };
  }
}

async function start(
  platform: 'express' | 'fastify',
  verifier: Verifier,
  controller: new () => unknown,
  retryAfterSeconds?: number,
): Promise<{ app: INestApplication; base: string }> {
  @Module({
    imports: [
      S2sModule.forRoot({ verifier, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) }),
    ],
    controllers: [controller],
  })
  class AppModule {}
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, base: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

describe.each(['express', 'fastify'] as const)('Nest guard on the %s platform', (platform) => {
  let key: TestKey;
  let main: { app: INestApplication; base: string };
  let down: { app: INestApplication; base: string };
  const observed = recorder();

  beforeAll(async () => {
    key = await vectorKey('lite-2026-03');
    main = await start(platform, liveVerifier({ metrics: observed.metrics }), IntegrationsController);
    down = await start(platform, liveVerifier({ replayStore: downStore }), UnavailableController, 5);
  });
  afterAll(async () => {
    await main?.app.close();
    await down?.app.close();
  });

  adapterConformance({
    base: () => main.base,
    unavailableBase: () => down.base,
    key: () => key,
    calls: observed.calls,
  });

  it('fails closed on a guarded route without @RequireS2sScope', async () => {
    const res = await fetch(`${main.base}/integrations/unscoped`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await sign(key, nowSeconds())}` },
    });
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('open');
  });
});

describe('RequireS2sScope', () => {
  it('refuses a malformed scope when the route is declared', () => {
    expect(() => RequireS2sScope('')).toThrow(/^@hyper\/s2s-verifier\/nest: RequireS2sScope: scope/);
    expect(() => RequireS2sScope('spaces:craete')).toThrow(
      '@hyper/s2s-verifier/nest: RequireS2sScope: scope "spaces:craete" is not a contract scope',
    );
    expect(() => RequireS2sScope('two words', 'x')).toThrow(/scope/);
  });
});
