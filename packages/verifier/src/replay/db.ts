/**
 * What the Postgres replay store needs from a database handle: `pg.Pool`, `pg.Client` and PGlite all
 * fit, so this package never imports `pg`. Prefer a `pg.Pool`: a lost `pg.Client` connection is never
 * re-established, while a pool replaces it and the store recovers by itself.
 */
export interface ReplayDb {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export function isReplayDb(value: unknown): value is ReplayDb {
  return (
    typeof value === 'object' && value !== null && typeof (value as { query?: unknown }).query === 'function'
  );
}

/** Reads one column of one result row; undefined when the row is not an object. Callers check the type. */
export function column(row: unknown, name: string): unknown {
  if (typeof row !== 'object' || row === null) return undefined;
  return (row as Record<string, unknown>)[name];
}
