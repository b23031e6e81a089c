import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { json, type Responder } from '../../harness/jwks-server.js';

/**
 * A node:http JWKS endpoint that can also go away: `down()` closes the listening socket (connection
 * refused) and `up()` listens again on the same port, so a verifier keeps its one URL throughout.
 * Responders come from the test harness (json, text, hang) or are written inline.
 */
export interface BreakableJwks {
  readonly url: string;
  /** Requests received so far (every one of them a verifier fetch). */
  readonly requests: number;
  respond(responder: Responder): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startBreakableJwks(initial: unknown): Promise<BreakableJwks> {
  let requests = 0;
  let responder: Responder = json(initial);
  const open = new Set<ServerResponse>();
  let server: Server | undefined;
  let port = 0;

  const listen = async () => {
    const next = createServer((req, res) => {
      requests++;
      open.add(res);
      res.on('close', () => open.delete(res));
      responder(req, res);
    });
    // No idle timeout: the server's is real time, while the tests fake the client's timers (undici
    // expires its pooled sockets on them), so after a few real seconds of flood the client reused a
    // socket the server had just closed, and one refetch failed for a reason no test is about.
    next.keepAliveTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => resolve());
    });
    port = (next.address() as AddressInfo).port;
    server = next;
  };
  const stop = async () => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    for (const res of open) res.destroy();
    current.closeAllConnections();
    await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    respond(next) {
      responder = next;
    },
    down: stop,
    up: listen,
    close: stop,
  };
}

/** A 200 whose body never ends: 64 KiB chunks, written as fast as the client reads, until it hangs up. */
export const endlessBody: Responder = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  res.write('{"keys":[');
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  res.on('error', () => undefined);
  pump();
};
