import type { IncomingMessage, ServerResponse } from 'node:http';
import { containedLogger, LITE_AUTH_LOG_CATEGORY, type Logger, type Reason } from '@hyper/s2s-contracts';
import { SignerConfigError } from './errors.js';
import { jwksPublisher } from './jwks-publisher.js';
import type { Jwks } from './public-jwk.js';
import { stderrLogger } from './stderr-logger.js';
import { requireInteger } from './validate.js';

export const JWKS_PATH = '/.well-known/jwks.json';

/** Verifiers re-fetch at most this often; bounds how long a removed key lingers in caches (ADR 0030). */
export const DEFAULT_JWKS_MAX_AGE_SECONDS = 300;

export interface JwksHandlerOptions {
  maxAgeSeconds?: number;
  path?: string;
  logger?: Logger;
}

/** The contract's 503 reason for a key source that cannot answer (type-checked against the vocabulary). */
const UNAVAILABLE: Reason = 'jwks_unavailable';

export type JwksHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

/**
 * A node:http (and express-compatible) handler serving `GET|HEAD /.well-known/jwks.json`. Other paths go
 * to `next` when given, else 404. `source` is a key set (createKeySet: current, next and previous keys,
 * its max-age) or anything with `jwks()`, such as a signer. When the keys cannot be read (KMS down), none
 * may be published, or any key fails the contract's JWK policy (private members, weak or symmetric keys,
 * a kid outside lite-YYYY-MM, a repeated kid) it answers 503 with no-store, never an empty or partial
 * 200 a verifier could cache; the log names the kid and the rule, never a key value.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createJwksHandler, signerFromEnv } from '@hyper/s2s-signer';
 *
 * const signer = signerFromEnv();
 * createServer(createJwksHandler(signer, { maxAgeSeconds: 300 })).listen(8080); // or app.use(handler)
 * ```
 */
export function createJwksHandler(
  source: { jwks(): Promise<Jwks>; readonly maxAgeSeconds?: number },
  options: JwksHandlerOptions = {},
): JwksHandler {
  // Refused here, not answered 503 on every request: a source without jwks() (a PublishableKey, say)
  // or a path no request can match would start a gateway that never publishes a key.
  if (typeof (source as { jwks?: unknown } | null)?.jwks !== 'function') {
    throw new SignerConfigError('source', 'must have jwks(): a signer or a key set (createKeySet)');
  }
  if (options.path !== undefined && (typeof options.path !== 'string' || !options.path.startsWith('/'))) {
    throw new SignerConfigError('path', 'must be a URL path starting with "/"');
  }
  const maxAge = requireInteger(
    options.maxAgeSeconds ?? source.maxAgeSeconds ?? DEFAULT_JWKS_MAX_AGE_SECONDS,
    'maxAgeSeconds',
    0,
    Number.MAX_SAFE_INTEGER,
  );
  const path = options.path ?? JWKS_PATH;
  // Like the signer's: by default on stderr, so a 503 is never unexplained.
  const logger = containedLogger(options.logger ?? stderrLogger);
  // A key set's document is vetted already; any other source's is checked once per key list.
  const publish = jwksPublisher();

  return (req, res, next) => {
    const pathname = (req.url ?? '/').split('?', 1)[0];
    if (pathname !== path) {
      if (next) return next();
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n');
      return;
    }
    // Never an uncaught exception nor an unhandled rejection (either ends a Node process by default),
    // whatever the source, the logger or the response does: a jwks() that throws synchronously or
    // returns no promise is a failure like a rejection.
    new Promise<unknown>((resolve) => {
      const pending: unknown = source.jwks();
      if (typeof (pending as PromiseLike<unknown> | null)?.then !== 'function') {
        throw new Error('the key source jwks() did not return a promise');
      }
      resolve(pending);
    })
      .then(publish)
      .then(
        (jwks) => {
          if (res.headersSent) return; // another layer (a timeout) answered meanwhile
          const body = JSON.stringify(jwks);
          res.writeHead(200, {
            'content-type': 'application/jwk-set+json',
            'cache-control': `public, max-age=${maxAge}`,
            'content-length': Buffer.byteLength(body),
          });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (error: unknown) => unavailable(error),
      )
      .catch(() => {
        if (!res.headersSent) res.destroy();
      });
    function unavailable(error: unknown) {
      logger.warn(
        {
          category: LITE_AUTH_LOG_CATEGORY,
          event: UNAVAILABLE,
          error: error instanceof Error ? error.message : String(error),
        },
        'could not read the signing public key for the JWKS endpoint',
      );
      if (res.headersSent) return;
      res.writeHead(503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'retry-after': '5',
      });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ error: UNAVAILABLE }));
    }
  };
}
