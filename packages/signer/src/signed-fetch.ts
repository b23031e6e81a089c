import {
  checkInteger,
  LITE_AUTH_LOG_CATEGORY,
  type Logger,
  loggableText,
  MAX_LOGGED_TEXT_LENGTH,
} from '@hyper/s2s-contracts';
import { nanoid } from 'nanoid';
import { SignedFetchError, SignRequestError } from './errors.js';
import { rejectionReason } from './rejection-reason.js';

export interface SignedFetchOptions {
  scope: string | readonly string[];
  audience?: string;
  /**
   * Extra attempts after a network error or a 503 (Core failing closed). Default 0: integration calls
   * such as spaces:create are not idempotent, so retrying is the caller's decision. Each attempt gets a
   * fresh token (Core would refuse a replayed jti).
   */
  retries?: number;
  /** Hypervideo request id for correlation; sent as `x-request-id` and logged. Generated when absent. */
  requestId?: string;
  /** Actor context added to the rejection log (never put credentials here). */
  logContext?: Record<string, string | number | boolean>;
}

const REQUEST_ID_HEADER = 'x-request-id';
/** Core's refusals: 401/403 for the token, 503 when it fails closed on a dependency. */
const LOGGED_STATUSES = new Set([401, 403, 503]);
const MAX_RETRIES = 5;
const RETRY_BASE_DELAY_MS = 100;
/** fetch's own limit (WHATWG Fetch, "HTTP-redirect fetch"). */
const MAX_REDIRECTS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers that describe a body, dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-encoding', 'content-language', 'content-location', 'content-type'];

interface SignedFetchDeps {
  sign(request: { scope: string | readonly string[]; audience?: string }): Promise<string>;
  logger: Logger;
  kid: string;
}

/** Bodies that can be sent again unchanged; a stream is consumed by the first attempt. */
function replayable(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    body instanceof Blob
  );
}

/** Logs the endpoint without the query string, which may carry identifiers that are not ours to log. */
function endpointOf(url: string | URL): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

export async function signedFetch(
  deps: SignedFetchDeps,
  url: string | URL,
  init: RequestInit | undefined,
  options: SignedFetchOptions,
): Promise<Response> {
  if (options === null || typeof options !== 'object') {
    throw new SignRequestError('scope', 'fetch needs { scope } as its third argument');
  }
  const checked = checkInteger(options.retries ?? 0, { min: 0, max: MAX_RETRIES });
  if (!checked.ok) throw new SignRequestError('retries', checked.problem);
  const retries = checked.value;
  if (retries > 0 && !replayable(init?.body)) {
    throw new SignRequestError('retries', 'a streamed body cannot be retried; buffer it or set retries: 0');
  }
  const follow = init?.redirect === 'follow';
  if (follow && !replayable(init?.body)) {
    throw new SignRequestError(
      'redirect',
      'a streamed body cannot follow a redirect; buffer it or leave redirect unset (manual)',
    );
  }
  const method = (init?.method ?? 'GET').toUpperCase();
  const endpoint = endpointOf(url);
  let headers: Headers;
  try {
    headers = new Headers(init?.headers);
  } catch {
    // undici's message repeats the offending value, which may be a forwarded credential.
    throw new SignRequestError(
      'headers',
      'a header name or value is not valid HTTP (the value is not shown)',
    );
  }
  try {
    headers.set(REQUEST_ID_HEADER, options.requestId ?? headers.get(REQUEST_ID_HEADER) ?? nanoid());
  } catch {
    throw new SignRequestError(
      'requestId',
      'the request id is not a valid HTTP header value (the value is not shown)',
    );
  }
  // As sent: a string whatever the caller passed.
  const requestId = headers.get(REQUEST_ID_HEADER) as string;
  const signRequest =
    options.audience === undefined
      ? { scope: options.scope }
      : { scope: options.scope, audience: options.audience };

  const token = () => deps.sign(signRequest);

  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      // A fresh token per attempt: the previous one's jti may already be spent at Core.
      response = follow
        ? await fetchFollowing(token, url, init, headers)
        : // fetch's default would follow a same-origin redirect re-sending this token (one jti twice):
          // the 3xx goes back to the caller unless it chose how redirects are handled.
          await send(url, {
            ...init,
            headers: withToken(headers, await token()),
            redirect: init?.redirect ?? 'manual',
          });
    } catch (failure) {
      // Anything but a failed fetch (a signing error) is thrown as it is.
      if (!(failure instanceof FetchFailure)) throw failure;
      const error = failure.cause;
      // The caller's own abort is not a network failure: it stays the caller's AbortError.
      if (init?.signal?.aborted) throw error;
      if (attempt >= retries) throw new SignedFetchError(method, endpoint, error);
      await sleep(RETRY_BASE_DELAY_MS * 2 ** attempt);
      continue;
    }
    if (response.status === 503 && attempt < retries) {
      await response.body?.cancel();
      await sleep(RETRY_BASE_DELAY_MS * 2 ** attempt);
      continue;
    }
    if (LOGGED_STATUSES.has(response.status)) {
      // Started before returning (the body is cloned synchronously), logged whenever it is ready: the
      // caller never waits on a slow or endless body.
      const status = response.status;
      // deps.logger is contained (createSigner): a throwing sink cannot reject this chain.
      void rejectionReason(response).then((reason) =>
        deps.logger.warn(
          {
            ...options.logContext,
            category: LITE_AUTH_LOG_CATEGORY,
            event: 's2s_auth_rejected',
            endpoint,
            method,
            scope: typeof options.scope === 'string' ? options.scope : options.scope.join(' '),
            status,
            reason,
            // A forwarded id may be any length and hold control characters; Core got it whole.
            requestId: loggableText(requestId, MAX_LOGGED_TEXT_LENGTH),
            kid: deps.kid,
          },
          'Hyper Core rejected the S2S token',
        ),
      );
    }
    return response;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function withToken(headers: Headers, token: string): Headers {
  headers.set('authorization', `Bearer ${token}`);
  return headers;
}

/** fetch got no response (or the URL or a redirect could not be followed): `cause` is what it threw. */
class FetchFailure {
  constructor(readonly cause: unknown) {}
}

const send = (url: string | URL, init: RequestInit): Promise<Response> =>
  fetch(url, init).catch((error: unknown) => {
    throw new FetchFailure(error);
  });

/** A URL as fetch would resolve it, a parse failure being a fetch failure (fetch rejects with it). */
function resolveUrl(url: string | URL, base?: URL): URL {
  try {
    return new URL(url, base);
  } catch (error) {
    throw new FetchFailure(error);
  }
}

/**
 * `redirect: 'follow'` done hop by hop, so no token is presented twice: a hop on the first URL's origin
 * carries a freshly signed token; once a redirect leaves that origin no hop carries one (as fetch itself
 * drops Authorization across origins). Method and body change as fetch changes them.
 */
async function fetchFollowing(
  token: () => Promise<string>,
  url: string | URL,
  init: RequestInit | undefined,
  headers: Headers,
): Promise<Response> {
  let target = resolveUrl(url);
  const origin = target.origin;
  const hopHeaders = new Headers(headers); // a retry starts again from the caller's headers
  let method = (init?.method ?? 'GET').toUpperCase();
  let body = init?.body ?? null;
  let carry = true;
  for (let hop = 0; ; hop++) {
    if (carry) hopHeaders.set('authorization', `Bearer ${await token()}`);
    else hopHeaders.delete('authorization');
    const response = await send(target, { ...init, method, body, headers: hopHeaders, redirect: 'manual' });
    const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
    if (location === null) return response;
    await response.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new FetchFailure(new TypeError(`more than ${MAX_REDIRECTS} redirects`));
    target = resolveUrl(location, target);
    carry &&= target.origin === origin;
    const toGet =
      (response.status === 303 && method !== 'GET' && method !== 'HEAD') ||
      ((response.status === 301 || response.status === 302) && method === 'POST');
    if (toGet) {
      method = 'GET';
      body = null;
      for (const name of BODY_HEADERS) hopHeaders.delete(name);
    }
  }
}
