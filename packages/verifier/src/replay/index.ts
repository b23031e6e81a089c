// `@hyper/s2s-verifier/replay`: the replay store's advanced parts (online conversion to partitions,
// the migration text for your own runner, defaults). What a service calls (pgReplayStore,
// memoryReplayStore, migrate, startPurger) and the types their answers have are on the root;
// ReplayLayout and the purge types stay here too, so imports written against earlier releases work.
export { type ConvertOptions, type ConvertOutcome, convertToPartitioned } from './convert.js';
export {
  DEFAULT_MEMORY_MAX_ENTRIES,
  DEFAULT_REPLAY_ANTICIPATE_MS,
  DEFAULT_REPLAY_TIMEOUT_MS,
  MAX_REPLAY_ANTICIPATE_MS,
} from './options.js';
export type { ReplayLayout } from './pg.js';
export type { PurgeOutcome, PurgeRunOptions, PurgeSource } from './purge.js';
export {
  PARTITION_SECONDS as REPLAY_PARTITION_SECONDS,
  REPLAY_MIGRATION_FILE,
  REPLAY_MIGRATION_SQL,
  REPLAY_PARTITIONED_MIGRATION_FILE,
  REPLAY_PARTITIONED_MIGRATION_SQL,
  REPLAY_TABLE_NAME,
} from './sql.js';
