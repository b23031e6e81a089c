import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJwksHandler, createSigner, type Signer } from '@hyper/s2s-signer';

export const LITE_ISSUER = 'hyper-lite';
export const LITE_SUBJECT = 'hyper-lite-gateway';
export const CORE_AUDIENCE = 'hyper-core';

export interface LiteGateway {
  readonly url: string;
  signer: Signer;
  /** The key the gateway signs with now (changes with switchKey). */
  readonly key: { kid: string; privateKeyPem: string };
  /** Serves `handler` for every path but the JWKS (the demo's curl routes). */
  mount(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** Rotation step "update Hyper Lite's key and kid, deploy Lite". */
  switchKey(key: { kid: string; privateKeyPem: string }): void;
  close(): Promise<void>;
}

const warnings: object[] = [];
/** Lite's structured auth log (category meetings.hypervideo.auth): kept to show it carries no token. */
export const liteAuthLog = {
  info() {},
  warn(obj: object) {
    warnings.push(obj);
  },
  entries: warnings,
};

export function liteSigner(
  key: { kid: string; privateKeyPem: string },
  overrides: Partial<Parameters<typeof createSigner>[0]> = {},
): Signer {
  return createSigner({
    key,
    issuer: LITE_ISSUER,
    subject: LITE_SUBJECT,
    audience: CORE_AUDIENCE,
    logger: liteAuthLog,
    ...overrides,
  });
}

/** The Lite gateway: holds the signing key and publishes its JWKS (ADR 0030's gateway JWKS). */
export async function startLiteGateway(
  key: { kid: string; privateKeyPem: string },
  port = 0,
): Promise<LiteGateway> {
  let signer = liteSigner(key);
  let current = key;
  let mounted: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const jwks = createJwksHandler({ jwks: () => signer.jwks() });
  const server: Server = createServer((req, res) =>
    jwks(req, res, mounted === undefined ? undefined : () => mounted?.(req, res)),
  );
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    get signer() {
      return signer;
    },
    set signer(value) {
      signer = value;
    },
    get key() {
      return current;
    },
    mount(handler) {
      mounted = handler;
    },
    switchKey(next) {
      signer = liteSigner(next);
      current = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
