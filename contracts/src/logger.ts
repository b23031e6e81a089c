/**
 * The one logger shape both SDKs take: pino-shaped, so a pino (child) logger fits as is, or anything
 * with these two methods. Only `info` and `warn` are called; nothing logs at error or debug.
 */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}
