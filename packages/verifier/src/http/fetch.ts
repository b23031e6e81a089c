import type { VerifyOptions } from '../call.js';
import type { VerifyFailure, VerifySuccess } from '../result.js';
import type { Verifier } from '../verifier.js';
import { bearerCredential } from './authorization.js';
import { checkRetryAfter, type RejectionOptions, rejectionBody, rejectionHeaders } from './challenge.js';

export interface FetchAuthOptions extends VerifyOptions {
  /** Retry-After on 503, in seconds; default 1. */
  retryAfterSeconds?: number;
}

export type FetchAuthOutcome =
  | { readonly ok: true; readonly result: VerifySuccess }
  | { readonly ok: false; readonly result: VerifyFailure; readonly response: Response };

/** The Response for a rejection: status, RFC 6750 challenge or Retry-After, JSON body with the reason. */
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
 *   const auth = await authenticateRequest(verifier, request, { scope: 'spaces:create', path: '/integrations/spaces' });
 *   if (!auth.ok) return auth.response;
 *
 * Repeated Authorization headers reach a Request joined by ", ", which verify refuses as malformed.
 */
export async function authenticateRequest(
  verifier: Verifier,
  request: Request,
  options: FetchAuthOptions,
): Promise<FetchAuthOutcome> {
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
