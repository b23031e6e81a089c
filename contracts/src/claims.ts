import { z } from 'zod';
import { MAX_ISS_LENGTH, MAX_JTI_LENGTH, MAX_SCOPE_LENGTH, SCOPE_PATTERN } from './constants.js';
import { isStorableText, utf8Length } from './text.js';

const nonEmpty = z.string().min(1);
const seconds = z.number().refine(Number.isFinite, { message: 'must be a finite number of seconds' });

/** A string the replay store can record: 1 to `max` UTF-8 bytes, no U+0000. */
const storable = (max: number) =>
  z
    .string()
    .min(1)
    .refine((s) => utf8Length(s) <= max, { message: `must be at most ${max} UTF-8 bytes` })
    .refine(isStorableText, { message: 'must not contain U+0000' });

/** RFC 6749 §3.3 scope string: one or more scope-tokens separated by single spaces. */
export const ScopeStringSchema = z.string().max(MAX_SCOPE_LENGTH).regex(SCOPE_PATTERN);

/** All eight claims are required; the types are the contract's (DESIGN.md "Claims"). */
export const ClaimsSchema = z.looseObject({
  iss: storable(MAX_ISS_LENGTH),
  sub: nonEmpty,
  aud: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
  exp: seconds,
  iat: seconds,
  nbf: seconds,
  scope: ScopeStringSchema,
  jti: storable(MAX_JTI_LENGTH),
});

export type Claims = z.infer<typeof ClaimsSchema>;
