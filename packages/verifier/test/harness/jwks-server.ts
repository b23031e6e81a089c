import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Responder = (req: IncomingMessage, res: ServerResponse) => void;

export interface JwksServer {
  readonly url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** Serve this JWKS (200, application/json) from now on. */
  serve(jwks: unknown): void;
  /** Answer with a custom responder from now on (500s, garbage, hangs). */
  respond(responder: Responder): void;
  close(): Promise<void>;
}

/** A real node:http JWKS endpoint on an ephemeral loopback port. */
export async function startJwksServer(initial: unknown): Promise<JwksServer> {
  let requests = 0;
  let responder: Responder = json(initial);
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    requests++;
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
    responder(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    serve(jwks) {
      responder = json(jwks);
    },
    respond(next) {
      responder = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function json(body: unknown, status = 200): Responder {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

export function text(body: string, status: number, contentType: string): Responder {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  };
}

/** Never answers (until the server closes). */
export const hang: Responder = () => undefined;
