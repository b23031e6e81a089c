import { findPublicTestKeys } from '@hyper/s2s-contracts';
import type { Observer } from '../observe.js';

/** Kids already warned about on stderr in this process: many verifiers over one keyset warn once. */
const warnedOnStderr = new Set<string>();

/**
 * Warns, once per kid, that a keyset holds one of the contract's public test keys (by key material:
 * @hyper/s2s-contracts' findPublicTestKeys, the check the signer's keyset CLI makes too). Through the
 * configured logger; without one, as a process warning on stderr, since a forgeable key must not pass
 * silently. A warning, not a refusal: test and conformance setups trust these keys on purpose.
 */
export function publicTestKeyWarner(observer: Observer, hasLogger: boolean): (jwks: unknown) => void {
  const warned = new Set<string>();
  return (jwks) => {
    for (const match of findPublicTestKeys(jwks)) {
      if (warned.has(match.kid)) continue;
      warned.add(match.kid);
      if (hasLogger) {
        observer.warn(
          { event: 's2s_public_test_key', kid: match.kid, testKid: match.testKid },
          match.message,
        );
      } else if (!warnedOnStderr.has(match.kid)) {
        warnedOnStderr.add(match.kid);
        process.emitWarning(match.message, { code: 'HYPER_S2S_PUBLIC_TEST_KEY' });
      }
    }
  };
}
