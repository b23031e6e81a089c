/**
 * The one logger shape both SDKs take: pino-shaped, so a pino (child) logger fits as is, or anything
 * with these two methods. Only `info` and `warn` are called; nothing logs at error or debug.
 */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * `logger` with each call contained: a sink that throws (a closed stream, a bug) or, being async,
 * rejects changes no answer and never surfaces as an uncaught exception or an unhandled rejection
 * (either ends a Node process by default).
 */
export function containedLogger(logger: Logger): Logger {
  return {
    info(obj, msg) {
      try {
        ignoreRejection(logger.info(obj, msg));
      } catch {
        // Logging is never load-bearing.
      }
    },
    warn(obj, msg) {
      try {
        ignoreRejection(logger.warn(obj, msg));
      } catch {
        // Logging is never load-bearing.
      }
    },
  };
}

/**
 * What a telemetry sink's method returned (a log line, a metric), with a rejection handled when it is a
 * promise: the `void` return type of a sink's method does not stop an async implementation, and its
 * unhandled rejection would end the process. Call it inside the `try` that contains a synchronous throw.
 */
export function ignoreRejection(returned: unknown): void {
  if (typeof (returned as PromiseLike<unknown> | null | undefined)?.then === 'function') {
    (returned as PromiseLike<unknown>).then(undefined, ignore);
  }
}

function ignore(): void {}
