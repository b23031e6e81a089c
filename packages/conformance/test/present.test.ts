import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { present, REQUEST_TIMEOUT_MS } from '../src/present.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/integrations/spaces`);
}

describe('present', () => {
  it(
    'gives up on a body that trickles in past the bound, whose bytes keep the idle timeout from firing',
    async () => {
      const url = await listen((req, res) => {
        req.resume();
        res.writeHead(401, { 'content-type': 'application/json' });
        const drip = setInterval(() => res.write(' '), 500);
        res.on('close', () => clearInterval(drip));
      });
      const started = performance.now();
      await expect(present(url, 'a.b.c')).rejects.toThrow(/no complete answer within/);
      expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS + 2000);
    },
    REQUEST_TIMEOUT_MS * 2,
  );

  it('marks a rejection body reason outside the vocabulary without keeping its text', async () => {
    const url = await listen((req, res) => {
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"reason":"Bearer a.b.c is bad"}');
    });
    const answer = await present(url, 'a.b.c');
    expect(answer).toEqual({ status: 401, offVocabulary: true });
  });
});
