/**
 * The slice of `@google-cloud/kms`'s KeyManagementServiceClient the signer uses, typed structurally so
 * the core never imports the optional peer dependency. A real client is assignable to it.
 */

/** google.protobuf.Int64Value: `value` arrives as a string (gax's default), a Long or a number. */
export interface KmsInt64Value {
  value?: unknown;
}

export interface KmsAsymmetricSignRequest {
  name: string;
  digest: { sha256: Buffer };
  digestCrc32c: { value: number };
}

export interface KmsAsymmetricSignResponse {
  name?: string | null | undefined;
  signature?: Uint8Array | string | null | undefined;
  signatureCrc32c?: KmsInt64Value | null | undefined;
  verifiedDigestCrc32c?: boolean | null | undefined;
}

export interface KmsPublicKey {
  name?: string | null | undefined;
  pem?: string | null | undefined;
  pemCrc32c?: KmsInt64Value | null | undefined;
  /** CryptoKeyVersionAlgorithm: the enum name (gax's default) or its number. */
  algorithm?: string | number | null | undefined;
}

/** The parts of a CryptoKeyVersion the JWKS publication reads. */
export interface KmsCryptoKeyVersion {
  name?: string | null | undefined;
  /** CryptoKeyVersionState: the enum name (gax's default) or its number (ENABLED = 1). */
  state?: string | number | null | undefined;
}

/** gax CallOptions: `timeout` is the per-attempt gRPC deadline; `retry: null` turns gax's own retry off. */
export interface KmsCallOptions {
  timeout: number;
  retry: null;
}

export interface KmsClient {
  asymmetricSign(
    request: KmsAsymmetricSignRequest,
    options: KmsCallOptions,
  ): Promise<readonly [KmsAsymmetricSignResponse, ...unknown[]]>;
  getPublicKey(
    request: { name: string },
    options: KmsCallOptions,
  ): Promise<readonly [KmsPublicKey, ...unknown[]]>;
  /** Used by the JWKS publication (kmsPublishedKey) to see a version's state; a real client has it. */
  getCryptoKeyVersion?(
    request: { name: string },
    options: KmsCallOptions,
  ): Promise<readonly [KmsCryptoKeyVersion, ...unknown[]]>;
  /** Starts the client (credentials, channel); a real client has it, and its methods call it too. */
  initialize?(): Promise<unknown>;
  close?(): Promise<void>;
}
