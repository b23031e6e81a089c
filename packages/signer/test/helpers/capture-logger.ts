import type { Logger } from '../../src/index.js';

export interface LogEntry {
  level: 'info' | 'warn';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

export function captureLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    logger: {
      info: (obj, msg) => entries.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
      warn: (obj, msg) => entries.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
    },
  };
}
