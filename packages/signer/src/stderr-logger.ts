import type { Logger } from '@hyper/s2s-contracts';

/** Default: one JSON line per event on stderr, so auth rejections are never silently dropped. */
export const stderrLogger: Logger = {
  info: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'info', ...obj, msg })}\n`),
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', ...obj, msg })}\n`),
};
