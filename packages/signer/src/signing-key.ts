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
  /** JOSE signature bytes (ES256: 64-byte r||s) over the ASCII signing input. */
  sign(input: Buffer): Buffer | Promise<Buffer>;
  publicJwk(): Promise<PublicJwk>;
  close(): Promise<void>;
}
