export { type Io, main, USAGE } from './cli.js';
export { type CoreOptions, DEFAULT_CONCURRENCY, runCoreChecks } from './core.js';
export { JWKS_PATH, type JwksServer, serveKitJwks } from './jwks-server.js';
export { kitEnvironment, kitIssuers, toDotenv, vectorFile } from './kit.js';
export { DEFAULT_TOKEN_COUNT, jwkProblems, type LiteOptions, runLiteChecks } from './lite.js';
export { type Answer, present, reasonOf } from './present.js';
export { type CheckResult, formatJunit, formatTable, type Report } from './report.js';
