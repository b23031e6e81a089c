export { type ConvertOptions, type ConvertOutcome, convertToPartitioned } from './convert.js';
export { ReplayStoreError, type ReplayStoreErrorCode } from './errors.js';
export { type MemoryReplayStore, type MemoryReplayStoreOptions, memoryReplayStore } from './memory.js';
export { type MigrateOptions, migrate } from './migrate.js';
export { DEFAULT_MEMORY_MAX_ENTRIES, DEFAULT_REPLAY_TIMEOUT_MS } from './options.js';
export { type PgReplayStore, type PgReplayStoreOptions, pgReplayStore, type ReplayLayout } from './pg.js';
export type {
  PurgeOutcome,
  PurgeRunOptions,
  PurgerLogger,
  PurgerOptions,
  PurgeSource,
  ReplayPurger,
} from './purge.js';
export { startPurger } from './purge.js';
export { REPLAY_MIGRATION_FILE, REPLAY_MIGRATION_SQL, REPLAY_TABLE_NAME } from './sql.js';
export type { ReplayCallOptions, ReplayDb, ReplayEntry, ReplayStore } from './store.js';
