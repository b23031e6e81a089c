import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildVectorFile } from '../scripts/build-vector-file.js';
import { toCanonicalJson, VECTOR_FILE_PATH, VECTOR_SCHEMA_PATH, vectorFileJsonSchema } from '../src/index.js';

describe('generated files', () => {
  it('the vector file is exactly what the generator produces (never hand-edited)', () => {
    expect(toCanonicalJson(buildVectorFile(VECTOR_FILE_PATH))).toBe(readFileSync(VECTOR_FILE_PATH, 'utf8'));
  });

  it('the JSON Schema is not stale (regenerate with `pnpm vectors`)', () => {
    expect(toCanonicalJson(vectorFileJsonSchema())).toBe(readFileSync(VECTOR_SCHEMA_PATH, 'utf8'));
  });

  it('regenerates ES256 tokens that verify when no committed token can be reused', () => {
    const fresh = buildVectorFile();
    const committed = JSON.parse(readFileSync(VECTOR_FILE_PATH, 'utf8'));
    const a = fresh.vectors.find((v) => v.id === 'valid-es256-when-allowed')!;
    const b = committed.vectors.find((v: { id: string }) => v.id === 'valid-es256-when-allowed');
    expect(a.token.split('.').slice(0, 2)).toEqual(b.token.split('.').slice(0, 2));
    expect(a.token.split('.')[2]).toHaveLength(86);
  });
});
