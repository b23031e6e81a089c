import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
} from 'fastify';
import fp from 'fastify-plugin';
import type { VerifySuccess } from '../result.js';
import type { Verifier } from '../verifier.js';
import { callContext, type VerifyOptions } from '../verify-options.js';
import { checkVerifier } from './adapter-options.js';
import { bearerCredentialFrom } from './authorization.js';
import { checkRetryAfter, type RejectionOptions, rejectionBody, rejectionHeaders } from './challenge.js';
import { authorizationValues } from './node.js';
import { UNMATCHED_ROUTE } from './route-label.js';

export interface S2sFastifyOptions {
  verifier: Verifier;
  /** Retry-After on 503, in seconds; default 1. */
  retryAfterSeconds?: number;
}

export interface S2sRequireOptions {
  /** Overrides the plugin's Retry-After for this route. */
  retryAfterSeconds?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * An `onRequest` hook that lets only tokens granting every given scope through; the metric
     * `path` label is the route template (`request.routeOptions.url`), never the raw URL.
     */
    s2sRequire(scope: string | readonly string[], options?: S2sRequireOptions): onRequestHookHandler;
  }
  interface FastifyRequest {
    /** Set by an `s2sRequire` hook; only routes guarded by one may read it. */
    s2s: VerifySuccess;
  }
}

async function plugin(app: FastifyInstance, options: S2sFastifyOptions): Promise<void> {
  const { verifier } = options;
  checkVerifier(verifier, '@hyper/s2s-verifier/fastify: options.verifier');
  checkRetryAfter(options.retryAfterSeconds);
  // Fastify 5 wants request decorators declared up front; null keeps the request shape stable.
  app.decorateRequest('s2s', null as unknown as VerifySuccess);
  app.decorate('s2sRequire', (scope: string | readonly string[], routeOptions: S2sRequireOptions = {}) => {
    // Scope is programmer input: refuse a bad one when the route is declared, not per request.
    callContext({ scope, path: UNMATCHED_ROUTE }, '@hyper/s2s-verifier/fastify: s2sRequire');
    checkRetryAfter(routeOptions.retryAfterSeconds);
    const retryAfterSeconds = routeOptions.retryAfterSeconds ?? options.retryAfterSeconds;
    const rejection: RejectionOptions = {
      scope,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    };
    return async function s2sOnRequest(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
      const verifyOptions: VerifyOptions = { scope, path: request.routeOptions.url ?? UNMATCHED_ROUTE };
      const credential = bearerCredentialFrom(authorizationValues(request.raw));
      const result = await verifier.verify(credential, verifyOptions);
      if (result.ok) {
        request.s2s = result;
        return undefined;
      }
      // Returning the reply tells Fastify the hook answered: the handler does not run.
      return reply
        .code(result.status)
        .headers(rejectionHeaders(result, rejection))
        .send(rejectionBody(result));
    };
  });
}

/**
 * Fastify 5 plugin: `await app.register(s2sAuth, { verifier })`, then
 * `{ onRequest: app.s2sRequire('spaces:create') }` on a route. Rejections go through `reply` with the
 * same status, JSON body, WWW-Authenticate and Retry-After as the other adapters.
 */
const s2sAuth: FastifyPluginAsync<S2sFastifyOptions> = fp(plugin, {
  fastify: '5.x',
  name: '@hyper/s2s-verifier',
});

export default s2sAuth;
