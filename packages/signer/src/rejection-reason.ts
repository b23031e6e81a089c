import { Deadline, isReason } from '@hyper/s2s-contracts';

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
 * One timer for every body being read: rejections come in bursts (Core failing closed answers every
 * call with 503), and the project's Deadline serves same-length bounds from a single timer.
 */
const bodyRead = new Deadline(BODY_READ_TIMEOUT_MS, () => new Error('rejection body read timed out'));

/**
 * At most MAX_BODY_BYTES of `body`, read through a stream reader within BODY_READ_TIMEOUT_MS; undefined
 * when the body is larger, slower or broken. The reader is cancelled either way, so a hostile body is
 * never buffered (for a clone, the caller's branch keeps only what was read here).
 */
async function readCapped(body: ReadableStream<Uint8Array>): Promise<string | undefined> {
  const reader = body.getReader();
  try {
    return await bodyRead.bound(readAll(reader));
  } catch {
    return undefined;
  } finally {
    // On a timeout this also ends readAll: its pending read() resolves as done, and its result is ignored.
    reader.cancel().catch(() => undefined);
  }
}

/** The whole body, or undefined as soon as it grows past MAX_BODY_BYTES. */
async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(read.value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
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
