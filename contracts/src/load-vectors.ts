import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type VectorFile, VectorFileSchema } from './vector-file.js';

/** Absolute path of the canonical vector file shipped with this package. */
export const VECTOR_FILE_PATH = fileURLToPath(new URL('../s2s-jwt-auth-test-vectors.json', import.meta.url));

/** Absolute path of the JSON Schema of the vector file. */
export const VECTOR_SCHEMA_PATH = fileURLToPath(
  new URL('../s2s-jwt-auth-test-vectors.schema.json', import.meta.url),
);

/**
 * Reads and validates the canonical vectors; throws if the file does not match its schema.
 *
 * @example
 * ```ts
 * import { loadVectors } from '@hyper/s2s-contracts';
 *
 * const file = loadVectors(); // the canonical vectors, validated against their schema
 * for (const vector of file.vectors) {
 *   console.log(vector.id, vector.scope, vector.expect); // evaluate each at file.now with file.jwks
 * }
 * ```
 */
export function loadVectors(path: string = VECTOR_FILE_PATH): VectorFile {
  return VectorFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}
