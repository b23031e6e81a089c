export type SignerErrorCode =
  | 'ERR_S2S_INVALID_CONFIG'
  | 'ERR_S2S_INVALID_SIGN_REQUEST'
  | 'ERR_S2S_INVALID_SCOPE'
  | 'ERR_S2S_SIGNER_CLOSED'
  | 'ERR_S2S_FETCH_FAILED'
  | 'ERR_S2S_KMS_ERROR'
  | 'ERR_S2S_KMS_UNAVAILABLE'
  | 'ERR_S2S_KMS_RESOURCE_EXHAUSTED'
  | 'ERR_S2S_KMS_INTEGRITY'
  | 'ERR_S2S_KMS_KEY_MISMATCH'
  | 'ERR_S2S_INVALID_KEY_SET'
  | 'ERR_S2S_KEY_SET_UNAVAILABLE'
  /** The `./testing` KMS server was given a key spec it cannot hold (test setup error). */
  | 'ERR_S2S_KMS_TEST_UNKNOWN_ALGORITHM'
  | 'ERR_S2S_KMS_TEST_KEY_MISMATCH'
  | 'ERR_S2S_KMS_TEST_INVALID_PEM'
  | 'ERR_S2S_KMS_TEST_UNKNOWN_KEY'
  | 'ERR_S2S_KMS_TEST_UNKNOWN_STATE';

/**
 * Base of every error this package throws; `code` is stable (`ERR_S2S_*`, like jose's `ERR_JOSE_*`),
 * messages are for humans. The README's "Errors" section lists every code.
 */
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
    super('ERR_S2S_INVALID_CONFIG', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** A `sign()` call asked for something a conforming token cannot carry (programmer error). */
export class SignRequestError extends SignerError {
  readonly field: string;

  constructor(
    field: string,
    message: string,
    code: 'ERR_S2S_INVALID_SIGN_REQUEST' | 'ERR_S2S_INVALID_SCOPE' = 'ERR_S2S_INVALID_SIGN_REQUEST',
  ) {
    super(code, `${field}: ${message}`);
    this.field = field;
  }
}

/** The requested scope is unknown to the contract or not RFC 6749 §3.3 syntax. */
export class ScopeError extends SignRequestError {
  constructor(message: string) {
    super('scope', message, 'ERR_S2S_INVALID_SCOPE');
  }
}

export class SignerClosedError extends SignerError {
  constructor() {
    super('ERR_S2S_SIGNER_CLOSED', 'the signer is closed');
  }
}

/**
 * `signer.fetch` got no response (connection refused or reset, DNS, TLS, timeout). Names the endpoint
 * (origin and path, no query) and the cause; never the token, which is only ever in a request header.
 */
export class SignedFetchError extends SignerError {
  readonly endpoint: string;

  constructor(method: string, endpoint: string, cause: unknown) {
    super('ERR_S2S_FETCH_FAILED', `${method} ${endpoint} failed: ${describeCause(cause)}`, { cause });
    this.endpoint = endpoint;
  }
}

/** undici wraps the socket error (ECONNREFUSED, ...) in a generic "fetch failed". */
function describeCause(cause: unknown): string {
  const inner = (cause as { cause?: unknown } | null)?.cause ?? cause;
  const code = (inner as { code?: unknown } | null)?.code;
  const message = inner instanceof Error ? inner.message : String(inner);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}

/** A Cloud KMS call failed; `grpcCode` is the canonical status code when the failure came from gRPC. */
export class KmsError extends SignerError {
  readonly grpcCode: number | undefined;

  constructor(
    message: string,
    options: ErrorOptions & { grpcCode?: number | undefined } = {},
    code: SignerErrorCode = 'ERR_S2S_KMS_ERROR',
  ) {
    super(code, message, options);
    this.grpcCode = options.grpcCode;
  }
}

/** UNAVAILABLE or DEADLINE_EXCEEDED on every one of the bounded attempts. */
export class KmsUnavailableError extends KmsError {
  readonly attempts: number;

  constructor(message: string, attempts: number, options: ErrorOptions & { grpcCode?: number | undefined }) {
    super(message, options, 'ERR_S2S_KMS_UNAVAILABLE');
    this.attempts = attempts;
  }
}

/** RESOURCE_EXHAUSTED: quota is spent; retrying at once would only make it worse. */
export class KmsResourceExhaustedError extends KmsError {
  constructor(message: string, options: ErrorOptions & { grpcCode?: number | undefined }) {
    super(message, options, 'ERR_S2S_KMS_RESOURCE_EXHAUSTED');
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
    super(`${check}: ${message}`, {}, 'ERR_S2S_KMS_INTEGRITY');
    this.check = check;
  }
}

/** The KMS key version is not the kind of key the signer was configured for (algorithm or strength). */
export class KmsKeyMismatchError extends KmsError {
  constructor(message: string) {
    super(message, {}, 'ERR_S2S_KMS_KEY_MISMATCH');
  }
}

/**
 * A key set operation that cannot be right: a repeated kid, a switch with no next key or too early, or
 * a key that may not be published (private members, the contract's JWK policy, the kid convention).
 */
export class KeySetError extends SignerError {
  constructor(message: string) {
    super('ERR_S2S_INVALID_KEY_SET', message);
  }
}

/** The key set has nothing it may publish (every key disabled or retired): a 503, never an empty JWKS. */
export class KeySetUnavailableError extends SignerError {
  constructor(message: string) {
    super('ERR_S2S_KEY_SET_UNAVAILABLE', message);
  }
}
