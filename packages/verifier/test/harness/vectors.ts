import { loadVectors, type Sequence, type Vector, type VectorFile } from '@hyper/s2s-contracts';
import type { JSONWebKeySet } from 'jose';
import type { VerifierOptions } from '../../src/options.js';
import { memoryReplayStore } from '../../src/replay/memory.js';

export const file: VectorFile = loadVectors();

/**
 * The options every vector (or sequence) is verified with: the file's fixed now, issuer, audience and
 * algorithms, unless the case overrides them.
 */
export function vectorOptions(vector: Vector | Sequence, keys: VerifierOptions['keys']): VerifierOptions {
  return {
    keys,
    audience: file.audience,
    issuers: ('issuers' in vector ? vector.issuers : undefined) ?? [file.issuer],
    algorithms: vector.algorithms ?? file.algorithms,
    replayStore: memoryReplayStore({ now: () => file.now * 1000 }),
    now: () => file.now * 1000,
  };
}

export const staticKeys = (): VerifierOptions['keys'] => ({ jwks: file.jwks as JSONWebKeySet });

/** A route template, as a real caller passes it (never text from the vector). */
export const VECTOR_ROUTE = '/integrations/spaces';
