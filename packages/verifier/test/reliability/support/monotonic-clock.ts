/**
 * Stops performance.now(), the verifier's monotonic clock for JWKS cache age, unknown-kid cooldown and
 * failure backoff, at its current reading; `advance` moves it on. Cache, cooldown and backoff then
 * expire exactly when the test says, so fetch counts are exact, whatever the load on the machine. Real
 * timers (the fetch timeout) keep running. Call `restore` when done. A plain replacement, not a vitest
 * spy: a spy records every call, which a memory-flatness test would measure.
 */
export function frozenMonotonicClock(): { advance(ms: number): void; restore(): void } {
  let now = performance.now();
  const own = Object.getOwnPropertyDescriptor(performance, 'now');
  Object.defineProperty(performance, 'now', { configurable: true, writable: true, value: () => now });
  return {
    advance(ms) {
      now += ms;
    },
    restore() {
      if (own) Object.defineProperty(performance, 'now', own);
      else delete (performance as { now?: unknown }).now;
    },
  };
}
