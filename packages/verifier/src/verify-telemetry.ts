import { MAX_KID_LENGTH, VERIFIER_METRIC_NAMES } from '@hyper/s2s-contracts';
import type { DecodedToken } from './compact.js';
import { type VerifyEvent, verifyChannel } from './diagnostics.js';
import { STATUS_LABEL } from './metrics.js';
import type { Observer } from './observe.js';
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
  decoded: DecodedToken | undefined,
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
  const kid = decoded?.header.kid;
  const event: VerifyEvent =
    typeof kid === 'string' && kid.length <= MAX_KID_LENGTH
      ? {
          status: result.status,
          reason: result.reason,
          path: call.path,
          scope: call.scopeLabel,
          kid,
          durationMs: ms,
        }
      : {
          status: result.status,
          reason: result.reason,
          path: call.path,
          scope: call.scopeLabel,
          durationMs: ms,
        };
  // publish never throws: Node reports a throwing subscriber on a later tick, outside verify.
  verifyChannel.publish(event);
}
