import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { ENV, KNOWN_SCOPES } from '@hyper/s2s-contracts';
import type { Jwks } from '@hyper/s2s-signer';
import {
  type Logger,
  migrate,
  pgReplayStore,
  type ReplayDb,
  type ReplayPurger,
  type S2sAuthenticatedRequest,
  s2sMiddleware,
  startPurger,
  type TUNING_ENV,
  type Verifier,
  verifierFromEnv,
} from '@hyper/s2s-verifier';
import { prometheusMetrics } from '@hyper/s2s-verifier/prometheus';
import pg from 'pg';
import { Registry } from 'prom-client';
import { adminPage } from './admin.js';
import { CORE_AUDIENCE, LITE_ISSUER } from './gateway.js';

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** Core's integration endpoints and the scope each requires. */
export const ROUTES = {
  '/integrations/spaces': KNOWN_SCOPES[0],
  '/integrations/join-tokens': KNOWN_SCOPES[1],
} as const;

/** ADR 0031's mode: Core reads the gateway's JWKS from S2S_JWKS_URL (and the tuning variables given). */
export interface JwksUrlKeys {
  jwksUrl: string;
  /** Extra verifier variables, e.g. S2S_JWKS_CACHE_MAX_AGE_MS. */
  tuning?: Partial<Record<(typeof TUNING_ENV)[keyof typeof TUNING_ENV], string>>;
}

/** One line of Core's structured log, as the logger received it. */
export interface CoreLogEntry {
  level: 'info' | 'warn';
  msg?: string;
  [field: string]: unknown;
}

export interface CoreOptions {
  /**
   * Where Core's log lines also go (any pino-shaped logger): the verifier's `s2s_auth_rejected` (with the
   * 503 `cause`), JWKS fetch failures, the purger's runs and failures, idle database client errors.
   * They are always kept in `CoreServer.log` too.
   */
  logger?: Logger;
}

/** The most recent log lines `CoreServer.log` keeps (a long `--serve` run must not grow without bound). */
const LOG_LINES_KEPT = 1000;

/** Core's logger: keeps the last lines in memory (the demo's summary, the tests) and forwards them. */
function coreLogger(forward: Logger | undefined): Logger & { entries: CoreLogEntry[] } {
  const entries: CoreLogEntry[] = [];
  const keep = (level: CoreLogEntry['level'], obj: object, msg?: string) => {
    entries.push({ level, ...(msg === undefined ? {} : { msg }), ...obj });
    if (entries.length > LOG_LINES_KEPT) entries.splice(0, entries.length - LOG_LINES_KEPT);
  };
  return {
    entries,
    info(obj, msg) {
      keep('info', obj, msg);
      forward?.info(obj, msg);
    },
    warn(obj, msg) {
      keep('warn', obj, msg);
      forward?.warn(obj, msg);
    },
  };
}

export interface CoreServer {
  readonly url: string;
  readonly database: string;
  readonly keyset: Jwks;
  /** The running verifier (JWKS mode: the operator's `refreshKeys()`). */
  readonly verifier: Verifier;
  /** The replay purger, started with Core's metrics and logger (`runNow()` purges at once). */
  readonly purger: ReplayPurger;
  /** Core's most recent log lines (see CoreOptions.logger). */
  readonly log: readonly CoreLogEntry[];
  /** Rotation steps "add/remove the public key in Core's keyset, deploy Core": a new verifier, same store. */
  deploy(keyset: Jwks): void;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

async function openDatabase(
  logger: Logger,
): Promise<{ db: ReplayDb; label: string; close(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    // An idle connection's error (a database restart) must not crash Core: the store answers 503 meanwhile.
    pool.on('error', (error) => logger.warn({ err: error.message }, 'idle postgres client error'));
    return { db: pool, label: 'PostgreSQL (DATABASE_URL)', close: () => pool.end() };
  }
  const lite = await PGlite.create();
  return { db: lite, label: 'PGlite (embedded, in-process)', close: () => lite.close() };
}

/** `GET /health`: `verifier.health()` as JSON, 200 when keys and replay store are both usable, else 503. */
export const HEALTH_PATH = '/health';

export async function startCore(
  initialKeys: Jwks | JwksUrlKeys,
  port = 0,
  options: CoreOptions = {},
): Promise<CoreServer> {
  const logger = coreLogger(options.logger);
  const database = await openDatabase(logger);
  // Throws while the database is unreachable: Core does not start without it.
  await migrate(database.db);
  const replayStore = pgReplayStore({ db: database.db, logger });
  const registry = new Registry();
  const metrics = prometheusMetrics({ registry });
  // Every 5 minutes; each run counts in s2s_replay_purge_runs_total, failures are logged (warn).
  const purger = startPurger(replayStore, { metrics, logger });
  const admin = adminPage(registry);

  let keyset: Jwks = 'jwksUrl' in initialKeys ? { keys: [] } : initialKeys;
  let guards = new Map<string, Handler>();
  let verifier: Verifier;
  const deploy = (next: Jwks | JwksUrlKeys) => {
    const keys =
      'jwksUrl' in next
        ? { [ENV.jwksUrl]: next.jwksUrl, ...next.tuning }
        : { [ENV.publicKeysJson]: JSON.stringify(next) };
    // Exactly what production reads: the contract's variables, through verifierFromEnv.
    verifier = verifierFromEnv({
      replayStore,
      metrics,
      logger,
      env: { ...keys, [ENV.audience]: CORE_AUDIENCE, [ENV.allowedIssuers]: LITE_ISSUER },
    });
    guards = new Map(
      Object.entries(ROUTES).map(([path, scope]) => [path, s2sMiddleware(verifier, { scope, path })]),
    );
    if (!('jwksUrl' in next)) keyset = next;
  };
  deploy(initialKeys);

  const server: Server = createServer((req, res) => {
    if (admin.handle(req, res)) return;
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === HEALTH_PATH) {
      // For operators and monitoring: which dependency fails and why. Not a readiness probe: the JWKS and
      // the database are shared, so it fails on every replica at once (README "S2sFailingClosed").
      verifier.health().then((health) => {
        res.writeHead(health.keys && health.replayStore ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        });
        res.end(JSON.stringify(health));
      });
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      });
      return;
    }
    const guard = guards.get(path);
    if (!guard || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    guard(req, res, () => {
      const { claims } = (req as S2sAuthenticatedRequest).s2s;
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ created: path, for: claims.sub }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${bound}`,
    database: database.label,
    get keyset() {
      return keyset;
    },
    get verifier() {
      return verifier;
    },
    purger,
    log: logger.entries,
    deploy,
    metrics: () => registry.metrics(),
    async close() {
      await purger.stop();
      admin.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
}
