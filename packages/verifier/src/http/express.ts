import type { VerifySuccess } from '../result.js';

export type { AdapterOptions } from './adapter-options.js';
export { s2sMiddleware } from './node.js';

// Express 4 and 5 types both build their Request and Locals on these global interfaces
// (@types/express-serve-static-core), so one augmentation types `req.s2s` and `res.locals.s2s` for
// both, without importing express: the root entry point stays free of Express types.
declare global {
  namespace Express {
    interface Request {
      /** Set by `s2sMiddleware`; only routes behind it may read it. */
      s2s: VerifySuccess;
    }
    interface Locals {
      /** Set by `s2sMiddleware`; only routes behind it may read it. */
      s2s: VerifySuccess;
    }
  }
}
