import type { VerifyFailure, VerifySuccess } from '../result.js';
import type { Verifier } from '../verifier.js';
import { type AdapterOptions, checkVerifier } from './adapter-options.js';
import { bearerCredential } from './authorization.js';
import { checkRetryAfter, type RejectionOptions, rejectionBody, rejectionHeaders } from './challenge.js';

export type FetchAuthOutcome =
  | { readonly ok: true; readonly result: VerifySuccess }
  | { readonly ok: false; readonly result: VerifyFailure; readonly response: Response };

/**
 * The Response for a rejection: status, RFC 6750 challenge or Retry-After, JSON body with the reason.
 *
 * @example
 * ```ts
 * import type { Verifier } from '@hyper/s2s-verifier';
 * import { rejectionResponse } from '@hyper/s2s-verifier/http';
 *
 * export async function guard(verifier: Verifier, token: string): Promise<Response | undefined> {
 *   const result = await verifier.verify(token, { scope: 'spaces:create', path: '/integrations/spaces' });
 *   return result.ok ? undefined : rejectionResponse(result, { scope: 'spaces:create' });
 * }
 * ```
 */
export function rejectionResponse(result: VerifyFailure, options: RejectionOptions): Response {
  return new Response(rejectionBody(result), {
    status: result.status,
    headers: rejectionHeaders(result, options),
  });
}

/**
 * Fetch-API helper (Hono, Next.js route handlers, anything with a `Request`): verifies the bearer
 * token and, on rejection, hands back the Response to return.
 *
 * Repeated Authorization headers reach a Request joined by ", ", which verify refuses as malformed.
 *
 * @example
 * ```ts
 * import { authenticateRequest, memoryReplayStore, verifierFromEnv } from '@hyper/s2s-verifier';
 *
 * const verifier = verifierFromEnv({ replayStore: memoryReplayStore() });
 *
 * // e.g. a Next.js route handler or a Hono handler's `c.req.raw`
 * export async function POST(request: Request): Promise<Response> {
 *   const auth = await authenticateRequest(verifier, request, { scope: 'spaces:create', path: '/integrations/spaces' });
 *   if (!auth.ok) return auth.response; // 401/403 with WWW-Authenticate, 503 with Retry-After
 *   return Response.json({ by: auth.result.claims.sub });
 * }
 * ```
 */
export async function authenticateRequest(
  verifier: Verifier,
  request: Request,
  options: AdapterOptions,
): Promise<FetchAuthOutcome> {
  checkVerifier(verifier, '@hyper/s2s-verifier: authenticateRequest');
  checkRetryAfter(options.retryAfterSeconds);
  const result = await verifier.verify(bearerCredential(request.headers.get('authorization')), {
    scope: options.scope,
    path: options.path,
  });
  if (result.ok) return { ok: true, result };
  const rejection: RejectionOptions = {
    scope: options.scope,
    ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
  };
  return { ok: false, result, response: rejectionResponse(result, rejection) };
}
