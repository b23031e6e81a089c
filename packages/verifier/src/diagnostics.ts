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
  /** The header's kid, once the signature verified with the key it names. */
  readonly kid?: string;
  /**
   * The header's kid when the signature did not verify (or was not reached): the sender's text, with
   * control and format characters removed. A string of at most MAX_KID_LENGTH UTF-8 bytes only.
   */
  readonly unverifiedKid?: string;
  /** Wall time of the verify call, milliseconds (monotonic clock). */
  readonly durationMs: number;
}

// Held here so the channel (and its subscribers) outlive any one verifier.
export const verifyChannel = channel(VERIFY_CHANNEL);
