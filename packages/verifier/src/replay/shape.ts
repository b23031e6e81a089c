import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { column, type ReplayDb } from './db.js';
import { ReplayStoreError } from './errors.js';
import { REPLAY_TABLE_NAME } from './migration-sql.js';
import { REMEMBER_FUNCTION } from './partitioned-sql.js';
import type { ReplayLayout } from './pg.js';

/**
 * The facts `migrate` checks about an existing replay table: kind ('r' single, 'p' partitioned),
 * primary-key columns in order, partition key, and how retain_until is produced. No row: no table.
 */
const SHAPE_SQL = `SELECT c.relkind::text AS kind,
  (SELECT array_agg(a.attname::text ORDER BY k.ord)
     FROM pg_constraint con
     CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
    WHERE con.conrelid = c.oid AND con.contype = 'p') AS pk,
  (SELECT a.attgenerated::text FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attname = 'retain_until' AND NOT a.attisdropped) AS generated,
  (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
     JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    WHERE d.adrelid = c.oid AND a.attname = 'retain_until') AS retain_expr,
  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partkey,
  to_regprocedure('${REMEMBER_FUNCTION}(text[],text[],bigint[])') IS NOT NULL AS has_remember
FROM pg_class c WHERE c.oid = to_regclass('${REPLAY_TABLE_NAME}')`;

/** retain_until as the migration writes it, with casts, spaces and parentheses stripped. */
const RETAIN_EXPRESSION = `to_timestampexp+${REPLAY_RETENTION_SECONDS}::doubleprecision`;

function strip(expression: unknown): string {
  return typeof expression === 'string' ? expression.replace(/[\s()]/g, '') : '';
}

function list(value: unknown): string {
  return Array.isArray(value) ? `(${value.join(', ')})` : 'none';
}

/**
 * Refuses (ERR_S2S_REPLAY_SCHEMA) a replay table this SDK would misuse: wrong primary key (uniqueness
 * would not be per (iss, jti)), a retain_until that is not generated from exp (the purge would delete
 * by a value it does not control), or another layout than the one asked for.
 */
export async function checkReplayShape(
  db: ReplayDb,
  layout: ReplayLayout | undefined,
  options: { allowMissing: boolean },
): Promise<ReplayLayout | undefined> {
  const { rows } = await db.query(SHAPE_SQL);
  const row = rows[0];
  if (row === undefined) {
    if (options.allowMissing) return undefined;
    throw refuse('does not exist after migration');
  }
  const kind = column(row, 'kind');
  const found: ReplayLayout | undefined = kind === 'r' ? 'single' : kind === 'p' ? 'partitioned' : undefined;
  if (found === undefined) throw refuse(`is not a table (relkind ${String(kind)})`);
  if (layout !== undefined && layout !== found) {
    throw refuse(
      `has the ${found} layout, not the ${layout} layout asked for` +
        (found === 'single' ? ' (convert it online with convertToPartitioned, see REPLAY.md)' : ''),
    );
  }
  const pk = column(row, 'pk');
  const expectedPk = found === 'single' ? ['iss', 'jti'] : ['iss', 'jti', 'exp'];
  if (list(pk) !== list(expectedPk)) {
    throw refuse(`has primary key ${list(pk)}, expected ${list(expectedPk)}`);
  }
  if (column(row, 'generated') !== 's' || strip(column(row, 'retain_expr')) !== RETAIN_EXPRESSION) {
    throw refuse(
      `has a retain_until that is not GENERATED ALWAYS AS (to_timestamp(exp + ${REPLAY_RETENTION_SECONDS})) STORED`,
    );
  }
  if (found === 'partitioned') {
    if (column(row, 'partkey') !== 'RANGE (exp)') {
      throw refuse(`is partitioned by ${String(column(row, 'partkey'))}, expected RANGE (exp)`);
    }
    if (column(row, 'has_remember') !== true && !options.allowMissing) {
      throw refuse(`is partitioned but ${REMEMBER_FUNCTION} is missing`);
    }
  }
  return found;
}

function refuse(what: string): ReplayStoreError {
  return new ReplayStoreError(
    'ERR_S2S_REPLAY_SCHEMA',
    `replay table ${REPLAY_TABLE_NAME} ${what}; refusing to use or purge it`,
  );
}
