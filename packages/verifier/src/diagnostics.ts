import { channel } from 'node:diagnostics_channel';
import type { Reason } from '@hyper/s2s-contracts';

/** The Node diagnostics_channel every verification publishes on (when someone subscribes). */
export const VERIFY_CHANNEL = 'hyper:s2s:verify';

/** One verification as the live feed sees it: bounded labels and timing, never the token. */
export interface VerifyEvent {
  readonly status: 200 | 401 | 403 | 503;
  readonly reason: Reason;
  /** The route template the caller passed to verify. */
  readonly path: string;
  /** The scope(s) the endpoint requires, space-separated. */
  readonly scope: string;
  /** The token header's kid when it was a string of at most MAX_KID_LENGTH characters. */
  readonly kid?: string;
  /** Wall time of the verify call, milliseconds (monotonic clock). */
  readonly durationMs: number;
}

// Held here so the channel (and its subscribers) outlive any one verifier.
export const verifyChannel = channel(VERIFY_CHANNEL);
