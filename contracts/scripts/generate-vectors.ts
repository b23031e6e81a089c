/**
 * Writes the canonical vector file and its JSON Schema. Deterministic: running it again reproduces
 * both files byte for byte (a test checks this).
 *
 *   pnpm vectors
 */
import { writeFileSync } from 'node:fs';
import { toCanonicalJson, vectorFileJsonSchema } from '../src/json-schema.js';
import { VECTOR_FILE_PATH, VECTOR_SCHEMA_PATH } from '../src/load-vectors.js';
import { VectorFileSchema } from '../src/vector-file.js';
import { buildVectorFile } from './build-vector-file.js';

const file = buildVectorFile(VECTOR_FILE_PATH);
VectorFileSchema.parse(file);
writeFileSync(VECTOR_FILE_PATH, toCanonicalJson(file));
writeFileSync(VECTOR_SCHEMA_PATH, toCanonicalJson(vectorFileJsonSchema()));
console.log(`wrote ${file.vectors.length} vectors to ${VECTOR_FILE_PATH}`);
