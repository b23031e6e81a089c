// `@hyper/s2s-verifier/http`: building blocks for an adapter of your own (the shipped ones are
// s2sMiddleware and authenticateRequest on the root, and the fastify/nest/express subpaths).
export type { AdapterOptions } from './adapter-options.js';
export { bearerCredential } from './authorization.js';
export {
  DEFAULT_RETRY_AFTER_SECONDS,
  type RejectionOptions,
  rejectionBody,
  rejectionHeaders,
} from './challenge.js';
export { rejectionResponse } from './fetch.js';
