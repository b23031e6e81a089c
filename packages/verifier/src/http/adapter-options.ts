import { VerifierUsageError } from '../errors.js';
import type { Verifier } from '../verifier.js';
import type { VerifyOptions } from '../verify-options.js';

/** Options of the request adapters (`s2sMiddleware`, `authenticateRequest`): what to verify, plus Retry-After. */
export interface AdapterOptions extends VerifyOptions {
  /** Retry-After on 503, in seconds; default 1. */
  retryAfterSeconds?: number;
}

/**
 * Refuses, where the route is declared, a verifier that is not one (an import or injection gone
 * wrong): behind the route it could only ever answer 500.
 */
export function checkVerifier(verifier: unknown, adapter: string): asserts verifier is Verifier {
  if (typeof (verifier as Partial<Verifier> | null | undefined)?.verify !== 'function') {
    throw new VerifierUsageError(
      `${adapter}: the verifier must be a Verifier (createVerifier or verifierFromEnv)`,
    );
  }
}
