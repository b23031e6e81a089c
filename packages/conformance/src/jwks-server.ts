import { createServer, type Server } from 'node:http';
import { vectorFile } from './kit.js';

export const JWKS_PATH = '/.well-known/jwks.json';

export interface JwksServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the kit's public test keys as a JWKS on 127.0.0.1 (port 0: any free port). */
export async function serveKitJwks(port = 0, host = '127.0.0.1'): Promise<JwksServer> {
  const body = JSON.stringify(vectorFile.jwks);
  const server: Server = createServer((req, res) => {
    if (req.url !== JWKS_PATH) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${bound}${JWKS_PATH}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
