import type { PublicJwk, SupportedAlgorithm } from '@hyper/s2s-contracts';

/** One signing backend (PEM or Cloud KMS): turns a JWS signing input into a JOSE signature. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SupportedAlgorithm;
  /** Pre-signed pooling only pays off for remote keys. */
  readonly remote: boolean;
  /**
   * JOSE signature length in bytes when known before the first sign (a PEM key); a KMS key learns its
   * size from GetPublicKey, so the signer assumes the largest its algorithm allows there.
   */
  readonly signatureBytes?: number;
  /**
   * Set when the key is one of the contract's public test keys (its private half ships with the test
   * vectors): the warning to give, once, when a signer starts with it.
   */
  readonly publicTestKeyWarning?: string | undefined;
  /** JOSE signature bytes (ES256: 64-byte r||s) over the ASCII signing input. */
  sign(input: Buffer): Buffer | Promise<Buffer>;
  publicJwk(): Promise<PublicJwk>;
  close(): Promise<void>;
}
