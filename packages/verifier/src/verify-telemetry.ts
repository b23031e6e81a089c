import { VERIFIER_METRIC_NAMES } from '@hyper/s2s-contracts';
import type { DecodedToken } from './compact.js';
import { type VerifyEvent, verifyChannel } from './diagnostics.js';
import { STATUS_LABEL } from './metrics.js';
import { loggableKid, type Observer } from './observe.js';
import type { VerifyResult } from './result.js';
import type { CallContext } from './verify-options.js';

/**
 * A clock reading for this call when anyone wants its duration (a histogram sink or a channel
 * subscriber), else undefined: without either, verify reads no clock and builds no event.
 */
export function verifyStarted(observer: Observer): number | undefined {
  return observer.timed || verifyChannel.hasSubscribers ? performance.now() : undefined;
}

/** Records s2s_auth_duration_seconds and publishes the `hyper:s2s:verify` event, each only if wanted. */
export function verifyFinished(
  observer: Observer,
  started: number,
  result: VerifyResult,
  call: CallContext,
  attempt: { readonly decoded?: DecodedToken | undefined; readonly verified?: boolean | undefined },
): void {
  const ms = performance.now() - started;
  if (observer.timed) {
    observer.observe(VERIFIER_METRIC_NAMES.authDuration, ms / 1000, {
      status: STATUS_LABEL[result.status],
      path: call.path,
      scope: call.scopeLabel,
    });
  }
  if (!verifyChannel.hasSubscribers) return;
  const event: VerifyEvent = {
    status: result.status,
    reason: result.reason,
    path: call.path,
    scope: call.scopeLabel,
    ...kidOf(attempt),
    durationMs: ms,
  };
  // publish never throws: Node reports a throwing subscriber on a later tick, outside verify.
  verifyChannel.publish(event);
}

/**
 * `kid` once the signature verified (a key of the keyset named it); before that the sender's text, as
 * `unverifiedKid` and cleaned like a log line, so a forged kid can neither pose as a key in use nor
 * forge a line in whatever prints the feed.
 */
function kidOf(attempt: {
  readonly decoded?: DecodedToken | undefined;
  readonly verified?: boolean | undefined;
}): { kid: string } | { unverifiedKid: string } | undefined {
  const kid = loggableKid(attempt.decoded?.header.kid);
  if (kid === undefined) return undefined;
  return attempt.verified === true ? { kid } : { unverifiedKid: kid };
}
