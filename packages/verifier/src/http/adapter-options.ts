import type { VerifyOptions } from '../verify-options.js';

/** Options of the request adapters (`s2sMiddleware`, `authenticateRequest`): what to verify, plus Retry-After. */
export interface AdapterOptions extends VerifyOptions {
  /** Retry-After on 503, in seconds; default 1. */
  retryAfterSeconds?: number;
}
