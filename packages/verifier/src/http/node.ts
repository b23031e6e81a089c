import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VerifySuccess } from '../result.js';
import type { Verifier } from '../verifier.js';
import type { VerifyOptions } from '../verify-options.js';
import { callContext } from '../verify-options.js';
import { type AdapterOptions, checkVerifier } from './adapter-options.js';
import { bearerCredentialFrom } from './authorization.js';
import { checkRetryAfter, type RejectionOptions, rejectionBody, rejectionHeaders } from './challenge.js';

/** A request that passed: `req.s2s` holds the verification result and its claims. */
export type S2sAuthenticatedRequest = IncomingMessage & { s2s: VerifySuccess };

/** Every Authorization header as sent: node keeps only the first in `req.headers`, so read rawHeaders. */
export function authorizationValues(req: IncomingMessage): string[] {
  const values: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === 'authorization') values.push(raw[i + 1] ?? '');
  }
  return values;
}

/**
 * Express/Connect middleware (also plain node:http: `middleware(req, res, () => handle(req, res))`).
 * On success sets `req.s2s` (and `res.locals.s2s` under Express) and calls next(); otherwise answers
 * 401/403/503 itself. Options are validated when the middleware is created.
 *
 * @example
 * ```ts
 * import { memoryReplayStore, s2sMiddleware, type VerifySuccess, verifierFromEnv } from '@hyper/s2s-verifier';
 * import express from 'express';
 *
 * const verifier = verifierFromEnv({ replayStore: memoryReplayStore() });
 * const app = express();
 * app.post(
 *   '/integrations/spaces',
 *   s2sMiddleware(verifier, { scope: 'spaces:create', path: '/integrations/spaces' }),
 *   (_req, res) => {
 *     const { claims } = res.locals.s2s as VerifySuccess; // also on req.s2s (S2sAuthenticatedRequest)
 *     res.json({ by: claims.sub });
 *   },
 * );
 * ```
 */
export function s2sMiddleware(
  verifier: Verifier,
  options: AdapterOptions,
): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  checkVerifier(verifier, '@hyper/s2s-verifier/express: s2sMiddleware');
  callContext(options, '@hyper/s2s-verifier/express: s2sMiddleware options');
  checkRetryAfter(options.retryAfterSeconds);
  const verifyOptions: VerifyOptions = { scope: options.scope, path: options.path };
  const rejection: RejectionOptions = {
    scope: options.scope,
    ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
  };
  return (req, res, next) => {
    const credential = bearerCredentialFrom(authorizationValues(req));
    let handedOn = false;
    verifier
      .verify(credential, verifyOptions)
      .then((result) => {
        // Another layer (a request timeout) answered while verify ran: the request is over, and
        // writing to the response again would throw.
        if (res.headersSent) return;
        if (result.ok) {
          (req as S2sAuthenticatedRequest).s2s = result;
          const { locals } = res as ServerResponse & { locals?: Record<string, unknown> };
          if (typeof locals === 'object' && locals !== null) locals.s2s = result;
          handedOn = true;
          next();
          return;
        }
        const body = rejectionBody(result);
        res.writeHead(result.status, {
          ...rejectionHeaders(result, rejection),
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      })
      // Never left as an unhandled rejection, which ends a Node process by default: anyone able to slow
      // verify down past a timeout layer could otherwise take replicas down.
      .catch((error: unknown) => {
        if (!handedOn && !res.headersSent) {
          handedOn = true;
          try {
            next(error);
            return;
          } catch {
            // A plain node:http `next` that throws: answered below.
          }
        }
        answerInternalError(res);
      });
  };
}

/** A bare 500 when nothing was sent yet (the error stays out of the response); never throws. */
function answerInternalError(res: ServerResponse): void {
  try {
    if (!res.headersSent) res.writeHead(500, { 'content-length': 0 });
    if (!res.writableEnded) res.end();
  } catch {
    res.destroy();
  }
}
