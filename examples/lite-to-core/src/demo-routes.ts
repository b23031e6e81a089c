/**
 * `pnpm demo --serve` routes on the Lite gateway, for people poking the demo with curl:
 * - POST /call/spaces, POST /call/join-tokens: sign a fresh token and forward to Core, relaying
 *   Core's answer (what the real gateway does);
 * - POST /demo/mint-token?scope=S&age=N: DEMO ONLY, never in a real gateway. Prints a token for
 *   scope S whose iat is N seconds in the past, so expired and wrong-scope tokens can be tried.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KNOWN_SCOPES, MAX_TTL_SECONDS } from '@hyper/s2s-contracts';
import { ROUTES } from './core.js';
import { type LiteGateway, liteSigner } from './gateway.js';

/** Upper bound of `age` on the mint route: far enough past any token's life to show expiry. */
const MAX_MINT_AGE_SECONDS = 10 * MAX_TTL_SECONDS;

const CALLS: Record<string, keyof typeof ROUTES> = {
  '/call/spaces': '/integrations/spaces',
  '/call/join-tokens': '/integrations/join-tokens',
};

function answer(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body);
}

/** The handler the gateway mounts beside its JWKS; `coreUrl` is where Core listens. */
export function demoRoutes(lite: LiteGateway, coreUrl: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const target = CALLS[url.pathname];
    if (req.method === 'POST' && target !== undefined) {
      lite.signer
        .fetch(`${coreUrl}${target}`, { method: 'POST' }, { scope: ROUTES[target] })
        .then(async (core) => {
          answer(res, core.status, await core.text(), {
            'content-type': core.headers.get('content-type') ?? 'text/plain',
          });
        })
        .catch((error: unknown) => answer(res, 502, `core unreachable: ${(error as Error).message}\n`));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/demo/mint-token') {
      mint(lite, url, res);
      return;
    }
    answer(res, 404, 'not found\n');
  };
}

function mint(lite: LiteGateway, url: URL, res: ServerResponse): void {
  const scope = url.searchParams.get('scope') ?? KNOWN_SCOPES[0];
  const age = Number(url.searchParams.get('age') ?? '0');
  if (!(KNOWN_SCOPES as readonly string[]).includes(scope)) {
    answer(res, 400, `scope must be one of ${KNOWN_SCOPES.join(', ')}\n`);
    return;
  }
  if (!Number.isInteger(age) || age < 0 || age > MAX_MINT_AGE_SECONDS) {
    answer(res, 400, `age must be whole seconds, 0-${MAX_MINT_AGE_SECONDS}\n`);
    return;
  }
  const signer = liteSigner(lite.key, { now: () => Date.now() - age * 1000 });
  signer.sign({ scope }).then(
    (token) =>
      answer(res, 200, `${token}\n`, {
        'x-demo-only': 'minted by the demo; a real gateway has no such route',
      }),
    (error: unknown) => answer(res, 500, `${(error as Error).message}\n`),
  );
}

/** Ctrl-C (or SIGTERM) closes both servers and exits 0: stopping the demo is not a failure. */
export function exitCleanlyOnSignal(close: () => Promise<void>): void {
  const stop = () => {
    close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
