import { type CryptoKey, createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { importAll } from './import.js';
import type { KeyInfo } from './jwk-policy.js';
import { validateKeySet } from './keyset.js';
import type { KeySource, KeysHealth, KeysReport, RefreshReport } from './source.js';

/** A keyset fixed at startup (HYPER_S2S_JWT_PUBLIC_KEYS_JSON); validated before anything verifies. */
class StaticKeySource implements KeySource {
  readonly refreshable = false;
  readonly resolve: JWTVerifyGetKey;
  readonly #index: Map<string, KeyInfo>;
  // The keyset never changes, so the CryptoKey createLocalJWKSet imports for a kid is kept with the
  // kid and handed to jwtVerify directly: no per-call keyset matching.
  readonly #imported = new Map<string, KeyInfo>();

  constructor(jwks: unknown, field: string) {
    this.#index = validateKeySet(jwks, field);
    const local = createLocalJWKSet(jwks as JSONWebKeySet);
    this.resolve = async (header, token) => {
      const key = (await local(header, token)) as CryptoKey;
      const info = header.kid === undefined ? undefined : this.#index.get(header.kid);
      if (info !== undefined && info.alg === header.alg) this.#imported.set(info.kid, { ...info, key });
      return key;
    };
  }

  lookup(kid: string): KeyInfo | undefined {
    return this.#imported.get(kid) ?? this.#index.get(kid);
  }

  async warmup(): Promise<KeysReport> {
    const kids = await importAll(this.resolve, this.#index.values());
    return { keys: kids.length > 0, kids };
  }

  async healthy(): Promise<KeysHealth> {
    return this.#index.size > 0 ? { ok: true } : { ok: false, cause: 'error' };
  }

  /** A static keyset changes only with a redeploy: nothing to fetch, the loaded keys are the keys. */
  async refresh(): Promise<RefreshReport> {
    return { refreshed: true, ...(await this.warmup()) };
  }
}

export function staticKeySource(jwks: unknown, field: string): KeySource {
  return new StaticKeySource(jwks, field);
}
