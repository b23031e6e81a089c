import type { ReplayDb } from '../../src/replay/store.js';

/** Wraps a real database handle and records every statement sent through it (no behaviour changed). */
export interface CountingDb extends ReplayDb {
  /** Statements sent, with the number of presentations in each remember INSERT (array length of $1). */
  readonly calls: { text: string; rows: number | undefined }[];
  reset(): void;
}

export function countingDb(inner: ReplayDb): CountingDb {
  const calls: { text: string; rows: number | undefined }[] = [];
  return {
    calls,
    reset() {
      calls.length = 0;
    },
    query(text, values) {
      const first = values?.[0];
      calls.push({ text, rows: Array.isArray(first) ? first.length : undefined });
      return inner.query(text, values);
    },
  };
}
