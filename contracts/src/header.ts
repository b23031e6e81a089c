import { z } from 'zod';
import { MAX_KID_LENGTH, SUPPORTED_ALGORITHMS, TOKEN_TYPE } from './constants.js';

/**
 * The protected header a conforming token carries. Other members are allowed (and ignored, including
 * jku/x5u/jwk/x5c), except an unknown `crit`, which the verifier refuses.
 */
export const ProtectedHeaderSchema = z.looseObject({
  alg: z.enum(SUPPORTED_ALGORITHMS),
  typ: z
    .string()
    .refine((typ) => typ.toUpperCase() === TOKEN_TYPE, { message: `typ must be "${TOKEN_TYPE}"` }),
  kid: z.string().min(1).max(MAX_KID_LENGTH),
});

export type ProtectedHeader = z.infer<typeof ProtectedHeaderSchema>;
