import { isReason } from '@hyper/s2s-contracts';

const BEARER_ERRORS = new Set(['invalid_request', 'invalid_token', 'insufficient_scope']);
const MAX_BODY_CHARS = 16 * 1024;

/**
 * Why Core refused: its JSON body's `reason` (the contract vocabulary), else the RFC 6750
 * WWW-Authenticate error. Only closed-vocabulary values come back, so nothing the server (or a proxy in
 * between) writes can inject arbitrary text into Lite's logs.
 */
export async function rejectionReason(response: Response): Promise<string> {
  const fromBody = await reasonFromBody(response);
  if (fromBody) return fromBody;
  const challenge = response.headers.get('www-authenticate') ?? '';
  const description = /error_description="([^"]*)"/i.exec(challenge)?.[1];
  if (isReason(description)) return description;
  const error = /\berror="([^"]*)"/i.exec(challenge)?.[1];
  if (error && BEARER_ERRORS.has(error)) return error;
  return 'unknown';
}

async function reasonFromBody(response: Response): Promise<string | undefined> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  try {
    const text = await response.clone().text();
    if (text.length > MAX_BODY_CHARS) return undefined;
    const body = JSON.parse(text) as { reason?: unknown; error?: unknown } | null;
    if (isReason(body?.reason)) return body.reason;
    if (isReason(body?.error)) return body.error;
  } catch {
    // Not JSON after all: fall back to the header.
  }
  return undefined;
}
