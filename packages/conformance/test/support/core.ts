import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryReplayStore, type ReplayStore, verifierFromEnv } from '@hyper/s2s-verifier';
import { bearerCredential, rejectionBody, rejectionHeaders } from '@hyper/s2s-verifier/http';
import { kitEnvironment, vectorFile } from '../../src/index.js';

/** Deliberate defects, one per conformance check that must catch it. */
export interface Flaws {
  /** A replay store that never remembers anything. */
  noReplayStore?: boolean;
  /** 401 instead of 403 for a valid token without the required scope. */
  forbiddenAs401?: boolean;
  /** Accepts HS256 tokens keyed with a public key PEM (algorithm confusion). */
  acceptHs256?: boolean;
  /** No clock skew tolerance. */
  skewZero?: boolean;
  /** No exp - iat bound. */
  noTtlBound?: boolean;
  /**
   * A store that checks (iss, jti) and then records (iss, jti, exp) without holding anything between the
   * two (a time-partitioned table whose primary key holds exp, probed before the insert without a lock).
   */
  racyAcrossExps?: boolean;
  /** The status an authorised call gets (default 200; a create route answers 201). */
  successStatus?: number;
  /** Rejections with the right status, but a body reason of the Core's own words (SPEC.md HTTP2). */
  ownReasonWords?: boolean;
}

export const ROUTES: Record<string, string> = {
  '/integrations/spaces': 'spaces:create',
  '/integrations/join-tokens': 'join_tokens:issue',
};

export const ENDPOINTS = new Map(Object.entries(ROUTES).map(([path, scope]) => [scope, path]));

const publicPems = vectorFile.jwks.keys.map(
  (jwk) =>
    createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    }) as string,
);

/** An HS256 token whose MAC is keyed with one of the public key PEMs (what a confused verifier accepts). */
function hmacWithAPublicKey(token: string): boolean {
  const [h, p, s] = token.split('.');
  if (h === undefined || p === undefined || s === undefined) return false;
  try {
    if (JSON.parse(Buffer.from(h, 'base64url').toString()).alg !== 'HS256') return false;
  } catch {
    return false;
  }
  return publicPems.some((pem) => createHmac('sha256', pem).update(`${h}.${p}`).digest('base64url') === s);
}

/** See Flaws.racyAcrossExps: each presentation of one token still conflicts on its own row. */
function racyAcrossExps(): ReplayStore {
  const keys = new Set<string>();
  const rows = new Set<string>();
  return {
    async remember({ iss, jti, exp }) {
      if (keys.has(`${iss}\n${jti}`)) return false;
      // The insert's round trip, with no lock held since the probe.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const row = `${iss}\n${jti}\n${exp}`;
      if (rows.has(row)) return false;
      rows.add(row);
      keys.add(`${iss}\n${jti}`);
      return true;
    },
    purge: async () => 0,
  };
}

/** A small Core on node:http (port 0), configured exactly from `hyper-s2s-conformance env`. */
export async function startCore(flaws: Flaws = {}) {
  const verifier = verifierFromEnv({
    env: kitEnvironment(),
    replayStore: flaws.noReplayStore
      ? { remember: async () => true, purge: async () => 0 }
      : flaws.racyAcrossExps
        ? racyAcrossExps()
        : memoryReplayStore(),
    ...(flaws.skewZero ? { clockToleranceSeconds: 0 } : {}),
  });
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    const scope = ROUTES[path];
    req.resume();
    if (scope === undefined) {
      res.writeHead(404).end();
      return;
    }
    const credential = bearerCredential(req.headers.authorization);
    if (flaws.acceptHs256 && credential && hmacWithAPublicKey(credential)) {
      res.writeHead(200).end('{}');
      return;
    }
    void verifier.verify(credential, { scope, path }).then((result) => {
      if (result.ok || (flaws.noTtlBound && result.reason === 'ttl_exceeded')) {
        res.writeHead(flaws.successStatus ?? 200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      const status = flaws.forbiddenAs401 && result.status === 403 ? 401 : result.status;
      const body = flaws.ownReasonWords
        ? JSON.stringify({ reason: 'token_rejected' })
        : rejectionBody(result);
      res.writeHead(status, rejectionHeaders(result, { scope })).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
