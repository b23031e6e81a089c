import { z } from 'zod';
import { MAX_KID_LENGTH, SUPPORTED_ALGORITHMS, TOKEN_TYPE } from './constants.js';
import { utf8Length } from './text.js';

const TYP = new RegExp(`^${TOKEN_TYPE}$`, 'i');

/**
 * The protected header a conforming token carries. Other members are allowed (and ignored, including
 * jku/x5u/jwk/x5c), except `crit` in any form (SPEC.md H4: no extension is understood, so none may be
 * critical).
 */
export const ProtectedHeaderSchema = z
  .looseObject({
    alg: z.enum(SUPPORTED_ALGORITHMS),
    // ASCII case folding only: "jwt" is accepted, "application/jwt" is not (SPEC.md H1).
    typ: z.string().refine((typ) => TYP.test(typ), { message: `typ must be "${TOKEN_TYPE}"` }),
    kid: z
      .string()
      .min(1)
      .refine((kid) => utf8Length(kid) <= MAX_KID_LENGTH, {
        message: `kid must be at most ${MAX_KID_LENGTH} UTF-8 bytes`,
      }),
  })
  .refine((header) => !Object.hasOwn(header, 'crit'), {
    message: 'crit must not be present (SPEC.md H4)',
    path: ['crit'],
  });

export type ProtectedHeader = z.infer<typeof ProtectedHeaderSchema>;
