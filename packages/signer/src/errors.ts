export type SignerErrorCode =
  | 'INVALID_CONFIG'
  | 'INVALID_SIGN_REQUEST'
  | 'INVALID_SCOPE'
  | 'SIGNER_CLOSED'
  | 'KMS_ERROR'
  | 'KMS_UNAVAILABLE'
  | 'KMS_RESOURCE_EXHAUSTED'
  | 'KMS_INTEGRITY'
  | 'KMS_KEY_MISMATCH'
  | 'INVALID_KEY_SET'
  | 'KEY_SET_UNAVAILABLE';

/** Base of every error this package throws; `code` is stable, messages are for humans. */
export class SignerError extends Error {
  readonly code: SignerErrorCode;

  constructor(code: SignerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Startup configuration is unusable. `field` names the option (`ttlSeconds`, `key.kid`, ...) or, from
 * `signerFromEnv`, the environment variable, so the operator knows what to fix.
 */
export class SignerConfigError extends SignerError {
  readonly field: string;

  constructor(field: string, message: string, options?: ErrorOptions) {
    super('INVALID_CONFIG', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** A `sign()` call asked for something a conforming token cannot carry (programmer error). */
export class SignRequestError extends SignerError {
  readonly field: string;

  constructor(
    field: string,
    message: string,
    code: 'INVALID_SIGN_REQUEST' | 'INVALID_SCOPE' = 'INVALID_SIGN_REQUEST',
  ) {
    super(code, `${field}: ${message}`);
    this.field = field;
  }
}

/** The requested scope is unknown to the contract or not RFC 6749 §3.3 syntax. */
export class ScopeError extends SignRequestError {
  constructor(message: string) {
    super('scope', message, 'INVALID_SCOPE');
  }
}

export class SignerClosedError extends SignerError {
  constructor() {
    super('SIGNER_CLOSED', 'the signer is closed');
  }
}

/** A Cloud KMS call failed; `grpcCode` is the canonical status code when the failure came from gRPC. */
export class KmsError extends SignerError {
  readonly grpcCode: number | undefined;

  constructor(
    message: string,
    options: ErrorOptions & { grpcCode?: number | undefined } = {},
    code: SignerErrorCode = 'KMS_ERROR',
  ) {
    super(code, message, options);
    this.grpcCode = options.grpcCode;
  }
}

/** UNAVAILABLE or DEADLINE_EXCEEDED on every one of the bounded attempts. */
export class KmsUnavailableError extends KmsError {
  readonly attempts: number;

  constructor(message: string, attempts: number, options: ErrorOptions & { grpcCode?: number | undefined }) {
    super(message, options, 'KMS_UNAVAILABLE');
    this.attempts = attempts;
  }
}

/** RESOURCE_EXHAUSTED: quota is spent; retrying at once would only make it worse. */
export class KmsResourceExhaustedError extends KmsError {
  constructor(message: string, options: ErrorOptions & { grpcCode?: number | undefined }) {
    super(message, options, 'KMS_RESOURCE_EXHAUSTED');
  }
}

export type KmsIntegrityCheck =
  | 'name'
  | 'verifiedDigestCrc32c'
  | 'signatureCrc32c'
  | 'signatureEncoding'
  | 'signature'
  | 'pemCrc32c'
  | 'publicKey';

/**
 * A KMS response failed a data-integrity check (Google's CRC32C guidance, the key name, or the signature
 * itself): the response is discarded, never turned into a token.
 */
export class KmsIntegrityError extends KmsError {
  readonly check: KmsIntegrityCheck;

  constructor(check: KmsIntegrityCheck, message: string) {
    super(`${check}: ${message}`, {}, 'KMS_INTEGRITY');
    this.check = check;
  }
}

/** The KMS key version is not the kind of key the signer was configured for (algorithm or strength). */
export class KmsKeyMismatchError extends KmsError {
  constructor(message: string) {
    super(message, {}, 'KMS_KEY_MISMATCH');
  }
}

/** A key set operation that cannot be right: a repeated kid, a switch with no next key or too early. */
export class KeySetError extends SignerError {
  constructor(message: string) {
    super('INVALID_KEY_SET', message);
  }
}

/** The key set has nothing it may publish (every key disabled or retired): a 503, never an empty JWKS. */
export class KeySetUnavailableError extends SignerError {
  constructor(message: string) {
    super('KEY_SET_UNAVAILABLE', message);
  }
}
