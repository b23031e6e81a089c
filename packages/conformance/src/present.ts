import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isReason, type Reason } from '@hyper/s2s-contracts';

/** What the target answered: the status, and the reason when it exposes one (body or challenge). */
export interface Answer {
  readonly status: number;
  readonly reason?: Reason;
}

/** Longest response body read (a rejection body is a few dozen bytes). */
const MAX_BODY_BYTES = 16 * 1024;
export const REQUEST_TIMEOUT_MS = 10_000;

/** The reason in a JSON body `{"reason": ...}` or a challenge's error_description, if it is one. */
export function reasonOf(body: string, challenge: string | undefined): Reason | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) {
      const reason = (parsed as Record<string, unknown>).reason;
      if (isReason(reason)) return reason;
    }
  } catch {
    // not JSON: try the challenge
  }
  const described = challenge && /error_description="([^"]*)"/.exec(challenge)?.[1];
  return isReason(described) ? described : undefined;
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
    const req = send(url, { method, headers, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        const body = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
        const reason = reasonOf(body, res.headers['www-authenticate']);
        resolve({ status: res.statusCode ?? 0, ...(reason ? { reason } : {}) });
      });
      res.on('error', (error) => reject(new Error(`${method} ${url.href}: ${error.message}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (error) => reject(new Error(`${method} ${url.href}: ${error.message}`)));
    req.end('{}');
  });
}
