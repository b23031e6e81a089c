import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJwksHandler, createSigner, type Signer } from '@hyper/s2s-signer';

export const LITE_ISSUER = 'hyper-lite';
export const LITE_SUBJECT = 'hyper-lite-gateway';
export const CORE_AUDIENCE = 'hyper-core';

export interface LiteGateway {
  readonly url: string;
  signer: Signer;
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
  const jwks = createJwksHandler({ jwks: () => signer.jwks() });
  const server: Server = createServer((req, res) => jwks(req, res));
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
    switchKey(next) {
      signer = liteSigner(next);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
