/**
 * Postgres advisory lock keys (bigint) of the replay store. Spelled from ASCII so they are recognisable
 * in pg_locks and unlikely to collide with an application's own small integer keys.
 */
function asciiKey(text: string): string {
  let key = 0n;
  for (const byte of new TextEncoder().encode(text)) key = (key << 8n) | BigInt(byte);
  return key.toString();
}

/** Serializes concurrent `migrate` runs from replicas starting together. */
export const MIGRATE_LOCK_KEY = asciiKey('s2s:migr');

/** One replica purges at a time (transaction-scoped, taken per purge batch). */
export const PURGE_LOCK_KEY = asciiKey('s2s:purg');
