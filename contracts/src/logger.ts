/**
 * The one logger shape both SDKs take: pino-shaped, so a pino (child) logger fits as is, or anything
 * with these two methods. Only `info` and `warn` are called; nothing logs at error or debug.
 */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * `logger` with each call contained: a sink that throws (a closed stream, a bug) changes no answer and
 * never surfaces as an unhandled rejection from the asynchronous paths that log.
 */
export function containedLogger(logger: Logger): Logger {
  return {
    info(obj, msg) {
      try {
        logger.info(obj, msg);
      } catch {
        // Logging is never load-bearing.
      }
    },
    warn(obj, msg) {
      try {
        logger.warn(obj, msg);
      } catch {
        // Logging is never load-bearing.
      }
    },
  };
}
