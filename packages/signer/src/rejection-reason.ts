import { isReason } from '@hyper/s2s-contracts';

const BEARER_ERRORS = new Set(['invalid_request', 'invalid_token', 'insufficient_scope']);
/** Core's rejection bodies are tiny; a bigger one is not Core's and is not read further. */
const MAX_BODY_BYTES = 16 * 1024;
/** How long the log line may wait for the body; the caller never waits for it. */
const BODY_READ_TIMEOUT_MS = 2000;

/**
 * Why Core refused: its JSON body's `reason` (the contract vocabulary; read from a clone, capped and
 * time-bounded, so the caller keeps the body), else the RFC 6750
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

/**
 * At most MAX_BODY_BYTES of `body`, read through a stream reader within BODY_READ_TIMEOUT_MS; undefined
 * when the body is larger, slower or broken. The reader is cancelled either way, so a hostile body is
 * never buffered (for a clone, the caller's branch keeps only what was read here).
 */
async function readCapped(body: ReadableStream<Uint8Array>): Promise<string | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), BODY_READ_TIMEOUT_MS);
    timer.unref?.();
  });
  try {
    for (;;) {
      const read = await Promise.race([reader.read(), timedOut]);
      if (read === 'timeout') return undefined;
      if (read.done) break;
      size += read.value.byteLength;
      if (size > MAX_BODY_BYTES) return undefined;
      chunks.push(read.value);
    }
    return new TextDecoder().decode(Buffer.concat(chunks));
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => undefined);
  }
}

async function reasonFromBody(response: Response): Promise<string | undefined> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES || response.body === null || response.bodyUsed) return undefined;
  try {
    const text = await readCapped(response.clone().body!);
    if (text === undefined) return undefined;
    const body = JSON.parse(text) as { reason?: unknown; error?: unknown } | null;
    if (isReason(body?.reason)) return body.reason;
    if (isReason(body?.error)) return body.error;
  } catch {
    // Not JSON after all: fall back to the header.
  }
  return undefined;
}
