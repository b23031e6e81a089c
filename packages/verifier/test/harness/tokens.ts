import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, importPKCS8, type JWK, SignJWT } from 'jose';
import { file } from './vectors.js';

export interface TestKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** The vector file's published test keys (public half from file.jwks). */
export async function vectorKey(kid: string): Promise<TestKey> {
  const entry = file.testPrivateKeys.keys.find((key) => key.kid === kid);
  const publicJwk = file.jwks.keys.find((key) => key.kid === kid);
  if (!entry || !publicJwk) throw new Error(`no test key ${kid}`);
  return {
    kid,
    alg: entry.alg,
    privateKey: await importPKCS8(entry.pkcs8Pem, entry.alg),
    publicJwk: publicJwk as JWK,
  };
}

/** A fresh key pair, for keys the vector file does not have. */
export async function freshKey(kid: string, alg: 'RS256' | 'ES256' = 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TokenClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  scope?: string;
  jti?: string;
  iatOffset?: number;
  /** Epoch seconds; default: iat. */
  nbf?: number;
  ttl?: number;
}

/** A conforming token signed now (epoch seconds `now`); `header` adds protected header members. */
export async function sign(
  key: TestKey,
  now: number,
  claims: TokenClaims = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const iat = now + (claims.iatOffset ?? 0);
  return new SignJWT({
    iss: claims.iss ?? file.issuer,
    sub: claims.sub ?? 'hyper-lite-gateway',
    aud: claims.aud ?? file.audience,
    exp: iat + (claims.ttl ?? 60),
    iat,
    nbf: claims.nbf ?? iat,
    scope: claims.scope ?? 'spaces:create',
    jti: claims.jti ?? randomUUID(),
  })
    .setProtectedHeader({ ...header, alg: key.alg, typ: 'JWT', kid: key.kid })
    .sign(key.privateKey);
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
