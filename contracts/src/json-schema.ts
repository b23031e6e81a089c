import { z } from 'zod';
import { VectorFileSchema } from './vector-file.js';

/** The JSON Schema of the vector file, for readers in other languages (Rust Core). */
export function vectorFileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(VectorFileSchema, { target: 'draft-2020-12', unrepresentable: 'any' }),
    $id: 'https://hyper.invalid/schemas/s2s-jwt-auth-test-vectors.schema.json',
    title: 'S2S JWT auth test vectors (Hyper Lite -> Hyper Core)',
  };
}

/** Canonical serialisation of both generated JSON files: two-space indent, trailing newline. */
export function toCanonicalJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
