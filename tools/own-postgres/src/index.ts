export { type OwnPostgres, startOwnPostgres } from './own-postgres.js';
