import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `condition` holds, for phases counted in answers rather than milliseconds. The guard
 * only turns a hang into a failure naming `what`; it is not a bound any test asserts.
 */
export async function until(condition: () => boolean, what: string, guardMs = 20_000): Promise<void> {
  const guard = Date.now() + guardMs;
  while (!condition()) {
    if (Date.now() > guard) throw new Error(`never reached: ${what}`);
    await sleep(5);
  }
}
