import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Deadline, isReason, type Reason } from '@hyper/s2s-contracts';

/** What the target answered: the status, and the reason when it exposes one (body or challenge). */
export interface Answer {
  readonly status: number;
  readonly reason?: Reason;
  /**
   * The JSON body names a `reason` that is not one of the contract's (SPEC.md HTTP2), so the target
   * exposes a reason and it cannot match. Its text is not kept: the target wrote it, and it could hold
   * anything, a token included.
   */
  readonly offVocabulary?: true;
}

/** Longest response body read (a rejection body is a few dozen bytes). */
const MAX_BODY_BYTES = 16 * 1024;
/** Bound on one whole exchange, body included: a body that trickles in never resets it. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** The parsed JSON body when it is an object, else undefined. */
function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The reason in a JSON body `{"reason": ...}` or a challenge's error_description, if it is one. */
export function reasonOf(body: string, challenge: string | undefined): Reason | undefined {
  const reason = jsonObject(body)?.reason;
  if (isReason(reason)) return reason;
  const described = challenge && /error_description="([^"]*)"/.exec(challenge)?.[1];
  return isReason(described) ? described : undefined;
}

/** Whether a JSON body holds a `reason` member that is not a contract reason. */
function offVocabulary(body: string): boolean {
  const parsed = jsonObject(body);
  return parsed !== undefined && Object.hasOwn(parsed, 'reason') && !isReason(parsed.reason);
}

/**
 * Presents `token` (none when undefined) as `Authorization: Bearer <token>` on its own connection.
 * Resolves with the answer; rejects with a message naming the URL and the cause, never the token.
 */
export function present(url: URL, token: string | undefined, method = 'POST'): Promise<Answer> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', connection: 'close' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const fail = (error: Error) => {
      cancelDeadline();
      reject(new Error(`${method} ${url.href}: ${error.message}`));
    };
    let response: IncomingMessage | undefined;
    const req = send(url, { method, headers, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      response = res;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        cancelDeadline();
        const body = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
        const reason = reasonOf(body, res.headers['www-authenticate']);
        resolve({
          status: res.statusCode ?? 0,
          ...(reason ? { reason } : offVocabulary(body) ? { offVocabulary: true as const } : {}),
        });
      });
      res.on('error', fail);
    });
    // The socket timeout above is an idle one: a target sending a byte now and then would hold the check
    // (and a CI job) forever without this bound on the whole exchange.
    const cancelDeadline = new Deadline(REQUEST_TIMEOUT_MS).track(() => {
      const error = new Error(`no complete answer within ${REQUEST_TIMEOUT_MS} ms`);
      response?.destroy(error);
      req.destroy(error);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', fail);
    req.end('{}');
  });
}
