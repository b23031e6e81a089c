import type { IncomingMessage } from 'node:http';
import type { Claims } from '@hyper/s2s-contracts';
import {
  type CanActivate,
  createParamDecorator,
  type DynamicModule,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Module,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { VerifierUsageError } from '../errors.js';
import type { VerifyFailure, VerifySuccess } from '../result.js';
import type { Verifier } from '../verifier.js';
import { callContext } from '../verify-options.js';
import { checkVerifier } from './adapter-options.js';
import { bearerCredentialFrom } from './authorization.js';
import { checkRetryAfter, rejectionBody, rejectionHeaders } from './challenge.js';
import { authorizationValues } from './node.js';
import { UNMATCHED_ROUTE } from './route-label.js';

export interface S2sNestOptions {
  verifier: Verifier;
  /** Retry-After on 503, in seconds; default 1. */
  retryAfterSeconds?: number;
}

/** Injection token of the `S2sNestOptions` the guard uses (provided by `S2sModule.forRoot`). */
export const S2S_OPTIONS = Symbol.for('@hyper/s2s-verifier/nest:options');
const SCOPE_METADATA = '@hyper/s2s-verifier/nest:scope';

/** The scope(s) a handler or controller requires; every one must be granted. */
export function RequireS2sScope(
  ...scopes: [string | readonly string[], ...string[]]
): MethodDecorator & ClassDecorator {
  const scope = scopes.length === 1 ? scopes[0] : scopes.flat();
  // Checked when the route is declared, before any request: the path here only satisfies the check.
  callContext({ scope, path: UNMATCHED_ROUTE }, '@hyper/s2s-verifier/nest: RequireS2sScope');
  return SetMetadata(SCOPE_METADATA, scope);
}

/**
 * A rejection: the status and `{ reason }` body, thrown after the guard set the RFC 6750 challenge,
 * Retry-After and Cache-Control headers on the response (so Nest's exception layer sends them).
 */
export class S2sRejectionException extends HttpException {
  readonly result: VerifyFailure;
  constructor(result: VerifyFailure) {
    super(JSON.parse(rejectionBody(result)) as object, result.status);
    this.result = result;
  }
}

type PlatformRequest = IncomingMessage & {
  raw?: IncomingMessage;
  route?: { path?: unknown };
  routeOptions?: { url?: unknown };
  s2s?: VerifySuccess;
};
type PlatformResponse = {
  header?: (name: string, value: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
};

/** The route template on either platform: Express `req.route.path`, Fastify `request.routeOptions.url`. */
function routeTemplate(request: PlatformRequest): string {
  const template = request.routeOptions?.url ?? request.route?.path;
  return typeof template === 'string' && template.length > 0 ? template : UNMATCHED_ROUTE;
}

function setHeader(response: PlatformResponse, name: string, value: string): void {
  if (typeof response.header === 'function') response.header(name, value);
  else response.setHeader?.(name, value);
}

/**
 * Verifies the bearer token against the scope of `@RequireS2sScope` (handler, else controller) and
 * sets `request.s2s`. A guarded route without a required scope is a programmer error, never open.
 */
export class S2sGuard implements CanActivate {
  private readonly options: S2sNestOptions;
  private readonly reflector: Reflector;

  constructor(options: S2sNestOptions, reflector: Reflector) {
    checkVerifier(options?.verifier, '@hyper/s2s-verifier/nest: the S2S_OPTIONS provider');
    checkRetryAfter(options.retryAfterSeconds);
    this.options = options;
    this.reflector = reflector;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scope = this.reflector.getAllAndOverride<string | readonly string[] | undefined>(SCOPE_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (scope === undefined) {
      throw new VerifierUsageError(
        `@hyper/s2s-verifier/nest: ${context.getClass().name}.${context.getHandler().name} uses S2sGuard without @RequireS2sScope`,
      );
    }
    const http = context.switchToHttp();
    const request = http.getRequest<PlatformRequest>();
    const credential = bearerCredentialFrom(authorizationValues(request.raw ?? request));
    const result = await this.options.verifier.verify(credential, { scope, path: routeTemplate(request) });
    if (result.ok) {
      request.s2s = result;
      return true;
    }
    const retryAfterSeconds = this.options.retryAfterSeconds;
    const headers = rejectionHeaders(result, {
      scope,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
    const response = http.getResponse<PlatformResponse>();
    for (const [name, value] of Object.entries(headers)) setHeader(response, name, value);
    throw new S2sRejectionException(result);
  }
}
// Explicit tokens: the guard works without emitDecoratorMetadata (esbuild, swc, oxc builds).
Injectable()(S2sGuard);
Inject(S2S_OPTIONS)(S2sGuard, undefined, 0);
Inject(Reflector)(S2sGuard, undefined, 1);

/** The verified claims of the request (`@S2sClaims() claims: Claims`); only behind `S2sGuard`. */
export const S2sClaims: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Claims | undefined =>
    context.switchToHttp().getRequest<PlatformRequest>().s2s?.claims,
);

/** `S2sModule.forRoot({ verifier })`: provides `S2S_OPTIONS` and `S2sGuard` to the whole app. */
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; forRoot is the Nest idiom.
export class S2sModule {
  static forRoot(options: S2sNestOptions): DynamicModule {
    return {
      module: S2sModule,
      global: true,
      providers: [{ provide: S2S_OPTIONS, useValue: options }, S2sGuard],
      exports: [S2S_OPTIONS, S2sGuard],
    };
  }
}
Module({})(S2sModule);
