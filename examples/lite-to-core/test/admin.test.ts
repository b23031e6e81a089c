import { channel } from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Jwks } from '@hyper/s2s-signer';
import { VERIFY_CHANNEL } from '@hyper/s2s-verifier';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemTool } from '../../../test-support/system-tool.js';
import { ADMIN_PATHS } from '../src/admin.js';
import { type CoreServer, startCore } from '../src/core.js';
import { type LiteGateway, startLiteGateway } from '../src/gateway.js';
import { generateLiteKey, kidForMonth } from '../src/keys.js';

const CHROMIUM = '/usr/bin/chromium';
const chromium = systemTool(CHROMIUM, ['--version'], 'Debian: apt-get install -y chromium');
/** Written on every run (gitignored); docs/admin.png is a committed copy for the README. */
const SCREENSHOT = resolve(import.meta.dirname, '../.tmp/admin.png');

let core: CoreServer;
let lite: LiteGateway;
const key = generateLiteKey(kidForMonth(0));
const tokens: string[] = [];

beforeAll(async () => {
  lite = await startLiteGateway(key);
  const published: Jwks = await lite.signer.jwks(); // in-process: no pooled connection idles while PGlite starts
  core = await startCore(published);
});
afterAll(async () => {
  await core?.close();
  await lite?.close();
});

async function call(path: string, token?: string): Promise<number> {
  if (token) tokens.push(token);
  const res = await fetch(`${core.url}${path}`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  await res.arrayBuffer();
  return res.status;
}

describe('/admin feed', () => {
  it('subscribes to the verify channel only while someone watches', async () => {
    const verify = channel(VERIFY_CHANNEL);
    expect(verify.hasSubscribers).toBe(false);
    const abort = new AbortController();
    const res = await fetch(`${core.url}${ADMIN_PATHS.events}`, { signal: abort.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    await reader.read();
    expect(verify.hasSubscribers).toBe(true);
    expect(await call('/integrations/spaces')).toBe(401);
    const { value } = await reader.read();
    expect(JSON.parse(new TextDecoder().decode(value).replace(/^data: /, ''))).toMatchObject({
      status: 401,
      reason: 'missing_token',
      path: '/integrations/spaces',
      scope: 'spaces:create',
    });
    abort.abort();
    for (let i = 0; i < 100 && verify.hasSubscribers; i++) await new Promise((ok) => setTimeout(ok, 20));
    expect(verify.hasSubscribers).toBe(false);
  });
});

describe.skipIf(chromium === undefined)('/admin in headless Chromium', () => {
  let browser: Browser;
  let profile: string;

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'hyper-s2s-chromium-'));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      defaultViewport: { width: 1100, height: 820 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows the counters and a live feed of verifications, never a token', async () => {
    // Before the page opens: only the counters can show this one.
    expect(await call('/integrations/spaces', await lite.signer.sign({ scope: 'spaces:create' }))).toBe(201);

    const page = await browser.newPage();
    await page.goto(`${core.url}${ADMIN_PATHS.page}`);
    await page.waitForSelector('#status.live', { timeout: 20_000 });
    expect(await page.$eval('#t200', (el) => el.textContent)).toBe('1');

    const token = await lite.signer.sign({ scope: 'spaces:create' });
    expect(await call('/integrations/spaces', token)).toBe(201);
    expect(await call('/integrations/spaces', token)).toBe(401);
    expect(await call('/integrations/spaces', await lite.signer.sign({ scope: 'join_tokens:issue' }))).toBe(
      403,
    );
    expect(
      await call('/integrations/join-tokens', await lite.signer.sign({ scope: 'join_tokens:issue' })),
    ).toBe(201);
    await page.waitForFunction('document.querySelectorAll("#feed tr").length >= 4', { timeout: 20_000 });

    const feed = await page.$$eval('#feed tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    // Newest first: time, status, reason, path, scope, kid, ms.
    expect(feed.map((row) => row.slice(1, 6))).toEqual([
      ['200', 'ok', '/integrations/join-tokens', 'join_tokens:issue', key.kid],
      ['403', 'insufficient_scope', '/integrations/spaces', 'spaces:create', key.kid],
      ['401', 'replayed_token', '/integrations/spaces', 'spaces:create', key.kid],
      ['200', 'ok', '/integrations/spaces', 'spaces:create', key.kid],
    ]);
    for (const row of feed) expect(Number(row[6])).toBeGreaterThanOrEqual(0);
    const totals = await page.$$eval('.total b', (els) => els.map((el) => el.textContent));
    // 200: one before the page opened + two live; 401: the replay (the missing-token call is earlier
    // in this file when the whole file runs); 403: one.
    expect(totals[0]).toBe('3');
    expect(Number(totals[1])).toBeGreaterThanOrEqual(1);
    expect(totals[2]).toBe('1');

    const html = await page.content();
    for (const t of tokens) for (const part of t.split('.')) expect(html).not.toContain(part);

    mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true });
    await page.close();
  });
});
