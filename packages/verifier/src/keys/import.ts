import type { JWTVerifyGetKey } from 'jose';
import type { KeyInfo } from './jwk-policy.js';

/**
 * Asks the resolver for every key so jose imports and caches the CryptoKeys now rather than on the
 * first request. Resolves the kids that imported.
 */
export async function importAll(resolve: JWTVerifyGetKey, keys: Iterable<KeyInfo>): Promise<string[]> {
  const kids: string[] = [];
  await Promise.all(
    Array.from(keys, async ({ kid, alg }) => {
      try {
        await resolve({ alg, kid }, { payload: '', signature: '' });
        kids.push(kid);
      } catch {
        // Left out of the report; verification with this kid fails closed.
      }
    }),
  );
  return kids.sort();
}
