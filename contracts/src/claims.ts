import { z } from 'zod';
import { MAX_JTI_LENGTH, MAX_SCOPE_LENGTH, SCOPE_PATTERN } from './constants.js';

const nonEmpty = z.string().min(1);
const seconds = z.number().refine(Number.isFinite, { message: 'must be a finite number of seconds' });

/** RFC 6749 §3.3 scope string: one or more scope-tokens separated by single spaces. */
export const ScopeStringSchema = z.string().max(MAX_SCOPE_LENGTH).regex(SCOPE_PATTERN);

/** All eight claims are required; the types are the contract's (DESIGN.md "Claims"). */
export const ClaimsSchema = z.looseObject({
  iss: nonEmpty,
  sub: nonEmpty,
  aud: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
  exp: seconds,
  iat: seconds,
  nbf: seconds,
  scope: ScopeStringSchema,
  jti: z.string().min(1).max(MAX_JTI_LENGTH),
});

export type Claims = z.infer<typeof ClaimsSchema>;
