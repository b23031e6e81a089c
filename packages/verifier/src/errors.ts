import type { ReplayStoreErrorCode } from './replay/errors.js';

/** Every `code` this package's errors carry; stable, `ERR_S2S_*` like jose's `ERR_JOSE_*`. */
export type VerifierErrorCode = 'ERR_S2S_VERIFIER_CONFIG' | 'ERR_S2S_VERIFIER_USAGE' | ReplayStoreErrorCode;

/**
 * Base of every error this package throws; `code` is stable, messages are for humans. The README's
 * "Errors" section lists every code. `verify` never throws one for anything a client sends.
 */
export class VerifierError extends Error {
  readonly code: VerifierErrorCode;

  constructor(code: VerifierErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Thrown at startup (createVerifier, verifierFromEnv) for configuration that cannot be run safely.
 * `field` names the option path or environment variable at fault.
 */
export class VerifierConfigError extends VerifierError {
  declare readonly code: 'ERR_S2S_VERIFIER_CONFIG';
  readonly field: string;

  constructor(field: string, problem: string) {
    super('ERR_S2S_VERIFIER_CONFIG', `${field}: ${problem}`);
    this.field = field;
  }
}

/**
 * Programmer error in a call (e.g. `verify` without a required scope or route template). Never caused
 * by what a client sends: the token and headers only ever produce results.
 */
export class VerifierUsageError extends VerifierError {
  declare readonly code: 'ERR_S2S_VERIFIER_USAGE';

  constructor(message: string) {
    super('ERR_S2S_VERIFIER_USAGE', message);
  }
}
