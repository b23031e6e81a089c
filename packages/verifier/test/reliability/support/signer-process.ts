/**
 * Signs batches of conforming tokens in its own process (started by soak.slow.test.ts), so signing runs
 * on the other core while the test process verifies the previous batch.
 */
import { conformingToken } from './jws.js';

export interface SignBatch {
  readonly kid: string;
  readonly prefix: string;
  readonly from: number;
  readonly count: number;
  /** Epoch seconds every token of the batch is issued at. */
  readonly iat: number;
}

process.on('message', (batch: SignBatch) => {
  try {
    const tokens = Array.from({ length: batch.count }, (_, i) =>
      conformingToken(batch.kid, batch.iat, `${batch.prefix}-${batch.from + i}`),
    );
    process.send?.({ tokens });
  } catch (error) {
    process.send?.({ error: String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
