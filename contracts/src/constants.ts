/** Numbers of the S2S JWT auth contract (CORE-2005). Both SDKs and Rust Core read these. */

/** Contract: "Maximum TTL: 300 seconds" — enforced as `exp - iat <= MAX_TTL_SECONDS`. */
export const MAX_TTL_SECONDS = 300;

/** Contract: "Clock skew tolerance: 60 seconds", applied to exp, nbf and iat alike. */
export const CLOCK_SKEW_SECONDS = 60;

/** Signer default lifetime: well under the cap so a token is spent long before it could be replayed. */
export const DEFAULT_SIGNER_TTL_SECONDS = 60;

/** Contract: replay records "are retained for 24 hours after the token's exp timestamp". */
export const REPLAY_RETENTION_SECONDS = 24 * 60 * 60;

/** Contract: "Expired records are purged every 5 minutes". */
export const REPLAY_PURGE_INTERVAL_MS = 5 * 60 * 1000;

/** Postgres home of the replay records (contract: `session.s2s_jwt_replay`). */
export const REPLAY_TABLE = { schema: 'session', table: 's2s_jwt_replay' } as const;

/** Tokens longer than this are refused before any parsing (bounds work an attacker can cause). */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * Deepest nesting of objects and arrays in the header or the claims set, the top-level object counting
 * as 1 (SPEC.md J8). serde_json's default: a budget of 128 containers, the 128th refused, so a Rust Core
 * parsing with serde answers the same without a setting of its own; JavaScript's JSON.parse goes far
 * deeper, so the TypeScript verifier checks it.
 */
export const MAX_JSON_DEPTH = 127;

/** Length limits, all in UTF-8 bytes (SPEC.md "Length unit"). */
export const MAX_JTI_LENGTH = 128;
export const MAX_KID_LENGTH = 64;
export const MAX_SCOPE_LENGTH = 1024;
/** Longest iss the replay store records (and so the longest allowed issuer), in UTF-8 bytes. */
export const MAX_ISS_LENGTH = 256;

/** Contract: kid naming convention `lite-YYYY-MM`. */
export const KID_PATTERN = /^lite-\d{4}-(0[1-9]|1[0-2])$/;

/**
 * RFC 6749 §3.3: scope = scope-token *( SP scope-token ); scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
 * Single spaces only: tabs, newlines and runs of spaces are not scope syntax.
 */
export const SCOPE_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;

/** Contract: supported scopes for CORE-2003. */
export const KNOWN_SCOPES = ['spaces:create', 'join_tokens:issue'] as const;
export type KnownScope = (typeof KNOWN_SCOPES)[number];

/** Asymmetric algorithms only (ADR 0031: no HS*, no `none`). RS256 is the contract's; ES256 is opt-in. */
export const SUPPORTED_ALGORITHMS = ['RS256', 'ES256'] as const;
export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];
export const DEFAULT_ALGORITHMS: readonly SupportedAlgorithm[] = ['RS256'];

/** RS256 keys below this modulus size are refused everywhere. */
export const MIN_RSA_MODULUS_BITS = 2048;

/** The header type the contract requires (compared case-insensitively, RFC 7515 §4.1.9). */
export const TOKEN_TYPE = 'JWT';

/** The eight required claims, in the order the signer emits them and the verifier checks them. */
export const CLAIM_NAMES = ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'scope', 'jti'] as const;
export type ClaimName = (typeof CLAIM_NAMES)[number];

/** JWK members that only private keys carry; a public keyset holding any of them is refused. */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const;

/** Header parameters that point at key material elsewhere; never fetched, never used to choose a key. */
export const IGNORED_KEY_HEADER_PARAMETERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/**
 * Metric names (contract: "Auth observability"). `unavailable` is ours: a fail-closed 503 is neither a
 * rejected token (401) nor a missing scope (403), and must not hide inside either counter.
 */
export const METRIC_NAMES = {
  success: 's2s_auth_success',
  unauthorized: 's2s_auth_401',
  forbidden: 's2s_auth_403',
  unavailable: 's2s_auth_503',
} as const;
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** Lite-side structured log category for S2S auth rejections (contract: "Hyper Lite side"). */
export const LITE_AUTH_LOG_CATEGORY = 'meetings.hypervideo.auth';

/** Environment variables named by the contract and ADR 0031. */
export const ENV = {
  jwksUrl: 'S2S_JWKS_URL',
  publicKeysJson: 'HYPER_S2S_JWT_PUBLIC_KEYS_JSON',
  audience: 'S2S_JWT_AUDIENCE',
  allowedIssuers: 'S2S_ALLOWED_ISSUERS',
  privateKeyPem: 'HYPER_S2S_JWT_PRIVATE_KEY_PEM',
  kid: 'HYPER_S2S_JWT_KID',
  kmsKeyVersion: 'HYPER_S2S_JWT_KMS_KEY_VERSION',
  signerAlgorithm: 'HYPER_S2S_JWT_ALG',
  signerIssuer: 'HYPER_S2S_JWT_ISSUER',
  signerSubject: 'HYPER_S2S_JWT_SUBJECT',
  signerAudience: 'HYPER_S2S_JWT_AUDIENCE',
  signerTtlSeconds: 'HYPER_S2S_JWT_TTL_SECONDS',
  scopePrefix: 'HYPER_S2S_JWT_SCOPE_',
} as const;

/** Legacy switches removed by ADR 0031; their presence is a startup error on both sides. */
export const FORBIDDEN_ENV = ['S2S_OPEN', 'S2S_JWT_SECRET'] as const;

/**
 * Floor of the JWKS unknown-kid cooldown: below it, every request with an unknown kid (attacker-chosen)
 * becomes a JWKS fetch. Verifiers refuse a smaller setting at startup.
 */
export const MIN_JWKS_COOLDOWN_MS = 1000;

/**
 * How long a verifier keeps a fetched JWKS unless configured otherwise (Core's S2S_JWKS_CACHE_MAX_AGE_MS
 * default). The signer's key set assumes it when not told the verifiers' setting: a next key must stay
 * published at least this long before it signs, or a verifier on the default would not know it yet.
 */
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 600_000;
