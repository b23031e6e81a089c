export { freePort, type OwnPostgres, startOwnPostgres } from './own-postgres.js';
