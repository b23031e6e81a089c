import { createHmac, randomBytes, sign } from 'node:crypto';
import { type SignedContent, utf8Length } from '@hyper/s2s-contracts';
import { testPrivateKey, testPublicKeyPem, vectorFile } from './kit.js';

const TIME_CLAIMS = ['exp', 'iat', 'nbf'] as const;
const b64u = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/**
 * Replaces a jti's first (up to 32) bytes with fresh random hex of the same UTF-8 length, so runs
 * against a persistent replay store never collide; the same jti maps to the same new one in a run.
 */
export class JtiRenamer {
  readonly #renamed = new Map<string, string>();

  rename(jti: string): string {
    let known = this.#renamed.get(jti);
    if (known === undefined) {
      known = freshPrefix(jti, randomBytes(16).toString('hex'));
      this.#renamed.set(jti, known);
    }
    return known;
  }
}

function freshPrefix(jti: string, hex: string): string {
  const target = Math.min(32, utf8Length(jti));
  let cut = 0;
  let bytes = 0;
  for (const char of jti) {
    if (bytes >= target) break;
    bytes += utf8Length(char);
    cut += char.length;
  }
  return hex.slice(0, bytes) + jti.slice(cut);
}

/**
 * A vector's header and claims re-signed for now: exp, iat and nbf moved by (now - file now), the jti
 * renamed unless the vector is about the jti itself (refused before the replay store, never recorded).
 * Returns undefined when the vector carries no recipe (raw JSON texts, edited signatures).
 */
export function resign(
  signed: SignedContent | undefined,
  nowSeconds: number,
  jtis: JtiRenamer,
  keepJti: boolean,
): string | undefined {
  if (signed === undefined) return undefined;
  const shift = nowSeconds - vectorFile.now;
  const claims: Record<string, unknown> = { ...signed.claims };
  for (const name of TIME_CLAIMS) {
    const value = claims[name];
    if (typeof value === 'number') claims[name] = value + shift;
  }
  if (!keepJti && typeof claims.jti === 'string' && claims.jti !== '') claims.jti = jtis.rename(claims.jti);
  const input = `${b64u(JSON.stringify(signed.header))}.${b64u(JSON.stringify(claims))}`;
  const alg = signed.header.alg;
  if (signed.signingKid === null) {
    // The two forgeries: alg none (empty signature) and HS256 keyed with the kid's public key PEM.
    if (alg === 'none') return `${input}.`;
    if (alg === 'HS256' && typeof signed.header.kid === 'string') {
      const mac = createHmac('sha256', testPublicKeyPem(signed.header.kid)).update(input).digest();
      return `${input}.${mac.toString('base64url')}`;
    }
    return undefined;
  }
  const key = testPrivateKey(signed.signingKid);
  const keyAlg = vectorFile.testPrivateKeys.keys.find((k) => k.kid === signed.signingKid)?.alg;
  const data = Buffer.from(input, 'ascii');
  const signature =
    keyAlg === 'ES256'
      ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
      : sign(alg === 'RS512' ? 'sha512' : 'sha256', data, key);
  return `${input}.${signature.toString('base64url')}`;
}

/** Whether the expected reason is about the jti claim (then the jti is presented exactly as in the file). */
export const aboutJti = (reason: string): boolean => reason.endsWith('(jti)');
