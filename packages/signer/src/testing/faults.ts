/** Fault switches of the KMS test server. Every switch applies to every RPC (AsymmetricSign and GetPublicKey). */
export interface KmsFaults {
  /** Delay before every response, in ms. */
  latencyMs: number;
  /** The next n calls fail with UNAVAILABLE (the client's default retry codes include it). */
  unavailableTimes: number;
  /** The next n calls (after any UNAVAILABLE ones) fail with RESOURCE_EXHAUSTED (quota). */
  resourceExhaustedTimes: number;
  /** AsymmetricSign: signatureCrc32c does not match the signature bytes. */
  wrongSignatureCrc: boolean;
  /** Responses name a different key version than the one asked for. */
  wrongName: boolean;
  /** GetPublicKey: pemCrc32c does not match the PEM. */
  wrongPemCrc: boolean;
  /** AsymmetricSign: verifiedDigestCrc32c is false even when digestCrc32c was sent and matched. */
  unverifiedDigestCrc: boolean;
  /** AsymmetricSign: a well-formed signature over a different digest, with a matching signatureCrc32c. */
  badSignature: boolean;
}

export const NO_FAULTS: Readonly<KmsFaults> = Object.freeze({
  latencyMs: 0,
  unavailableTimes: 0,
  resourceExhaustedTimes: 0,
  wrongSignatureCrc: false,
  wrongName: false,
  wrongPemCrc: false,
  unverifiedDigestCrc: false,
  badSignature: false,
});

export type InjectedError = 'UNAVAILABLE' | 'RESOURCE_EXHAUSTED';

/** Consumes one pending injected error, if any; mutates the counters. */
export function takeInjectedError(faults: KmsFaults): InjectedError | undefined {
  if (faults.unavailableTimes > 0) {
    faults.unavailableTimes--;
    return 'UNAVAILABLE';
  }
  if (faults.resourceExhaustedTimes > 0) {
    faults.resourceExhaustedTimes--;
    return 'RESOURCE_EXHAUSTED';
  }
  return undefined;
}

/** A plausible but different key version name: the version number plus one (or a suffix). */
export function otherVersionName(name: string): string {
  const match = /^(.*\/cryptoKeyVersions\/)(\d+)$/.exec(name);
  return match ? `${match[1]}${BigInt(match[2]!) + 1n}` : `${name}-other`;
}
