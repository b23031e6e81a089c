/**
 * Thrown at startup (createVerifier, verifierFromEnv) for configuration that cannot be run safely.
 * `field` names the option path or environment variable at fault.
 */
export class VerifierConfigError extends Error {
  readonly code = 'ERR_S2S_VERIFIER_CONFIG';
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'VerifierConfigError';
    this.field = field;
  }
}

/**
 * Programmer error in a call (e.g. `verify` without a required scope or route template). Never caused
 * by what a client sends: the token and headers only ever produce results.
 */
export class VerifierUsageError extends Error {
  readonly code = 'ERR_S2S_VERIFIER_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'VerifierUsageError';
  }
}
