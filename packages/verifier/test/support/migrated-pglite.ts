import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll } from 'vitest';
import { migrate } from '../../src/replay/migrate.js';

export interface MigratedPglites {
  /** In-process PGlite migrated to the single-table layout (valid from beforeAll on). */
  single(): PGlite;
  /** In-process PGlite migrated to the partitioned layout (valid from beforeAll on). */
  partitioned(): PGlite;
}

/**
 * Registers beforeAll/afterAll hooks giving the calling test file two PGlite databases, one per replay
 * layout, migrated before its tests and closed after them.
 */
export function useMigratedPglites(): MigratedPglites {
  let single: PGlite | undefined;
  let partitioned: PGlite | undefined;
  beforeAll(async () => {
    single = await PGlite.create();
    await migrate(single);
    partitioned = await PGlite.create();
    await migrate(partitioned, { layout: 'partitioned' });
  }, 240_000);
  afterAll(async () => {
    await single?.close();
    await partitioned?.close();
  });
  const ready = (db: PGlite | undefined) => {
    if (!db) throw new Error('useMigratedPglites: the databases exist from beforeAll on');
    return db;
  };
  return { single: () => ready(single), partitioned: () => ready(partitioned) };
}
